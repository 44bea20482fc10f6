"""Bytes each model reads on a full versus an incremental run: DuckDB's stand-in for Athena's
"bytes scanned" (what Athena bills, $5 per TB).

Generates a demo account, runs `dbt build --full-refresh`, then a normal (incremental) run, both
pinned to the same "now" (as_of_billing_period). For each run it re-executes every model's
compiled SELECT on the built database with DuckDB's JSON profiler on and prints the bytes the
query read from files (io.total_bytes_read: the Parquet lake and the database file) and the ratio.

    .venv/bin/python scripts/bench_incremental.py [--scale 20] [--months 6]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "extract"))

from smcost.demo import generate  # noqa: E402


def dbt(args: list[str], env: dict, work: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}")


def bytes_per_model(database: Path, compiled: Path) -> dict[str, int]:
    """Re-run each model's SELECT as dbt does (CREATE TABLE AS), in a fresh read-only connection so
    no earlier query's cache hides what the model reads."""
    profile = Path(tempfile.mktemp(suffix=".json"))
    out: dict[str, int] = {}
    for path in sorted(compiled.rglob("*.sql")):
        if "/models/" not in str(path) or any(part.endswith(".yml") for part in path.parts):
            continue  # unit-test and data-test SQL are not models
        sql = path.read_text().strip().rstrip(";")
        with duckdb.connect(str(database), read_only=True) as con:
            con.execute("set enable_profiling = 'json'")
            con.execute(f"set profiling_output = '{profile}'")
            con.execute(f"create temp table model_output as {sql}")
            out[path.stem] = json.loads(profile.read_text())["io"]["total_bytes_read"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--lookback", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="smcost-bench-incremental-"))
    lake, database = work / "lake", work / "bench.duckdb"
    counts = generate(str(lake), seed=42, months=args.months, scale=args.scale, start_month="2026-01")
    last = f"2026-{args.months:02d}"
    shutil.copy(REPO / "profiles.yml.example", work / "profiles.yml")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(work),
        "SMCOST_LAKE_ROOT": str(lake),
        "SMCOST_DUCKDB_PATH": str(database),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    pinned = json.dumps({"as_of_billing_period": last, "lookback_billing_periods": args.lookback})

    dbt(["build", "--full-refresh", "--vars", pinned], env, work)
    full = bytes_per_model(database, work / "target" / "compiled" / "smcost")
    dbt(["build", "--vars", pinned], env, work)
    incremental = bytes_per_model(database, work / "target" / "compiled" / "smcost")

    print(
        f"demo account: {counts['bill_rows']:,} bill rows, {args.months} billing periods; incremental run "
        f"rebuilds the last {args.lookback}"
    )
    print(f"{'model':<52} {'full run':>14} {'incremental':>14} {'ratio':>7}")
    for model in sorted(full):
        f, i = full[model], incremental.get(model, 0)
        print(f"{model:<52} {f:>14,} {i:>14,} {i / f if f else 0:>7.2f}")
    total_f, total_i = sum(full.values()), sum(incremental.values())
    print(f"{'all models':<52} {total_f:>14,} {total_i:>14,} {total_i / total_f:>7.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
