"""The DuckDB file, as analysts open it: with the `duckdb` CLI installed in .venv, while the pipeline runs.

The CLI (the duckdb-cli package) embeds its own DuckDB, which may be older than the library dbt
writes with: the file must be in a storage format it reads. And a dashboard holding the file open
must neither make `smcost pipeline` fail nor see a half-built database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import duckdb
import pytest

from smcost.demo import generate
from smcost.pipeline import DUCKDB_MEMORY_LIMIT, DUCKDB_STORAGE_VERSION
from smcost_testing import BIN, REPO, withhold_billing_period

CLI = BIN / "duckdb"
WAIT = 600  # seconds: a bound on each wait, never an assertion about speed


def readme_query() -> str:
    """The query the README tells analysts to run, taken from the README itself."""
    section = (REPO / "README.md").read_text().split("### Where things land locally", 1)[1]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1).strip()


def pipeline(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smcost", "pipeline", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def summary_of(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def make_env(work: Path, database: Path) -> dict:
    profiles = work / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(REPO / "profiles.yml.example", profiles / "profiles.yml")
    env = {k: v for k, v in os.environ.items() if k not in ("SMCOST_DBT", "SMCOST_DUCKDB_STORAGE_VERSION")}
    return {
        **env,
        "DBT_PROFILES_DIR": str(profiles),
        "SMCOST_DUCKDB_PATH": str(database),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def run_cli(database: Path, sql: str) -> subprocess.CompletedProcess:
    assert CLI.exists(), f"no {CLI}: `make install` installs the duckdb-cli package into .venv"
    return subprocess.run(
        [str(CLI), "-readonly", "-json", str(database), "-c", sql], capture_output=True, text=True, timeout=WAIT
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def storage_version(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        (tags,) = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()
    return dict(tags)["storage_version"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A demo lake with October withheld, built once by `smcost pipeline` (as of September)."""
    work = tmp_path_factory.mktemp("compat")
    lake = work / "lake"
    generate(str(lake), seed=5, months=3, start_month="2026-08")
    deliver_october = withhold_billing_period(lake, "2026-10", work / "october")
    database = work / "built" / "smcost.duckdb"
    result = pipeline(
        "--target",
        "local",
        "--lake",
        str(lake),
        "--skip-extract",
        "--lock-file",
        str(work / "lock"),
        "--vars",
        '{as_of_billing_period: "2026-09"}',
        env=make_env(work, database),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert summary_of(result)["database"]["swapped"] is True
    return {"lake": lake, "deliver_october": deliver_october, "database": database}


def copy_database(built, tmp_path) -> Path:
    database = tmp_path / "db" / "smcost.duckdb"
    database.parent.mkdir()
    shutil.copyfile(built["database"], database)
    return database


def test_profile_and_pipeline_agree_on_the_storage_version():
    profile = (REPO / "profiles.yml.example").read_text()
    assert f"env_var('SMCOST_DUCKDB_STORAGE_VERSION', '{DUCKDB_STORAGE_VERSION}')" in profile


def test_profile_and_pipeline_agree_on_the_memory_limit():
    """The pipeline's own database copies (compaction, conversion) are bounded like the build."""
    profile = (REPO / "profiles.yml.example").read_text()
    assert f"env_var('SMCOST_DUCKDB_MEMORY_LIMIT', '{DUCKDB_MEMORY_LIMIT}')" in profile


def test_the_installed_cli_opens_the_built_file_and_runs_the_readme_query(built):
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, timeout=WAIT).stdout
    assert version.startswith(f"v{metadata.version('duckdb-cli')} "), version  # a CLI of its own version
    assert storage_version(built["database"]) == f"{DUCKDB_STORAGE_VERSION}+"

    result = run_cli(built["database"], readme_query())
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    with duckdb.connect(str(built["database"]), read_only=True) as con:
        expected = con.execute(readme_query().rstrip(";")).fetchall()
    assert len(rows) == len(expected) > 10
    by_key = {(r["billing_period"], r["model"], r["team"]): r["cost"] for r in rows}
    for period, model, team, cost in expected:
        assert by_key[(period, model, team)] == pytest.approx(cost, rel=1e-9, abs=1e-6)
    assert {r["billing_period"] for r in rows} == {"2026-08", "2026-09"}


