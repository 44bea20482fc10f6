"""`smcost pipeline`: the scheduled job, run end to end in local mode, twice, under its lock."""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys

import duckdb

from smcost.demo import generate
from smcost_testing import REPO, withhold_billing_period


def pipeline(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smcost", "pipeline", *args], cwd=REPO, env=env, capture_output=True, text=True
    )


def summary_of(result: subprocess.CompletedProcess) -> dict:
    last = result.stdout.strip().splitlines()[-1]
    return json.loads(last)  # the one-line JSON summary is the last line on stdout


def make_env(tmp_path) -> dict:
    work = tmp_path / "profiles"
    work.mkdir()
    shutil.copy(REPO / "profiles.yml.example", work / "profiles.yml")
    inherited = {k: v for k, v in os.environ.items() if k not in ("SMCOST_DBT", "SMCOST_DUCKDB_STORAGE_VERSION")}
    return {
        **inherited,
        "DBT_PROFILES_DIR": str(work),
        "SMCOST_DUCKDB_PATH": str(tmp_path / "db.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def test_pipeline_runs_twice_second_run_incremental(tmp_path):
    lake = tmp_path / "lake"
    generate(str(lake), seed=5, months=3, start_month="2026-08")
    deliver_october = withhold_billing_period(lake, "2026-10", tmp_path / "october")
    env = make_env(tmp_path)
    common = [
        "--target",
        "local",
        "--lake",
        str(lake),
        "--skip-extract",
        "--lock-file",
        str(tmp_path / "lock"),
        "--vars",
        '{as_of_billing_period: "2026-09"}',
    ]

    first = pipeline(*common, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert summary_of(first)["status"] == "success"

    deliver_october()
    common[-1] = '{as_of_billing_period: "2026-10"}'
    second = pipeline(*common, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    result = summary_of(second)
    assert result["status"] == "success" and result["dbt"]["full_refresh"] is False
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        staged = {p for (p,) in con.execute("select distinct billing_period from stg_focus__charges").fetchall()}
        allocated = {
            p for (p,) in con.execute("select distinct billing_period from fct_sagemaker_cost_allocations").fetchall()
        }
    assert staged == {"2026-09", "2026-10"}  # the second run read only the lookback window
    assert allocated == {"2026-08", "2026-09", "2026-10"}
    # The scheduled build runs the models and data tests, never the unit tests (make test's).
    ran = {
        r["unique_id"].split(".")[0]
        for r in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    }
    assert {"model", "test"} <= ran and "unit_test" not in ran

    # The same run again, nothing new: dbt does not run, the database is the same file.
    before = (tmp_path / "db.duckdb").read_bytes(), (tmp_path / "target" / "run_results.json").stat().st_mtime_ns
    third = pipeline(*common, env=env)
    assert third.returncode == 0, third.stderr[-3000:]
    assert (summary_of(third)["status"], summary_of(third)["dbt"]["status"]) == ("up_to_date", "skipped")
    assert before == (
        (tmp_path / "db.duckdb").read_bytes(),
        (tmp_path / "target" / "run_results.json").stat().st_mtime_ns,
    )


def test_pipeline_refuses_to_overlap_a_running_one(tmp_path):
    lock_path = tmp_path / "lock"
    with open(lock_path, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = pipeline(
            "--skip-extract", "--lake", str(tmp_path), "--lock-file", str(lock_path), env=make_env(tmp_path)
        )
    assert result.returncode == 75
    assert summary_of(result) == {**summary_of(result), "status": "locked", "exit_code": 75}
    assert "another run holds" in result.stderr


def test_pipeline_reports_a_failed_build(tmp_path):
    env = make_env(tmp_path)  # an empty lake: the sources have no files, so dbt build fails
    result = pipeline(
        "--skip-extract", "--lake", str(tmp_path / "empty"), "--lock-file", str(tmp_path / "lock"), env=env
    )
    assert result.returncode == 6
    assert summary_of(result)["status"] == "dbt_failed"


def _no_aws(env: dict) -> dict:
    """Dummy credentials and a closed local endpoint: nothing can reach AWS or instance metadata."""
    return {
        **env,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }


def test_extract_args_are_split_with_shell_rules(tmp_path):
    stand_in = tmp_path / "dbt_stand_in.py"
    stand_in.write_text("import sys; sys.exit(0)\n")  # only the extract step is under test here
    env = _no_aws({**make_env(tmp_path), "SMCOST_DBT": shlex.join([sys.executable, str(stand_in)])})
    # A quoted value with a space: split on whitespace it became two stray arguments.
    extract_args = "--dry-run --regions 'us-east-1, eu-west-1' --accounts 111122223333 --role-name SmcostReadOnly"
    result = pipeline(
        "--target",
        "athena",
        "--lake",
        str(tmp_path / "lake"),
        "--lock-file",
        str(tmp_path / "lock"),
        "--extract-args",
        extract_args,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary_of(result)["extract"]["status"] == "complete"
    assert "regions      eu-west-1, us-east-1" in result.stderr  # the dry-run plan saw one --regions value


def test_extract_args_with_an_unclosed_quote_are_a_clear_error(tmp_path):
    result = pipeline(
        "--lake",
        str(tmp_path / "lake"),
        "--lock-file",
        str(tmp_path / "lock"),
        "--extract-args",
        "--role-name 'Smcost",
        env=make_env(tmp_path),
    )
    assert result.returncode == 2
    assert summary_of(result)["status"] == "bad_arguments"
    assert "--extract-args is not valid shell syntax (No closing quotation)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lock").exists()  # refused before taking the lock or starting anything


def test_a_database_path_that_is_not_duckdb_is_a_clear_error_and_stays_untouched(tmp_path):
    database = tmp_path / "smcost.duckdb"
    database.write_text("a spreadsheet export, saved under the wrong name\n")
    stand_in = tmp_path / "dbt_stand_in.py"
    stand_in.write_text("import sys; sys.exit(0)\n")
    env = {
        **make_env(tmp_path),
        "SMCOST_DUCKDB_PATH": str(database),
        "SMCOST_DBT": shlex.join([sys.executable, str(stand_in)]),
    }
    result = pipeline(
        "--skip-extract", "--lake", str(tmp_path / "lake"), "--lock-file", str(tmp_path / "lock"), env=env
    )
    assert result.returncode == 6
    assert summary_of(result)["status"] == "database_failed"
    assert f"cannot read the database {database}" in result.stderr and "Traceback" not in result.stderr
    assert database.read_text().startswith("a spreadsheet export")
    assert sorted(p.name for p in tmp_path.glob("smcost.duckdb*")) == ["smcost.duckdb"]


# A dbt stand-in for the skip and compaction rules: it writes the database the pipeline points it at
# (one table per build, so every build changes the file) and logs each call; it fails while a
# `fail` file exists, and with `sparse` it leaves most of the file free (a large table dropped).
_DBT_STAND_IN = """
import os, sys, duckdb
from pathlib import Path
work = Path(sys.argv[0]).parent
with open(work / "calls", "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
if (work / "fail").exists():
    sys.exit(1)
version = os.environ["SMCOST_DUCKDB_STORAGE_VERSION"]  # as the profile does
with duckdb.connect(os.environ["SMCOST_DUCKDB_PATH"], config={"storage_compatibility_version": version}) as con:
    count = len(con.execute("show tables").fetchall())
    con.execute(f"create table build_{count} as select {count} as n")
    if (work / "sparse").exists():
        con.execute("create or replace table ballast as select range as i, md5(range::varchar) as s from range(2000000)")
        con.execute("checkpoint")
        con.execute("drop table ballast")
        con.execute("checkpoint")
"""


def _stand_in_env(tmp_path) -> dict:
    stand_in = tmp_path / "dbt_stand_in.py"
    stand_in.write_text(_DBT_STAND_IN)
    return {**make_env(tmp_path), "SMCOST_DBT": shlex.join([sys.executable, str(stand_in)])}


def _dbt_calls(tmp_path) -> int:
    calls = tmp_path / "calls"
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_a_run_with_nothing_new_skips_dbt_and_any_change_to_what_dbt_reads_builds(tmp_path):
    lake, project = tmp_path / "lake", tmp_path / "project"
    (lake / "billing").mkdir(parents=True)
    (lake / "billing" / "part-0.parquet").write_bytes(b"PAR1")
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: stand_in\nmodel-paths: [models]\n")
    (project / "models" / "a.sql").write_text("select 1 as a\n")
    env = _stand_in_env(tmp_path)
    database = tmp_path / "db.duckdb"
    common = [
        "--skip-extract",
        "--lake",
        str(lake),
        "--project-dir",
        str(project),
        "--lock-file",
        str(tmp_path / "lock"),
    ]

    def run(*extra: str, env: dict = env) -> tuple[str, int]:
        result = pipeline(*common, *extra, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        return summary_of(result)["status"], _dbt_calls(tmp_path)

    assert run() == ("success", 1)
    assert (tmp_path / "db.duckdb.inputs.json").exists()
    skipped = pipeline(*common, env=env)
    assert (summary_of(skipped)["status"], summary_of(skipped)["dbt"]["status"]) == ("up_to_date", "skipped")
    assert "is up to date" in skipped.stderr and _dbt_calls(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.glob("db.duckdb*")) == ["db.duckdb", "db.duckdb.inputs.json"]

    # Each input that changes a build makes the next run build, and the run after it skip again.
    os.utime(lake / "billing" / "part-0.parquet", ns=(1, 1))  # a redelivered file, same name
    assert run() == ("success", 2) and run() == ("up_to_date", 2)
    (lake / "billing" / "part-1.parquet").write_bytes(b"PAR1")  # a new file
    assert run() == ("success", 3) and run() == ("up_to_date", 3)
    (project / "models" / "a.sql").write_text("select 2 as a\n")  # the code
    assert run() == ("success", 4) and run() == ("up_to_date", 4)
    assert run("--vars", '{as_of_billing_period: "2026-09"}') == ("success", 5)
    assert run("--vars", '{as_of_billing_period: "2026-09"}') == ("up_to_date", 5)
    assert run() == ("success", 6)  # the vars changed back
    assert run(env={**env, "SMCOST_FOCUS_TABLE": "other"}) == ("success", 7)  # the environment
    assert run("--always-build") == ("success", 8) and run("--full-refresh") == ("success", 9)
    assert run() == ("success", 10)  # --full-refresh is on the command line: the record is of that build
    with duckdb.connect(str(database)) as con:  # somebody wrote to the database
        con.execute("create table analyst_scratch as select 1 as x")
    assert run() == ("success", 11) and run() == ("up_to_date", 11)

    # A failed build leaves the record of the file it left in place: the next run builds.
    (lake / "billing" / "part-2.parquet").write_bytes(b"PAR1")
    (tmp_path / "fail").touch()
    failed = pipeline(*common, env=env)
    assert failed.returncode == 6 and _dbt_calls(tmp_path) == 12
    (tmp_path / "fail").unlink()
    assert run() == ("success", 13) and run() == ("up_to_date", 13)


def test_the_fingerprint_moves_with_the_month_the_run_is_as_of(tmp_path):
    from smcost.pipeline import inputs_fingerprint

    (tmp_path / "lake").mkdir()
    args = (REPO, tmp_path / "lake", ["dbt", "build"], {})
    assert inputs_fingerprint(*args, as_of="2026-11") == inputs_fingerprint(*args, as_of="2026-11")
    assert inputs_fingerprint(*args, as_of="2026-11") != inputs_fingerprint(*args, as_of="2026-12")


def test_a_build_that_leaves_the_file_mostly_free_space_is_compacted_before_the_swap(tmp_path):
    env = _stand_in_env(tmp_path)
    common = ["--skip-extract", "--lake", str(tmp_path / "lake"), "--lock-file", str(tmp_path / "lock")]
    (tmp_path / "lake").mkdir()
    (tmp_path / "sparse").touch()
    result = pipeline(*common, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    compacted = summary_of(result)["database"]["compacted"]
    database = tmp_path / "db.duckdb"
    assert compacted["free_share"] >= 0.25 and compacted["to_bytes"] == database.stat().st_size
    assert database.stat().st_size < compacted["from_bytes"] / 4  # the dropped table's blocks are gone
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select n from build_0").fetchall() == [(0,)]  # what was live is kept
        assert con.execute("select free_blocks from pragma_database_size()").fetchone() == (0,)
    (tmp_path / "sparse").unlink()
    result = pipeline(*common, "--always-build", env=env)
    assert "compacted" not in summary_of(result)["database"]  # a file without free space is left as built


def test_the_compaction_copy_runs_under_the_builds_memory_limit(tmp_path):
    """DuckDB's own default is 80% of RAM: the copy takes SMCOST_DUCKDB_MEMORY_LIMIT, as the build does
    (a limit DuckDB cannot read stops the copy with its message; the old file stays live)."""
    env = {**_stand_in_env(tmp_path), "SMCOST_DUCKDB_MEMORY_LIMIT": "not-a-size"}
    (tmp_path / "lake").mkdir()
    (tmp_path / "sparse").touch()
    result = pipeline(
        "--skip-extract", "--lake", str(tmp_path / "lake"), "--lock-file", str(tmp_path / "lock"), env=env
    )
    assert result.returncode != 0
    assert "cannot convert" in result.stderr and "Memory" in result.stderr, result.stderr[-3000:]  # DuckDB read it
    assert not list(tmp_path.glob("*.converting*"))  # no half-written copy or spill folder left behind


def test_the_fingerprinted_lake_is_the_one_dbt_reads(tmp_path, monkeypatch):
    from argparse import Namespace

    from smcost.pipeline import _lake_root

    monkeypatch.chdir(tmp_path)
    project = tmp_path / "project"
    assert _lake_root(Namespace(lake="lake", vars=None), project) == tmp_path / "lake"  # --lake: from here
    # --vars lake_root wins, relative to the project (dbt's working folder), as the sources read it.
    assert _lake_root(Namespace(lake="lake", vars="{lake_root: other}"), project) == project / "other"
    assert _lake_root(Namespace(lake="s3://bucket/lake", vars=None), project) is None
    assert _lake_root(Namespace(lake="lake", vars="{lake_root: 's3://bucket/x'}"), project) is None
