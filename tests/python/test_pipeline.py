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
