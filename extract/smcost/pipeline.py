"""The scheduled job: extract the metadata, then `dbt build` (incremental), under a lock.

One run = `smcost extract --out <lake> ...` then `dbt build --target <target>`. A normal run
rebuilds the last var('lookback_billing_periods') billing periods; the first run (no marts yet)
and `--full-refresh` rebuild everything. A lock file keeps two runs from overlapping. The last
line on stdout is a one-line JSON summary for schedulers (cron, Airflow, Step Functions).

Exit status: 0 done; 3 built, but the extraction was partial (some units failed: see its
manifest; the next run fills them in); 5 extraction failed, nothing built; 6 dbt build failed
(or the DuckDB file could not be copied, converted or swapped: status "database_failed");
75 another run holds the lock (try later); 2 bad arguments; 143 / 130 / 129 stopped by SIGTERM /
SIGINT / SIGHUP.

Signals and the lock: each step runs in its own process group and inherits the locked file
descriptor, so the lock is held while any step is alive, even if this process is killed with
SIGKILL (a second run then exits 75 instead of overlapping the orphan). On SIGTERM, SIGINT or
SIGHUP the signal is forwarded to the running step's process group; after --grace-seconds the
group gets SIGKILL (a second signal: at once); then the run exits 128+signal with status
"terminated".

Local target (DuckDB): dbt builds a copy of the database (`<file>.building`, next to it) and the
copy replaces the file atomically (os.replace) only after a successful build, so a dashboard that
holds the file open never makes the run fail and keeps reading the previous build until it
reopens it; a failed or stopped build leaves the file as it was. New files are written in DuckDB
storage format $SMCOST_DUCKDB_STORAGE_VERSION (default v1.0.0: every DuckDB since 1.0 reads it);
a file in a newer format is converted on the next run.

Nothing new, nothing built (local target): after a successful build the pipeline records a
fingerprint of everything the build read beside the database (`<file>.inputs.json`): every file of
the lake (path, size, mtime), the dbt project's files (models, macros, seeds, data tests,
dbt_project.yml, the profile: by content), the dbt command line and --vars, the SMCOST_/DBT_
environment, the installed dbt and DuckDB versions, and the billing period the run is as of (the
UTC month: the lookback window moves with it). A run whose fingerprint equals the record, on the
database file the record was written for, skips dbt and reports status "up_to_date": the build
would recompute the same tables and re-run tests that passed on the same data. --full-refresh and
--always-build always build; the Athena target always builds (its inputs are in S3).

$SMCOST_DBT overrides the dbt executable (a command line, shell-quoted; default: the dbt next
to this Python).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

EXIT_OK, EXIT_EXTRACT_PARTIAL, EXIT_EXTRACT_FAILED, EXIT_DBT_FAILED, EXIT_LOCKED = 0, 3, 5, 6, 75
EXIT_BAD_ARGS = 2
EXTRACT_PARTIAL = 3  # smcost extract's own code for a partial run
REPO_ROOT = Path(__file__).resolve().parents[2]
# The DuckDB storage format new database files are written in (profiles.yml.example's default too,
# which a test checks). v1.0.0 is read by every DuckDB since 1.0 (June 2024): the CLI on PyPI, the
# JDBC driver DBeaver downloads, the DuckDB that Grafana's plugin embeds. DuckDB 2.x would write
# its own v2.0.0 format by default, which no 1.x reader can open.
DUCKDB_STORAGE_VERSION = "v1.0.0"
# DuckDB's memory limit for the database copies the pipeline makes itself (conversion, compaction),
# as for the build (profiles.yml.example's default too, which a test checks): DuckDB's own default is
# 80% of RAM, and copying a 2 GiB database without a limit peaked at 3.3 GiB (make bench, 1.1 M rows).
DUCKDB_MEMORY_LIMIT = "2GB"
DEFAULT_DUCKDB_PATH = "data/smcost.duckdb"  # the profile's default, relative to the project
BUILD_SUFFIX = ".building"  # appended, so DuckDB derives the same catalog name from the copy
INPUTS_SUFFIX = ".inputs.json"  # the fingerprint of what the live file was built from
# What in the dbt project changes a build (dbt_project.yml's *-paths, with dbt's defaults).
PROJECT_PATH_KEYS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "seed-paths": ["seeds"],
    "test-paths": ["tests"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
}
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml")
VERSIONED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# Compact the built file (copy the database) when this share of its blocks is free space.
COMPACT_AT_FREE_SHARE = 0.25
# Forwarded to the running step: a step has a session of its own, so the terminal's SIGINT and
# SIGHUP reach only this process (SIGHUP only where it is not ignored, as under nohup).
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=["local", "athena"],
        default="local",
        help="dbt target: local (DuckDB) or athena (default: %(default)s)",
    )
    parser.add_argument(
        "--lake",
        default=os.environ.get("SMCOST_LAKE_ROOT", "data/lake"),
        help="where the extractor lands metadata: a folder (local) or s3://bucket/prefix "
        "(default: $SMCOST_LAKE_ROOT or %(default)s)",
    )
    parser.add_argument(
        "--skip-extract", action="store_true", help="build from what is already landed (e.g. the demo account)"
    )
    parser.add_argument(
        "--extract-args",
        default="",
        help="extra arguments for `smcost extract`, one string split with shell rules, "
        "e.g. \"--regions us-east-1,eu-west-1 --external-id 'a b'\"",
    )
    parser.add_argument("--full-refresh", action="store_true", help="rebuild every billing period")
    parser.add_argument(
        "--always-build",
        action="store_true",
        help="run dbt even when nothing it reads changed since the last successful build "
        "(local target; by default such a run skips dbt and reports status up_to_date)",
    )
    parser.add_argument("--vars", default=None, help="dbt --vars (YAML), e.g. '{focus_version: \"1.0\"}'")
    parser.add_argument("--project-dir", default=str(REPO_ROOT), help="the dbt project (default: this checkout)")
    parser.add_argument("--lock-file", default=None, help="lock file (default: <project>/data/.smcost-pipeline.lock)")
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=30.0,
        help="on SIGTERM/SIGINT, how long the running step may take to stop before it "
        "gets SIGKILL (default: %(default)s)",
    )


class _BadArguments(Exception):
    pass


def _dbt_command() -> list[str]:
    override = os.environ.get("SMCOST_DBT", "").strip()
    if override:
        try:
            command = shlex.split(override)
        except ValueError as error:
            raise _BadArguments(f"SMCOST_DBT is not a valid command line ({error}): {override}") from None
        return command
    dbt = Path(sys.executable).parent / "dbt"
    return [str(dbt)] if dbt.exists() else ["dbt"]


def _storage_version() -> str:
    version = os.environ.get("SMCOST_DUCKDB_STORAGE_VERSION", "").strip() or DUCKDB_STORAGE_VERSION
    if version != "latest" and not re.fullmatch(r"v\d+\.\d+\.\d+", version):
        raise _BadArguments(f"SMCOST_DUCKDB_STORAGE_VERSION must look like v1.0.0 (or be latest), not {version!r}")
    return version


def duckdb_memory_limit() -> str:
    """The DuckDB memory limit in force: SMCOST_DUCKDB_MEMORY_LIMIT, else the profile's default."""
    return os.environ.get("SMCOST_DUCKDB_MEMORY_LIMIT", "").strip() or DUCKDB_MEMORY_LIMIT


