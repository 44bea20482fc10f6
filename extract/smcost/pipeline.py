"""The scheduled job: extract the metadata, then `dbt build` (incremental), under a lock.

One run = `smcost extract --out <lake> ...` then `dbt build --target <target>`. A normal run
rebuilds the last var('lookback_billing_periods') billing periods; the first run (no marts yet)
and `--full-refresh` rebuild everything. A lock file keeps two runs from overlapping. The last
line on stdout is a one-line JSON summary for schedulers (cron, Airflow, Step Functions).

Exit status: 0 done; 3 built, but the extraction was partial (some units failed: see its
manifest; the next run fills them in); 5 extraction failed, nothing built; 6 dbt build failed;
75 another run holds the lock (try later); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

EXIT_OK, EXIT_EXTRACT_PARTIAL, EXIT_EXTRACT_FAILED, EXIT_DBT_FAILED, EXIT_LOCKED = 0, 3, 5, 6, 75
EXTRACT_PARTIAL = 3  # smcost extract's own code for a partial run
REPO_ROOT = Path(__file__).resolve().parents[2]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=["local", "athena"], default="local",
                        help="dbt target: local (DuckDB) or athena (default: %(default)s)")
    parser.add_argument("--lake", default=os.environ.get("SMCOST_LAKE_ROOT", "data/lake"),
                        help="where the extractor lands metadata: a folder (local) or s3://bucket/prefix "
                             "(default: $SMCOST_LAKE_ROOT or %(default)s)")
    parser.add_argument("--skip-extract", action="store_true",
                        help="build from what is already landed (e.g. the demo account)")
    parser.add_argument("--extract-args", default="",
                        help="extra arguments for `smcost extract`, quoted, e.g. \"--regions us-east-1,eu-west-1\"")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild every billing period")
    parser.add_argument("--vars", default=None, help="dbt --vars (YAML), e.g. '{focus_version: \"1.0\"}'")
    parser.add_argument("--project-dir", default=str(REPO_ROOT), help="the dbt project (default: this checkout)")
    parser.add_argument("--lock-file", default=None,
                        help="lock file (default: <project>/data/.smcost-pipeline.lock)")


def _dbt_command() -> list[str]:
    dbt = Path(sys.executable).parent / "dbt"
    return [str(dbt)] if dbt.exists() else ["dbt"]


def _step(command: list[str], cwd: str, env: dict) -> tuple[int, float]:
    started = time.perf_counter()
    # Output goes to stderr so the JSON summary stays the only thing on stdout.
    code = subprocess.run(command, cwd=cwd, env=env, stdout=sys.stderr, stderr=sys.stderr).returncode
    return code, round(time.perf_counter() - started, 1)


def run(args: argparse.Namespace) -> int:
    project = Path(args.project_dir).resolve()
    lock_path = Path(args.lock_file or project / "data" / ".smcost-pipeline.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    summary: dict = {"status": None, "target": args.target, "lake": args.lake,
                     "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    started = time.perf_counter()
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            summary.update(status="locked", exit_code=EXIT_LOCKED)
            print(f"smcost pipeline: another run holds {lock_path}; try again when it has finished",
                  file=sys.stderr)
            print(json.dumps(summary))
            return EXIT_LOCKED
        lock.write(str(os.getpid()))
        lock.flush()
        code = _run_steps(args, project, summary)
    summary.update(exit_code=code, duration_s=round(time.perf_counter() - started, 1))
    print(json.dumps(summary))
    return code


def _run_steps(args: argparse.Namespace, project: Path, summary: dict) -> int:
    env = {**os.environ, "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", str(project))}
    if not args.lake.startswith("s3://"):
        env["SMCOST_LAKE_ROOT"] = str(Path(args.lake).resolve())
    extract_code = 0
    if args.skip_extract:
        summary["extract"] = {"status": "skipped"}
    else:
        command = [sys.executable, "-m", "smcost", "extract", "--out", args.lake, *args.extract_args.split()]
        extract_code, seconds = _step(command, str(project), env)
        status = {0: "complete", EXTRACT_PARTIAL: "partial"}.get(extract_code, "failed")
        summary["extract"] = {"status": status, "exit_code": extract_code, "seconds": seconds}
        if status == "failed":
            summary["status"] = "extract_failed"
            return EXIT_EXTRACT_FAILED
    command = [*_dbt_command(), "build", "--target", args.target, "--project-dir", str(project)]
    if args.full_refresh:
        command.append("--full-refresh")
    if args.vars:
        command += ["--vars", args.vars]
    dbt_code, seconds = _step(command, str(project), env)
    summary["dbt"] = {"status": "success" if dbt_code == 0 else "failed", "exit_code": dbt_code, "seconds": seconds,
                      "full_refresh": args.full_refresh}
    if dbt_code != 0:
        summary["status"] = "dbt_failed"
        return EXIT_DBT_FAILED
    summary["status"] = "partial" if extract_code == EXTRACT_PARTIAL else "success"
    return EXIT_EXTRACT_PARTIAL if extract_code == EXTRACT_PARTIAL else EXIT_OK
