#!/usr/bin/env python3
"""Benchmark `smcost demo` and `dbt build --target local` over the lakes it writes (prints figures).

Not a test: it measures, it does not assert. For each scale (1, and a big one: by default the scale
that writes about ten million FOCUS rows at three months), it runs

  1. `python -m smcost demo --scale N` in its own process: wall time, bill rows per second, peak RSS;
  2. `dbt build --target local` over that lake into a fresh DuckDB file: wall time, peak RSS.

Every run gets its own temporary folder: a copy of profiles.yml.example as DBT_PROFILES_DIR,
SMCOST_LAKE_ROOT and SMCOST_DUCKDB_PATH there, and dbt's --target-path/--log-path there too, so
nothing collides with other dbt runs in the repository. Peak memory comes from `/usr/bin/time -v`
when present, else from getrusage(RUSAGE_CHILDREN) in a small wrapper process per command.

    .venv/bin/python scripts/bench_demo.py            # scale 1 and the ~10M-row scale (minutes)
    .venv/bin/python scripts/bench_demo.py --quick    # scale 1 and scale 5 (seconds)
    .venv/bin/python scripts/bench_demo.py --big-scale 100 --no-dbt
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROWS_PER_REPLICA_3_MONTHS = 37_000  # about; the big default scale aims at ~10M bill rows
TEN_MILLION_SCALE = round(10_000_000 / ROWS_PER_REPLICA_3_MONTHS)  # 270
QUICK_SCALE = 5
TIME_V = Path("/usr/bin/time")

# Runs a command and writes the peak RSS (KiB) of its process tree to a file: the fallback for
# machines without GNU time. ru_maxrss of RUSAGE_CHILDREN is the largest waited-for descendant.
_RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(rc)\n"
)


@dataclass
class Measure:
    label: str
    returncode: int
    wall_s: float
    peak_rss_mib: float | None
    output: str


def measure(label: str, command: list[str], *, env: dict[str, str], cwd: Path, work: Path) -> Measure:
    """Run ``command``; wall time and peak resident memory of the process it starts."""
    log = work / f"{label}.out"
    if TIME_V.exists():
        report = work / f"{label}.time"
        full = [str(TIME_V), "-v", "-o", str(report), *command]
    else:
        report = work / f"{label}.rss"
        full = [sys.executable, "-c", _RUSAGE_WRAPPER, str(report), *command]
    started = time.perf_counter()
    with open(log, "w") as out:
        returncode = subprocess.call(full, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    peak = None
    if report.exists():
        text = report.read_text()
        if TIME_V.exists():
            match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            peak = int(match.group(1)) / 1024 if match else None
        elif text.strip():
            peak = int(text) / 1024
    return Measure(label, returncode, wall, peak, log.read_text(errors="replace"))


def bill_rows(lake: Path) -> int:
    files = (lake / "billing").glob("*/data/BILLING_PERIOD=*/*.parquet")
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def base_env(work: Path, lake: Path) -> dict[str, str]:
    profiles = work / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(REPO / "profiles.yml.example", profiles / "profiles.yml")
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles),
        "SMCOST_LAKE_ROOT": str(lake),
        "SMCOST_DUCKDB_PATH": str(work / "smcost.duckdb"),
        "SMCOST_TARGET": "local",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
        "PYTHONUNBUFFERED": "1",
    }


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def bench_scale(scale: int, args: argparse.Namespace, root: Path) -> list[dict]:
    work = root / f"scale-{scale}"
    work.mkdir()
    lake = work / "lake"
    env = base_env(work, lake)
    results = []
    print(f"\n== scale {scale}: generating ...", flush=True)
    gen = measure(
        f"demo-scale-{scale}",
        [
            sys.executable,
            "-m",
            "smcost",
            "demo",
            "--out",
            str(lake),
            "--seed",
            str(args.seed),
            "--months",
            str(args.months),
            "--scale",
            str(scale),
            "--focus-version",
            args.focus_version,
            "--quiet",
        ],
        env=env,
        cwd=REPO,
        work=work,
    )
    rows = bill_rows(lake) if gen.returncode == 0 else 0
    print(tail(gen.output, 6 if gen.returncode == 0 else 40), flush=True)
    results.append(
        {
            "step": "smcost demo",
            "scale": scale,
            "rows": rows,
            "wall_s": gen.wall_s,
            "rows_per_s": rows / gen.wall_s if gen.wall_s else 0.0,
            "peak_rss_mib": gen.peak_rss_mib,
            "status": "ok" if gen.returncode == 0 else f"FAILED rc={gen.returncode}",
            "note": f"lake {folder_mib(lake):,.0f} MiB" if lake.exists() else "",
        }
    )
    if gen.returncode != 0 or args.no_dbt:
        return results
    print(f"== scale {scale}: dbt build --target local ...", flush=True)
    dbt = measure(
        f"dbt-build-scale-{scale}",
        [
            str(BIN / "dbt"),
            "build",
            "--target",
            "local",
            "--vars",
            f'{{focus_version: "{args.focus_version}"}}',
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=env,
        cwd=REPO,
        work=work,
    )
    summary = re.findall(r"Done\. PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+(?: NO-OP=\d+)? TOTAL=\d+", dbt.output)
    print(tail(dbt.output, 4 if dbt.returncode == 0 else 60), flush=True)
    database = work / "smcost.duckdb"
    results.append(
        {
            "step": "dbt build",
            "scale": scale,
            "rows": rows,
            "wall_s": dbt.wall_s,
            "rows_per_s": rows / dbt.wall_s if dbt.wall_s else 0.0,
            "peak_rss_mib": dbt.peak_rss_mib,
            "status": "ok" if dbt.returncode == 0 else f"FAILED rc={dbt.returncode}",
            "note": (summary[-1] if summary else "")
            + (f"; db {database.stat().st_size / 2**20:,.0f} MiB" if database.exists() else ""),
        }
    )
    return results


def print_table(results: list[dict]) -> None:
    header = (
        f"{'step':<12} {'scale':>5} {'bill rows':>12} {'wall s':>9} {'rows/s':>11} {'peak RSS MiB':>13}  status / note"
    )
    print("\n" + header)
    print("-" * len(header))
    for r in results:
        rss = f"{r['peak_rss_mib']:,.0f}" if r["peak_rss_mib"] is not None else "n/a"
        print(
            f"{r['step']:<12} {r['scale']:>5} {r['rows']:>12,} {r['wall_s']:>9.1f} {r['rows_per_s']:>11,.0f} "
            f"{rss:>13}  {r['status']}{' - ' + r['note'] if r['note'] else ''}"
        )
    print(
        f"\npeak memory from {'/usr/bin/time -v' if TIME_V.exists() else 'getrusage(RUSAGE_CHILDREN)'}; "
        "rows/s of dbt build = bill rows / wall time"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--big-scale",
        type=int,
        default=TEN_MILLION_SCALE,
        help="the big run's --scale (default %(default)s: about ten million bill rows at 3 months)",
    )
    parser.add_argument("--quick", action="store_true", help=f"use --scale {QUICK_SCALE} for the big run")
    parser.add_argument("--no-dbt", action="store_true", help="only time the generator")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--focus-version", choices=["1.2", "1.0"], default="1.2")
    parser.add_argument("--work-dir", help="where the temporary lakes and DuckDB files go (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed at the end)")
    args = parser.parse_args(argv)
    big = QUICK_SCALE if args.quick else args.big_scale
    scales = sorted({1, big})
    root = Path(tempfile.mkdtemp(prefix="smcost-bench-", dir=args.work_dir))
    print(
        f"smcost benchmark: scales {scales}, seed {args.seed}, {args.months} months, FOCUS {args.focus_version}; "
        f"work folder {root}; {os.cpu_count()} CPUs",
        flush=True,
    )
    results: list[dict] = []
    try:
        for scale in scales:
            results += bench_scale(scale, args, root)
            if not args.keep:  # the big lake is large: free the disk before the next scale
                shutil.rmtree(root / f"scale-{scale}", ignore_errors=True)
    finally:
        print_table(results)
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