def _version_key(version: str) -> tuple[int, ...] | None:
    match = re.match(r"v(\d+)\.(\d+)\.(\d+)", version or "")
    return tuple(int(g) for g in match.groups()) if match else None


def _finish(summary: dict, code: int, started: float | None = None) -> int:
    summary["exit_code"] = code
    if started is not None:
        summary["duration_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary), flush=True)
    return code


def run(args: argparse.Namespace) -> int:
    project = Path(args.project_dir).resolve()
    lock_path = Path(args.lock_file or project / "data" / ".smcost-pipeline.lock")
    summary: dict = {
        "status": None,
        "target": args.target,
        "lake": args.lake,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    started = time.perf_counter()
    try:
        extract_args = shlex.split(args.extract_args or "")
        dbt = _dbt_command()
        storage_version = _storage_version()
        if not 0 <= args.grace_seconds <= 24 * 3600:  # also refuses nan and inf
            raise _BadArguments(f"--grace-seconds must be between 0 and 86400, not {args.grace_seconds}")
    except ValueError as error:  # shlex: "No closing quotation", "No escaped character"
        return _bad_arguments(summary, f"--extract-args is not valid shell syntax ({error}): {args.extract_args}")
    except _BadArguments as error:
        return _bad_arguments(summary, str(error))
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)  # not inheritable unless passed on
    except OSError as error:
        return _bad_arguments(summary, f"cannot open the lock file {lock_path}: {error.strerror}")
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(lock_fd, 300, 0).decode(errors="replace").strip()
            print(
                f"smcost pipeline: another run holds {lock_path}"
                + (f" ({holder})" if holder else "")
                + "; try again when it has finished",
                file=sys.stderr,
            )
            summary.update(status="locked")
            return _finish(summary, EXIT_LOCKED)
        supervisor = _Supervisor(lock_fd, args.grace_seconds)
        with supervisor.handling_signals():
            supervisor.note(f"pipeline pid {os.getpid()}")
            code = _run_steps(args, project, summary, supervisor, extract_args, dbt, storage_version)
            if supervisor.signum is not None:
                summary.update(status="terminated", signal=signal.Signals(supervisor.signum).name)
                code = 128 + supervisor.signum
                print(f"smcost pipeline: stopped by {summary['signal']}", file=sys.stderr)
            return _finish(summary, code, started)
    finally:
        os.close(lock_fd)


def _bad_arguments(summary: dict, message: str) -> int:
    print(f"smcost pipeline: error: {message}", file=sys.stderr)
    summary.update(status="bad_arguments", error=message)
    return _finish(summary, EXIT_BAD_ARGS)


class _Supervisor:
    """Runs each step in its own process group, holding the lock's open file description.

    flock() belongs to the open file description, which the step inherits (pass_fds): the lock
    stays taken until this process and every step that inherited it have exited, so an orphaned
    step (this process got SIGKILL) still keeps a second run out. SIGTERM/SIGINT received here are
    forwarded to the step's process group; a timer sends SIGKILL after the grace period.
    """

    def __init__(self, lock_fd: int, grace: float):
        self.lock_fd, self.grace = lock_fd, grace
        self.signum: int | None = None
        self.signalled_at: float | None = None
        self.child: subprocess.Popen | None = None
        self.killed = False
        self._timer: threading.Timer | None = None

    @contextmanager
    def handling_signals(self) -> Iterator[_Supervisor]:
        previous: dict[signal.Signals, Any] = {}  # what signal.signal() returns: a handler or a constant
        if threading.current_thread() is threading.main_thread():  # signal.signal() works only there
            for s in HANDLED_SIGNALS:
                if signal.getsignal(s) is not signal.SIG_IGN:
                    previous[s] = signal.signal(s, self._on_signal)
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            if self._timer is not None:
                self._timer.cancel()

    def note(self, text: str) -> None:
        """What the lock file says about its holder (shown to a run that finds it locked)."""
        try:
            os.ftruncate(self.lock_fd, 0)
            os.pwrite(self.lock_fd, text.encode() + b"\n", 0)
        except OSError:
            pass

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.signum is None:
            self.signum, self.signalled_at = signum, time.monotonic()
            self._say(
                f"{name}: stopping (the running step gets {name}, then SIGKILL after "
                f"{self.grace:g} s; a second signal sends SIGKILL now)"
            )
            self._forward(signum)
        else:  # a second signal: no more grace
            self._say(f"{name} again: SIGKILL to the running step")
            self._forward(signal.SIGKILL)

    @staticmethod
    def _say(text: str) -> None:
        try:  # os.write, not print: a signal handler may interrupt a print to the same stream
            os.write(sys.stderr.fileno(), f"smcost pipeline: {text}\n".encode())
        except (OSError, ValueError, AttributeError):
            pass

    def _forward(self, signum: int) -> None:
        child = self.child
        if child is None or child.returncode is not None:
            return
        if signum == signal.SIGKILL:
            self.killed = True
        _killpg(child.pid, signum)
        if signum != signal.SIGKILL and self._timer is None:
            self._timer = threading.Timer(self.grace, self._forward, args=(signal.SIGKILL,))
            self._timer.daemon = True
            self._timer.start()

    def step(self, name: str, command: list[str], cwd: str, env: dict) -> tuple[int, float]:
        if self.signum is not None:  # stopped before this step began: do not start it
            return 128 + self.signum, 0.0
        started = time.perf_counter()
        try:
            # Output goes to stderr so the JSON summary stays the only thing on stdout.
            child = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sys.stderr,
                stderr=sys.stderr,
                start_new_session=True,
                pass_fds=(self.lock_fd,),
            )
        except OSError as error:
            print(f"smcost pipeline: cannot start {name} ({command[0]}): {error.strerror}", file=sys.stderr)
            return 127, 0.0
        self.child = child
        self.note(f"pipeline pid {os.getpid()}; {name} pid {child.pid}")
        if self.signum is not None:  # arrived while the step was starting
            self._forward(self.signum)
        code = child.wait()
        self.child = None
        if self.signum is not None:
            self._stop_group(child.pid)
        self.note(f"pipeline pid {os.getpid()}")
        return code, round(time.perf_counter() - started, 1)

    def _stop_group(self, pgid: int) -> None:
        """The step has exited; what it started in its group goes too (SIGKILL once the grace is up)."""
        deadline = (self.signalled_at or time.monotonic()) + self.grace
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pgid):
            self.killed = True
            _killpg(pgid, signal.SIGKILL)
            until = time.monotonic() + 10
            while _group_alive(pgid) and time.monotonic() < until:
                time.sleep(0.05)