def test_a_reader_holding_the_file_open_neither_fails_the_run_nor_sees_a_partial_build(built, tmp_path):
    database = copy_database(built, tmp_path)
    lake = tmp_path / "lake"
    shutil.copytree(built["lake"], lake)
    built["deliver_october"](lake)
    query = (
        "select string_agg(distinct billing_period, ',' order by billing_period), count(*), "
        # exact decimals: a parallel sum of doubles may differ in its last digit from one query to the next
        "sum(effective_cost::decimal(38, 10))::varchar from fct_sagemaker_cost_allocations"
    )
    # A dashboard: a separate process holding the file open read-only, asking the same question twice.
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            f"con = duckdb.connect({str(database)!r}, read_only=True)\n"
            "for line in sys.stdin:\n"
            f"    print(repr(con.execute({query!r}).fetchone()), flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reader.stdin.write("ask\n")
        reader.stdin.flush()
        before = reader.stdout.readline().strip()
        assert before.startswith("('2026-08,2026-09',"), before if before else reader.stderr.read()

        result = pipeline(
            "--target",
            "local",
            "--lake",
            str(lake),
            "--skip-extract",
            "--lock-file",
            str(tmp_path / "lock"),
            "--vars",
            '{as_of_billing_period: "2026-10"}',
            env=make_env(tmp_path, database),
        )
        assert result.returncode == 0, result.stderr[-4000:]
        assert summary_of(result)["database"]["swapped"] is True

        reader.stdin.write("ask\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == before  # still the previous build, whole
        assert reader.poll() is None
    finally:
        reader.stdin.close()
        reader.wait(timeout=WAIT)

    with duckdb.connect(str(database), read_only=True) as con:  # a reader that reconnects sees the new build
        staged = {p for (p,) in con.execute("select distinct billing_period from stg_focus__charges").fetchall()}
        allocated = {
            p for (p,) in con.execute("select distinct billing_period from fct_sagemaker_cost_allocations").fetchall()
        }
    assert staged == {"2026-09", "2026-10"}  # incremental: it extended the copy of the previous build
    assert allocated == {"2026-08", "2026-09", "2026-10"}
    # No build copy or WAL left; the record of what the swapped-in file was built from.
    assert [p.name for p in database.parent.glob("smcost.duckdb.*")] == ["smcost.duckdb.inputs.json"]
    assert run_cli(database, readme_query()).returncode == 0


def test_a_failed_build_leaves_the_file_as_it_was(built, tmp_path):
    database = copy_database(built, tmp_path)
    before = sha256(database)
    result = pipeline(
        "--target",
        "local",
        "--lake",
        str(tmp_path / "empty-lake"),
        "--skip-extract",
        "--lock-file",
        str(tmp_path / "lock"),
        env=make_env(tmp_path, database),
    )
    assert result.returncode == 6
    assert summary_of(result)["status"] == "dbt_failed"
    assert sha256(database) == before
    assert list(database.parent.glob("smcost.duckdb.*")) == []
    assert run_cli(database, readme_query()).returncode == 0


def test_a_file_in_a_newer_storage_format_is_converted(built, tmp_path):
    newer = tmp_path / "db" / "smcost.duckdb"
    newer.parent.mkdir()
    with duckdb.connect() as con:  # what a build before the setting left: the library's own newest format
        con.execute(f"attach '{built['database']}' as old (read_only)")
        con.execute(f"attach '{newer}' as new (storage_version 'latest')")
        con.execute("copy from database old to new")
    if storage_version(newer) == f"{DUCKDB_STORAGE_VERSION}+":
        pytest.skip("this DuckDB library writes no newer format than the chosen one")
    stand_in = tmp_path / "dbt_stand_in.py"
    stand_in.write_text("import sys; sys.exit(0)\n")  # the conversion happens before dbt: no build needed
    env = {**make_env(tmp_path, newer), "SMCOST_DBT": shlex.join([sys.executable, str(stand_in)])}
    result = pipeline(
        "--target",
        "local",
        "--lake",
        str(built["lake"]),
        "--skip-extract",
        "--lock-file",
        str(tmp_path / "lock"),
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    database = summary_of(result)["database"]
    assert database["converted_from"] != database["storage_version"] == f"{DUCKDB_STORAGE_VERSION}+"
    assert storage_version(newer) == f"{DUCKDB_STORAGE_VERSION}+"
    with duckdb.connect(str(built["database"]), read_only=True) as a, duckdb.connect(str(newer), read_only=True) as b:
        count = "select count(*), sum(effective_cost::decimal(38, 10)) from fct_sagemaker_cost_allocations"
        assert a.execute(count).fetchone() == b.execute(count).fetchone()
    assert run_cli(newer, readme_query()).returncode == 0


# DuckDB prints its limit in binary units: 2GB (decimal, the default) is 1.8 GiB, 1GB is 953.6 MiB.
# dbt's threads likewise: one model at a time by default (the limit is the database's), or SMCOST_DBT_THREADS.
@pytest.mark.parametrize(
    ("setting", "printed", "threads_setting", "threads"), [(None, "1.8 GiB", None, 1), ("1GB", "953.6 MiB", "3", 3)]
)
def test_the_local_profile_bounds_duckdb_memory(tmp_path, setting, printed, threads_setting, threads):
    env = {**os.environ, "DBT_PROFILES_DIR": str(tmp_path), "SMCOST_DUCKDB_PATH": str(tmp_path / "db.duckdb")}
    for name, value in (("SMCOST_DUCKDB_MEMORY_LIMIT", setting), ("SMCOST_DBT_THREADS", threads_setting)):
        env.pop(name, None)
        if value:
            env[name] = value
    shutil.copy(REPO / "profiles.yml.example", tmp_path / "profiles.yml")
    command = [
        str(BIN / "dbt"),
        "show",
        "--inline",
        "select current_setting('memory_limit') as memory_limit",
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
    ]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.search(rf"(?<![0-9.]){re.escape(printed)}", result.stdout), result.stdout[-2000:]
    assert f"Concurrency: {threads} threads" in result.stdout, result.stdout[-2000:]
