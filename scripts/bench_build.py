#!/usr/bin/env python3
"""The build's cost as ratios against floors measured in the same run (issue 15; `make bench`).

Not a test: it measures and prints one table, it asserts nothing. On a demo account of about
--rows bill rows over --months billing periods (the generator streams), it measures

  floor        one DuckDB scan of the export: BilledCost and EffectiveCost summed by period;
  peer         the query a user might write instead (CUDOS-style): one GROUP BY of the export by
               period, resource, usage type and two tag values, written to a table;
  full         `dbt build --full-refresh` of every period (wall time, peak RSS of the process tree);
  incremental  the run after one new month arrives: the months before it built first (not timed),
               then the last month delivered and `smcost pipeline` (the lookback window);
  no-op        `smcost pipeline` again with nothing new (it skips dbt), and `dbt build` again (what a
               rerun costs dbt itself);

and prints each as seconds, x floor and x peer, with peak RSS; then the full build's ten slowest
nodes with the bytes each model reads (its compiled SELECT re-run read-only under DuckDB's
profiler: the stand-in for Athena's bytes scanned); then the database's size against the export's.

    .venv/bin/python scripts/bench_build.py                     # ~1 M rows, 12 months (minutes)
    .venv/bin/python scripts/bench_build.py --rows 10000000     # the issue's 10 M (tens of minutes)

With --growth ROWS,ROWS,... it measures only full builds, one per size, and prints how seconds and
peak memory grow with rows: seconds per million rows between consecutive sizes (flat = linear), the
fixed cost a build pays whatever its size (the line's intercept), and peak RSS against the limit.

    .venv/bin/python scripts/bench_build.py --months 3 --growth 1000000,3000000,10000000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
sys.path[:0] = [str(SCRIPTS), str(REPO / "extract"), str(REPO / "tests" / "python")]

from bench_demo import BIN, base_env, bill_rows, folder_mib, measure  # noqa: E402
from smcost.demo import generate  # noqa: E402
from smcost.pipeline import duckdb_memory_limit  # noqa: E402
from smcost_testing import withhold_billing_period  # noqa: E402

ROWS_PER_REPLICA_MONTH = 23_000  # measured: 23,640 at --scale 1 and 7 over 12 months, 22,160 at --scale 80 over 3
START = "2025-11"  # twelve months ending where the default demo does (2026-10)


def scale_for(rows: int, months: int) -> int:
    """The demo --scale whose bill has about `rows` rows over `months` billing periods."""
    return max(1, round(rows / (ROWS_PER_REPLICA_MONTH * months)))


def month(index: int) -> str:
    """The index-th billing period from START, 0-based, as 'YYYY-MM'."""
    year, first = map(int, START.split("-"))
    total = first - 1 + index
    return f"{year + total // 12}-{total % 12 + 1:02d}"


def best_of(runs: int, query: str) -> float:
    """The fastest of `runs` executions of `query` on a fresh in-memory DuckDB (the floor's noise
    is the OS's file cache, which the first run warms for the rest)."""
    times = []
    for _ in range(runs):
        with duckdb.connect() as con:
            started = time.perf_counter()
            con.execute(query)
            times.append(time.perf_counter() - started)
    return min(times)


def floors(lake: Path) -> tuple[float, float]:
    files = f"'{lake}/billing/*/data/BILLING_PERIOD=*/*.parquet'"
    scan = f"select BillingPeriodStart, sum(BilledCost), sum(EffectiveCost) from read_parquet({files}) group by 1"
    peer = (
        # SkuMeter: the FOCUS 1.2 export's usage type (x_UsageType in 1.0).
        f"create table peer as select BillingPeriodStart, ResourceId, SkuMeter, Tags['team'] as team, "
        f"Tags['model'] as model, sum(BilledCost) as billed, sum(EffectiveCost) as effective "
        f"from read_parquet({files}) group by all"
    )
    return best_of(3, scan), best_of(3, peer)


def dbt_build(label: str, work: Path, env: dict, period: str, *extra: str):
    command = [str(BIN / "dbt"), "build", *extra, "--vars", json.dumps({"as_of_billing_period": period})]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    run = measure(label, command, env=env, cwd=REPO, work=work)
    if run.returncode:
        sys.exit(f"{label} failed:\n" + "\n".join(run.output.splitlines()[-40:]))
    return run


def pipeline_run(label: str, work: Path, env: dict, lake: Path, period: str):
    """`smcost pipeline` as a scheduler runs it (local target, the lake already landed)."""
    command = [str(BIN / "smcost"), "pipeline", "--skip-extract", "--lake", str(lake)]
    command += ["--lock-file", str(work / "pipeline.lock"), "--vars", json.dumps({"as_of_billing_period": period})]
    run = measure(label, command, env={**env, "DBT_TARGET_PATH": str(work / "target")}, cwd=REPO, work=work)
    if run.returncode:
        sys.exit(f"{label} failed:\n" + "\n".join(run.output.splitlines()[-40:]))
    return run, json.loads(run.output.strip().splitlines()[-1])


def dbt_threads(output: str) -> int | None:
    """The models dbt ran at once, from its own "Concurrency: N threads" line (the profile's setting)."""
    match = re.search(r"Concurrency: (\d+) threads", output)
    return int(match.group(1)) if match else None


def slowest_nodes(work: Path, top: int) -> list[tuple[str, float]]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    timed = sorted(((r["unique_id"], r["execution_time"]) for r in results), key=lambda r: -r[1])
    return timed[:top]


def bytes_read(database: Path, work: Path, model: str) -> int | None:
    """What the model's compiled SELECT reads (Parquet and database file), re-run read-only."""
    compiled = [
        path
        for path in (work / "target" / "compiled").rglob(f"{model}.sql")
        if "/models/" in str(path) and not any(part.endswith(".yml") for part in path.parts)  # not a test's SQL
    ]
    if len(compiled) != 1:
        return None
    sql = compiled[0].read_text().strip().rstrip(";")
    profile = work / "profile.json"
    with duckdb.connect(str(database), read_only=True) as con:
        con.execute("set memory_limit = '2GB'")
        con.execute("set enable_profiling = 'json'")
        con.execute(f"set profiling_output = '{profile}'")
        con.execute(f"create temp table bench_output as {sql}")
    return json.loads(profile.read_text())["io"]["total_bytes_read"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="bill rows to aim at (default %(default)s)")
    parser.add_argument("--months", type=int, default=12, help="billing periods (default %(default)s)")
    parser.add_argument("--top", type=int, default=10, help="slowest nodes to list (default %(default)s)")
    parser.add_argument("--work-dir", help="where the lake and databases go (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (printed at the end)")
    parser.add_argument(
        "--growth",
        metavar="ROWS,ROWS,...",
        type=lambda text: sorted(int(part) for part in text.split(",")),
        help="only full builds, one per size, and how time and memory grow with rows (e.g. 1000000,10000000)",
    )
    args = parser.parse_args(argv)
    if args.months < 2:
        parser.error("--months must be at least 2: the incremental run needs a month before the new one")
    scale = scale_for(args.rows, args.months)
    root = Path(tempfile.mkdtemp(prefix="smcost-bench-build-", dir=args.work_dir))
    try:
        return growth(args, root) if args.growth else bench(args, scale, root)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class SizeRun:
    """One size of a --growth run: its full build and what it left behind."""

    scale: int
    rows: int
    export_mib: float
    peer_s: float
    build_s: float
    peak_rss_mib: float | None
    database_mib: float
    node_seconds: dict[str, float]  # every node of the build
    threads: int | None  # the models dbt ran at once, as dbt reported it

    @property
    def millions(self) -> float:
        return self.rows / 1e6


def growth(args: argparse.Namespace, root: Path) -> int:
    """A full build per size, each on its own lake and database (removed before the next: a 10 M-row
    database is tens of GiB), and the growth between sizes."""
    runs: list[SizeRun] = []
    for target in args.growth:
        scale = scale_for(target, args.months)
        work = root / f"scale-{scale}"
        lake = work / "lake"
        print(f"generating {args.months} months at --scale {scale} under {work} ...", flush=True)
        generate(str(lake), seed=42, months=args.months, scale=scale, start_month=START)
        rows = bill_rows(lake)
        _, peer = floors(lake)
        print(f"full build of {rows:,} rows ...", flush=True)
        full = dbt_build("full", work, base_env(work, lake), month(args.months - 1), "--full-refresh")
        runs.append(
            SizeRun(
                scale=scale,
                rows=rows,
                export_mib=folder_mib(lake / "billing"),
                peer_s=peer,
                build_s=full.wall_s,
                peak_rss_mib=full.peak_rss_mib,
                database_mib=(work / "smcost.duckdb").stat().st_size / 2**20,
                node_seconds=dict(slowest_nodes(work, 10**6)),
                threads=dbt_threads(full.output),
            )
        )
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\nsmcost build growth: full `dbt build --full-refresh` per size, {args.months} billing periods, "
        f"{os.cpu_count()} CPUs, memory limit {duckdb_memory_limit()}, {runs[-1].threads} dbt threads\n"
    )
    header = (
        f"{'bill rows':>11} {'scale':>6} {'peer s':>7} {'full s':>8} {'x peer':>7} {'s per M rows':>13} "
        f"{'marginal s/M':>13} {'peak RSS MiB':>13} {'DB MiB':>8} {'DB x export':>12}"
    )
    print(header + "\n" + "-" * len(header))
    for previous, run in zip([None, *runs], runs, strict=False):
        marginal = (
            f"{(run.build_s - previous.build_s) / (run.millions - previous.millions):>13.1f}"
            if previous
            else f"{'':>13}"
        )
        print(
            f"{run.rows:>11,} {run.scale:>6} {run.peer_s:>7.2f} {run.build_s:>8.1f} {run.build_s / run.peer_s:>7.0f} "
            f"{run.build_s / run.millions:>13.1f} {marginal} {run.peak_rss_mib or 0:>13,.0f} "
            f"{run.database_mib:>8,.0f} {run.database_mib / run.export_mib:>12.0f}"
        )
    if len(runs) >= 2:
        first, last = runs[0], runs[-1]
        slope = (last.build_s - first.build_s) / (last.millions - first.millions)
        print(
            f"\nthe line through the smallest and largest size: {slope:.1f} s per million rows, intercept "
            f"{first.build_s - slope * first.millions:.1f} s (what a build pays at any size when growth is "
            "linear; below zero when time grows faster than the rows)"
        )
        # Where time grows faster than rows: the largest build's slowest nodes, as seconds per
        # million rows at each size (flat across a row = that node grows linearly).
        print(f"\n{'seconds per million rows, by size':<70}" + "".join(f"{run.millions:>9.2f}M" for run in runs))
        for unique_id in sorted(last.node_seconds, key=lambda node: -last.node_seconds[node])[: args.top]:
            kind, name = unique_id.split(".")[0], unique_id.split(".")[-1]
            per_million = "".join(f"{run.node_seconds.get(unique_id, 0.0) / run.millions:>10.2f}" for run in runs)
            print(f"{kind + ' ' + name:<70}{per_million}")
    return 0


