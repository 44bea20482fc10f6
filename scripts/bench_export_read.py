#!/usr/bin/env python3
"""Benchmark what reading the export as AWS defines it costs (prints figures; not a test).

On a demo lake of `--scale` replicas it measures, in one process and one DuckDB connection:

  floor      one scan of the export's Parquet: count(*), sum(EffectiveCost) over every file;
  staging    the SELECT of stg_focus__charges as dbt compiles it (manifest filter, hidden-file rule,
             typing, ARN parsing, keys), with the manifests present;
  no-manifest the same SELECT compiled for the same lake without its manifests (every file read);
  inventory  the SELECT of stg_focus__export_files (the file inventory);
  pre-hook   the required-columns check (one parquet_schema read of every file).

Each figure is the best of `--repeat` runs, printed as a ratio to the floor.

    .venv/bin/python scripts/bench_export_read.py --scale 20
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def compiled(lake: Path, work: Path, models: list[str]) -> dict[str, str]:
    """The compiled SELECT of each model, and the rendered pre-hook of stg_focus__charges."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "profiles.yml").write_text((REPO / "profiles.yml.example").read_text())
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(work),
        "SMCOST_LAKE_ROOT": str(lake),
        "SMCOST_DUCKDB_PATH": str(work / "db.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    # compile renders the pre-hook too; run_query needs a connection, which compile opens.
    subprocess.run(
        [
            str(BIN / "dbt"),
            "compile",
            "--select",
            *models,
            "--full-refresh",
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    out = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in models:
            out[node["name"]] = node["compiled_code"]
    return out


def best(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        # Materialised, as dbt does: a count(*) over the SELECT would let DuckDB skip its columns.
        con.execute(f"create or replace temp table bench as {sql}")
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from smcost.demo import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lake = root / "lake"
        counts = generate(str(lake), scale=args.scale, months=3)
        with_manifests = compiled(lake, root / "a", ["stg_focus__charges", "stg_focus__export_files"])
        bare = root / "bare"
        shutil.copytree(lake, bare)
        shutil.rmtree(bare / "billing" / "sagemaker-focus" / "metadata")
        without = compiled(bare, root / "b", ["stg_focus__charges"])

        con = duckdb.connect()
        files = f"{lake}/billing/sagemaker-focus/data/**/*.parquet"
        floor = best(con, f"select count(*), sum(EffectiveCost) from read_parquet('{files}')", args.repeat)
        schema = best(con, f"select file_name, name from parquet_schema('{files}')", args.repeat)
        figures = {
            "staging (manifests)": best(con, with_manifests["stg_focus__charges"], args.repeat),
            "staging (no manifests)": best(con, without["stg_focus__charges"], args.repeat),
            "file inventory": best(con, with_manifests["stg_focus__export_files"], args.repeat),
            "pre-hook schema read": schema,
        }
    print(f"export: {counts['bill_rows']:,} rows (scale {args.scale}, 3 months); floor scan {floor * 1000:.0f} ms")
    for label, seconds in figures.items():
        print(f"  {label:<24} {seconds * 1000:8.0f} ms  {seconds / floor:6.1f}x floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