def _killpg(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies awaiting their reaper are not)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _run_steps(
    args: argparse.Namespace,
    project: Path,
    summary: dict,
    supervisor: _Supervisor,
    extract_args: list[str],
    dbt: list[str],
    storage_version: str,
) -> int:
    env = {**os.environ, "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", str(project))}
    if not args.lake.startswith("s3://"):
        env["SMCOST_LAKE_ROOT"] = str(Path(args.lake).resolve())
    extract_code = 0
    if args.skip_extract:
        summary["extract"] = {"status": "skipped"}
    else:
        command = [sys.executable, "-m", "smcost", "extract", "--out", args.lake, *extract_args]
        extract_code, seconds = supervisor.step("extract", command, str(project), env)
        status = {0: "complete", EXTRACT_PARTIAL: "partial"}.get(extract_code, "failed")
        if supervisor.signum is not None:
            status = "terminated"
        summary["extract"] = {"status": status, "exit_code": extract_code, "seconds": seconds}
        if status in ("failed", "terminated"):
            summary["status"] = "extract_failed"
            return EXIT_EXTRACT_FAILED
    if supervisor.signum is not None:
        return EXIT_EXTRACT_FAILED
    # A scheduled build proves the data, not the code: dbt's unit tests read fixed rows, run in
    # development and CI (make test), and on Athena each would be one more billed query every run.
    command = [*dbt, "build", "--target", args.target, "--project-dir", str(project)]
    command += ["--exclude-resource-type", "unit_test"]
    if args.full_refresh:
        command.append("--full-refresh")
    if args.vars:
        command += ["--vars", args.vars]
    database, fingerprint = None, None
    if args.target == "local":
        env["SMCOST_DUCKDB_STORAGE_VERSION"] = storage_version
        database = _BuildFile.for_profile(project, env, storage_version)
    if database is not None:
        lake_root = _lake_root(args, project)
        if lake_root is not None:
            fingerprint = inputs_fingerprint(project, lake_root, command, env)
        if fingerprint and not (args.full_refresh or args.always_build) and database.built_from(fingerprint):
            summary["database"] = {"path": str(database.live)}
            summary["dbt"] = {"status": "skipped", "reason": "nothing it reads changed since the last successful build"}
            summary["status"] = "partial" if extract_code == EXTRACT_PARTIAL else "up_to_date"
            print(
                f"smcost pipeline: {database.live} is up to date: nothing dbt reads changed since its last "
                "successful build (--always-build runs dbt anyway)",
                file=sys.stderr,
            )
            return EXIT_EXTRACT_PARTIAL if extract_code == EXTRACT_PARTIAL else EXIT_OK
        try:
            summary["database"] = database.prepare()
        except _DatabaseError as error:
            database.discard()
            print(f"smcost pipeline: {error}", file=sys.stderr)
            summary.update(status="database_failed", database={"path": str(database.live), "error": str(error)})
            return EXIT_DBT_FAILED
        env["SMCOST_DUCKDB_PATH"] = str(database.build)
    try:
        dbt_code, seconds = supervisor.step("dbt build", command, str(project), env)
        dbt_status = "success" if dbt_code == 0 else "failed"
        if supervisor.signum is not None:
            dbt_status = "terminated"
        summary["dbt"] = {
            "status": dbt_status,
            "exit_code": dbt_code,
            "seconds": seconds,
            "full_refresh": args.full_refresh,
        }
        if supervisor.killed:
            summary["dbt"]["killed"] = True
        if dbt_status != "success":
            summary["status"] = "dbt_failed"
            return EXIT_DBT_FAILED
        if database is not None:
            try:
                summary["database"].update(database.publish(fingerprint))
            except _DatabaseError as error:
                print(f"smcost pipeline: {error}", file=sys.stderr)
                summary["status"] = "database_failed"
                summary["database"]["error"] = str(error)
                return EXIT_DBT_FAILED
    finally:
        if database is not None:
            database.discard()
    summary["status"] = "partial" if extract_code == EXTRACT_PARTIAL else "success"
    return EXIT_EXTRACT_PARTIAL if extract_code == EXTRACT_PARTIAL else EXIT_OK