def bench(args: argparse.Namespace, scale: int, root: Path) -> int:
    lake = root / "lake"
    print(f"generating {args.months} months at --scale {scale} under {root} ...", flush=True)
    generate(str(lake), seed=42, months=args.months, scale=scale, start_month=START)
    rows, export_mib = bill_rows(lake), folder_mib(lake / "billing")
    last, before = month(args.months - 1), month(args.months - 2)
    floor, peer = floors(lake)

    print("full build ...", flush=True)
    full_dir = root / "full"
    full_dir.mkdir()
    full_env = base_env(full_dir, lake)
    full = dbt_build("full", full_dir, full_env, last, "--full-refresh")
    full_db = full_dir / "smcost.duckdb"

    print("incremental: the months before the last, then the last month and a normal run ...", flush=True)
    inc_dir = root / "incremental"
    inc_dir.mkdir()
    inc_env = base_env(inc_dir, lake)
    inc_lake = root / "lake-without-last"
    shutil.copytree(lake, inc_lake)
    inc_env["SMCOST_LAKE_ROOT"] = str(inc_lake)
    deliver = withhold_billing_period(inc_lake, last, root / "parked")
    dbt_build("first", inc_dir, inc_env, before, "--full-refresh")
    deliver()
    inc_db = inc_dir / "smcost.duckdb"
    size_first = inc_db.stat().st_size
    # The scheduled job: the new month, then the same run again (it skips dbt: nothing it reads
    # changed), then dbt itself run again with nothing new (what a rerun costs without the skip).
    incremental, incremental_summary = pipeline_run("incremental", inc_dir, inc_env, inc_lake, last)
    size_incremental = inc_db.stat().st_size
    noop, noop_summary = pipeline_run("no-op", inc_dir, inc_env, inc_lake, last)
    if noop_summary["status"] != "up_to_date":
        sys.exit(f"the rerun with nothing new built instead of skipping: {noop_summary}")
    size_noop = inc_db.stat().st_size
    noop_dbt = dbt_build("no-op-dbt", inc_dir, inc_env, last)
    compacted = incremental_summary.get("database", {}).get("compacted")

    print(
        f"\nsmcost build benchmark: {rows:,} bill rows ({export_mib:,.0f} MiB of Parquet), {args.months} billing "
        f"periods, demo --scale {scale}; {os.cpu_count()} CPUs, memory limit {duckdb_memory_limit()}, "
        f"{dbt_threads(full.output)} dbt threads; every ratio from this run\n"
    )
    header = f"{'measure':<44} {'seconds':>9} {'x floor':>9} {'x peer':>8} {'peak RSS MiB':>13}"
    print(header + "\n" + "-" * len(header))

    def line(label: str, seconds: float, rss: float | None, note: str = "") -> None:
        rss_text = f"{rss:,.0f}" if rss is not None else ""
        print(f"{label:<44} {seconds:>9.2f} {seconds / floor:>9.1f} {seconds / peer:>8.1f} {rss_text:>13}  {note}")

    line("floor: one scan of the export", floor, None)
    line("peer: CUDOS-style GROUP BY into a table", peer, None)
    line("full dbt build", full.wall_s, full.peak_rss_mib, f"{rows / 1e6 / full.wall_s * 60:,.1f} M rows/min")
    line(
        f"incremental: 1 new month of {args.months}",
        incremental.wall_s,
        incremental.peak_rss_mib,
        f"{incremental.wall_s / full.wall_s:.2f} x full",
    )
    line("no-op: smcost pipeline again, nothing new", noop.wall_s, noop.peak_rss_mib, "skips dbt")
    line(
        "  (dbt build again, nothing new)",
        noop_dbt.wall_s,
        noop_dbt.peak_rss_mib,
        f"{noop_dbt.wall_s / full.wall_s:.2f} x full",
    )

    nodes = slowest_nodes(full_dir, args.top)
    build_seconds = sum(t for _, t in slowest_nodes(full_dir, 10**6))
    print(f"\n{'slowest nodes of the full build':<70} {'seconds':>8} {'share':>6} {'MiB read':>9}")
    for unique_id, seconds in nodes:
        kind, name = unique_id.split(".")[0], unique_id.split(".")[-1]
        read = bytes_read(full_db, full_dir, name) if kind == "model" else None
        read_text = f"{read / 2**20:,.0f}" if read is not None else ""
        share = seconds / build_seconds if build_seconds else 0.0
        print(f"{kind + ' ' + name:<70} {seconds:>8.2f} {share:>6.0%} {read_text:>9}")

    print(
        f"\ndatabase: {full_db.stat().st_size / 2**20:,.0f} MiB after the full build "
        f"({full_db.stat().st_size / 2**20 / export_mib:.1f} x the export's Parquet); incremental database "
        f"{size_first / 2**20:,.0f} -> {size_incremental / 2**20:,.0f} MiB after the new month -> "
        f"{size_noop / 2**20:,.0f} MiB after the no-op rerun"
        + (
            f" (the pipeline compacted the incremental build from {compacted['from_bytes'] / 2**20:,.0f} MiB)"
            if compacted
            else ""
        )
    )
    print(f"node times: median of all {statistics.median(t for _, t in slowest_nodes(full_dir, 10**6)):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
