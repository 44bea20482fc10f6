"""Test helpers: run the real CLI and the real dbt against DuckDB files in temporary folders.

A module of its own (not conftest) so that test files import it unambiguously."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_dbt(
    args: list[str],
    *,
    lake_root: Path,
    database: Path,
    work: Path,
    vars: dict | None = None,
    check: bool = True,
    unit_tests: bool = False,
) -> subprocess.CompletedProcess:
    """Run dbt in the repo with its own target/log folders, so tests never collide with each other.

    A `build` leaves out the dbt unit tests unless asked: they read fixtures, not the lake, so one run
    proves them (tests/python/test_dbt_unit_tests.py) and the suite's other builds skip their ~15 s."""
    # dbt runs in the database's folder and opens it by its bare name, so the rendered profile — part
    # of what dbt's partial parsing checks — is the same in every test: the parse one test did is
    # reused by the next (PARSE_CACHE), instead of each of the suite's builds parsing the whole
    # project again (~8 s each). dbt re-checks every file's hash, so a stale cache only costs a parse.
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(work),
        "SMCOST_LAKE_ROOT": str(lake_root),
        "SMCOST_DUCKDB_PATH": database.name,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        # The suite's bills are small: two models at once overlap dbt's per-model overhead, and no
        # model comes near the memory limit (the profile's default of one is for large bills).
        "SMCOST_DBT_THREADS": os.environ.get("SMCOST_DBT_THREADS", "2"),
    }
    profile = work / "profiles.yml"
    if not profile.exists():
        profile.write_text((REPO / "profiles.yml.example").read_text())
    if args[0] == "build" and not unit_tests:
        args = [*args, "--exclude-resource-type", "unit_test"]
    target = work / "target"
    command = [str(BIN / "dbt"), *args, "--project-dir", str(REPO), "--target-path", str(target)]
    command += ["--log-path", str(work / "logs")]
    if vars:
        command += ["--vars", json.dumps(vars)]
    cached = _parse_cache_entry(vars, database)
    if cached is not None and cached.exists() and not (target / PARTIAL_PARSE).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target / PARTIAL_PARSE)
    database.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(command, cwd=database.parent, env=env, capture_output=True, text=True)
    if cached is not None and not cached.exists() and (target / PARTIAL_PARSE).exists():
        spare = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(target / PARTIAL_PARSE, spare)
        os.replace(spare, cached)  # atomic: the other xdist worker reads a whole file or none
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


# Where run_dbt keeps one parsed project per (vars, database file name) for the test session; set by
# conftest.py for the whole run (both xdist workers), absent outside pytest.
PARSE_CACHE = "SMCOST_TEST_DBT_PARSE_CACHE"
PARTIAL_PARSE = "partial_parse.msgpack"


def _parse_cache_entry(vars: dict | None, database: Path) -> Path | None:
    folder = os.environ.get(PARSE_CACHE)
    if not folder:
        return None
    key = hashlib.sha256(json.dumps([vars or {}, database.name], sort_keys=True).encode()).hexdigest()[:16]
    return Path(folder) / f"{key}.msgpack"


def run_smcost(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "smcost", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"smcost {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def withhold_billing_period(lake_root: Path, period: str, parking: Path) -> Callable[..., None]:
    """Take a billing period's delivery (data files and manifest) out of the lake, as if AWS had not
    delivered it yet; returns ``deliver(into=lake_root)``, which copies it into a lake (the parked
    delivery stays, so it can be delivered again, e.g. into a copy of the lake)."""
    from smcost import lake

    folders = [lake.billing_partition(period), lake.billing_manifest(period).rsplit("/", 1)[0]]
    for folder in folders:
        if (lake_root / folder).exists():
            (parking / folder).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(lake_root / folder), str(parking / folder))

    def deliver(into: Path = lake_root) -> None:
        for folder in folders:
            if (parking / folder).exists():
                shutil.copytree(parking / folder, into / folder)

    return deliver