def _lake_root(args: argparse.Namespace, project: Path) -> Path | None:
    """The local folder dbt reads the lake from (--vars lake_root wins, as in the sources: relative to
    the project, where dbt runs); None for S3."""
    if args.lake.startswith("s3://"):
        return None
    root: Path | None = Path(args.lake).resolve()
    if args.vars:
        try:
            given = yaml.safe_load(args.vars)
        except yaml.YAMLError:
            return None  # dbt refuses the vars itself; nothing to fingerprint
        if isinstance(given, dict) and given.get("lake_root"):
            named = str(given["lake_root"])
            root = None if named.startswith("s3://") else (project / named).resolve()
    return root


def inputs_fingerprint(project: Path, lake_root: Path, command: list[str], env: dict, as_of: str | None = None) -> str:
    """A digest of everything a local build reads: equal digests, equal builds.

    The lake's files by path, size and mtime (the export and snapshots are only ever added or
    replaced, which changes one of them); the project's files by content; the command line, the
    SMCOST_/DBT_ environment, the dbt and DuckDB versions, and the month the run is as of.
    """
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(json.dumps(parts, default=str).encode() + b"\n")

    add("as_of", as_of or datetime.now(timezone.utc).strftime("%Y-%m"))
    add("command", command)
    add("env", sorted((k, v) for k, v in env.items() if k.startswith(("SMCOST_", "DBT_"))))
    for package in VERSIONED_PACKAGES:
        try:
            add("package", package, importlib.metadata.version(package))
        except importlib.metadata.PackageNotFoundError:
            add("package", package, None)
    for path in _project_files(project, env):
        try:
            add("project", str(path.relative_to(project)) if path.is_relative_to(project) else str(path))
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            add("unreadable", str(path))
    for folder, dirs, files in os.walk(lake_root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            try:
                st = path.stat()
            except OSError:
                continue  # removed while walking: the build would not see it either
            add("lake", str(path.relative_to(lake_root)), st.st_size, st.st_mtime_ns)
    return digest.hexdigest()


def _project_files(project: Path, env: dict) -> list[Path]:
    try:
        config = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    files = [project / name for name in PROJECT_FILES if (project / name).is_file()]
    profiles = Path(env.get("DBT_PROFILES_DIR") or Path.home() / ".dbt") / "profiles.yml"
    if profiles.is_file():
        files.append(profiles)
    for key, default in PROJECT_PATH_KEYS.items():
        for folder in config.get(key) or default:
            files += sorted(
                path for path in (project / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts
            )
    return files


class _DatabaseError(Exception):
    pass


class _BuildFile:
    """The DuckDB file is built as a copy beside it and swapped into place after a successful build."""

    def __init__(self, live: Path, storage_version: str):
        self.live, self.storage_version = live, storage_version
        self.build = live.with_name(live.name + BUILD_SUFFIX)
        self.live_stat: tuple | None = None

    @classmethod
    def for_profile(cls, project: Path, env: dict, storage_version: str) -> _BuildFile | None:
        raw = env.get("SMCOST_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH
        if raw == ":memory:" or "://" in raw or raw.startswith("md:"):
            return None  # not a local file: nothing to swap
        path = Path(raw).expanduser()
        # A symlinked file is built and replaced where it really lives.
        return cls((path if path.is_absolute() else project / path).resolve(), storage_version)

    @staticmethod
    def _wal(path: Path) -> Path:
        return path.with_name(path.name + ".wal")

    @staticmethod
    def _stat(path: Path) -> tuple | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    @property
    def inputs_record(self) -> Path:
        return self.live.with_name(self.live.name + INPUTS_SUFFIX)

    def built_from(self, fingerprint: str) -> bool:
        """Whether the live file is the one the last successful build wrote, from these inputs."""
        if self._wal(self.live).exists():
            return False  # written to since (a WAL not yet checkpointed)
        try:
            record = json.loads(self.inputs_record.read_text())
        except (OSError, ValueError):
            return False
        stat = self._stat(self.live)
        return (
            isinstance(record, dict)
            and record.get("fingerprint") == fingerprint
            and stat is not None
            and record.get("database") == list(stat)
        )

    def _record_inputs(self, fingerprint: str | None) -> None:
        """After the swap: what the live file was built from (or no record, when unknown)."""
        stat = self._stat(self.live)
        if fingerprint is None or stat is None:
            self.inputs_record.unlink(missing_ok=True)
            return
        staged = self.inputs_record.with_name(self.inputs_record.name + ".tmp")
        record = {
            "fingerprint": fingerprint,
            "database": list(stat),
            "recorded_at": datetime.now(timezone.utc).isoformat(),
        }
        staged.write_text(json.dumps(record) + "\n")
        os.replace(staged, self.inputs_record)

    def prepare(self) -> dict:
        """Copy the current file (an incremental build extends it); convert a newer storage format."""
        self.discard()  # a build an earlier run left (it was stopped, or SIGKILLed; we hold the lock now)
        info: dict = {"path": str(self.live)}
        try:
            self.live.parent.mkdir(parents=True, exist_ok=True)
            self.live_stat = self._stat(self.live)
            if self.live_stat is None:
                info["storage_version"] = self.storage_version
                return info  # the first build: dbt creates the file, in the profile's storage version
            shutil.copyfile(self.live, self.build)
            if self._wal(self.live).exists():
                shutil.copyfile(self._wal(self.live), self._wal(self.build))
        except OSError as error:
            raise _DatabaseError(f"cannot copy {self.live} to build on it: {error}") from None
        found = self._checkpoint(self.build)
        info["storage_version"] = found
        wanted, current = _version_key(self.storage_version), _version_key(found)
        if wanted is not None and current is not None and current > wanted:
            self._convert(self.build, self.storage_version)
            info.update(storage_version=self._checkpoint(self.build), converted_from=found)
        return info

    def _checkpoint(self, path: Path) -> str:
        """Open the copy once (replays a WAL into it) and return its storage version tag."""
        import duckdb

        try:
            with duckdb.connect(str(path)) as con:
                row = con.execute(
                    "select tags from duckdb_databases() where database_name = current_database()"
                ).fetchone()
                assert row is not None  # every connection has a current database
                (tags,) = row
                con.execute("checkpoint")
        except duckdb.Error as error:
            message = str(error).splitlines()[0].replace(str(path), str(self.live))
            raise _DatabaseError(f"cannot read the database {self.live}: {message}") from None
        return dict(tags or {}).get("storage_version", "unknown")

    def _convert(self, path: Path, version: str) -> None:
        import duckdb

        converted = path.with_name(path.name + ".converting")
        spill = path.with_name(path.name + ".converting.tmp")
        for stale in (converted, self._wal(converted)):
            stale.unlink(missing_ok=True)
        try:
            # Bounded like the build; past the limit DuckDB spills beside the copy (the folder goes after).
            config: dict[str, str | bool | int | float | list[str]] = {
                "memory_limit": duckdb_memory_limit(),
                "temp_directory": str(spill),
            }
            with duckdb.connect(config=config) as con:
                con.execute(f"attach '{_sql_string(path)}' as smcost_from (read_only)")
                con.execute(f"attach '{_sql_string(converted)}' as smcost_to (storage_version '{version}')")
                con.execute("copy from database smcost_from to smcost_to")
            os.replace(converted, path)
        except duckdb.Error as error:
            converted.unlink(missing_ok=True)
            raise _DatabaseError(
                f"cannot convert {self.live} to storage version {version}: {error}".splitlines()[0]
            ) from None
        finally:
            shutil.rmtree(spill, ignore_errors=True)

    def publish(self, fingerprint: str | None = None) -> dict:
        """Swap the built copy into place, unless the file changed under us (then keep it, say why);
        compact it first when a quarter of it is free space, then record what it was built from."""
        if self._stat(self.live) != self.live_stat:
            raise _DatabaseError(
                f"{self.live} changed during the build (is something writing to it, or does the profile's "
                f"`path` ignore SMCOST_DUCKDB_PATH?); kept it and discarded the new build"
            )
        if not self.build.exists():
            raise _DatabaseError(f"dbt wrote no {self.build}: does the profile's `path` read SMCOST_DUCKDB_PATH?")
        info: dict[str, Any] = {"storage_version": self._checkpoint(self.build)}
        wanted, current = _version_key(self.storage_version), _version_key(info["storage_version"])
        if wanted is not None and current is not None and current > wanted:  # a profile without the setting
            self._convert(self.build, self.storage_version)
            info.update(storage_version=self._checkpoint(self.build), converted_from=info["storage_version"])
        elif (sparse := self._free_share(self.build)) >= COMPACT_AT_FREE_SHARE:
            # DuckDB reuses freed blocks but never returns them: an incremental run that replaces
            # periods leaves the file larger each time. Copying the database writes only what is live.
            size = self.build.stat().st_size
            self._convert(self.build, self.storage_version)
            info["compacted"] = {
                "free_share": round(sparse, 3),
                "from_bytes": size,
                "to_bytes": self.build.stat().st_size,
            }
        try:
            self._wal(self.live).unlink(missing_ok=True)  # a WAL belongs to the file it was written for
            self.inputs_record.unlink(missing_ok=True)  # describes the file being replaced
            os.replace(self.build, self.live)
            _fsync_dir(self.live.parent)
            self._record_inputs(fingerprint)
        except OSError as error:
            raise _DatabaseError(f"cannot move {self.build} to {self.live}: {error}") from None
        return {**info, "swapped": True}

    def _free_share(self, path: Path) -> float:
        """The share of the file's blocks that are free (0 when it cannot be read)."""
        import duckdb

        try:
            with duckdb.connect(str(path), read_only=True) as con:
                row = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
        except duckdb.Error:
            return 0.0
        total, free = row if row else (0, 0)
        return free / total if total else 0.0

    def discard(self) -> None:
        for path in (self.build, self._wal(self.build)):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
