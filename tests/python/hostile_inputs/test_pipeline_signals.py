"""`smcost pipeline` killed by the scheduler: SIGTERM/SIGINT stop the whole step, SIGKILL keeps the lock.

Real processes throughout: the pipeline runs as `python -m smcost pipeline`; its dbt step is a small
stand-in (SMCOST_DBT) that records its pid, starts a grandchild in its own process group, writes a
real DuckDB file where the profile would, and waits until the test releases it. No assertion is
about speed: every wait is bounded and generous, and only outcomes are checked.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smcost_testing import REPO

WAIT = 120  # seconds: the bound on every wait; the tests never depend on how fast things happen

STAND_IN_DBT = r"""
import os, signal, subprocess, sys, time
from pathlib import Path

state = Path(os.environ["STAND_IN_STATE"])
if os.environ.get("STAND_IN_STUBBORN"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ignored dispositions pass on to the grandchild
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
if not (state / "release").exists():
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    (state / "grandchild.pid.tmp").write_text(str(grandchild.pid))
    os.replace(state / "grandchild.pid.tmp", state / "grandchild.pid")
    (state / "dbt.pid.tmp").write_text(str(os.getpid()))
    os.replace(state / "dbt.pid.tmp", state / "dbt.pid")
    deadline = time.monotonic() + 600
    while not (state / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild.kill()
    grandchild.wait()
import duckdb
with duckdb.connect(os.environ["SMCOST_DUCKDB_PATH"]) as con:
    con.execute("create or replace table built as select 1 as ok")
"""


def _scheduler_dispositions() -> None:
    """The stop signals at their defaults in the pipeline, as a scheduler starts it. The test run may
    have inherited SIGINT ignored (a CI script run in the background of a non-interactive shell); the
    pipeline rightly keeps an ignored signal ignored, which is not what these tests are about."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {WAIT}s waiting for {what}")
        time.sleep(0.05)


def _lock_is_free(path: Path) -> bool:
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


class Setup:
    def __init__(self, tmp_path: Path, **extra_env: str):
        self.tmp = tmp_path
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.lock = tmp_path / "pipeline.lock"
        self.database = tmp_path / "smcost.duckdb"
        script = tmp_path / "stand_in_dbt.py"
        script.write_text(STAND_IN_DBT)
        self.env = {
            **os.environ,
            "SMCOST_DBT": shlex.join([sys.executable, str(script)]),
            "STAND_IN_STATE": str(self.state),
            "SMCOST_DUCKDB_PATH": str(self.database),
            "DBT_PROFILES_DIR": str(tmp_path),
            **extra_env,
        }
        self.args = [
            sys.executable,
            "-m",
            "smcost",
            "pipeline",
            "--skip-extract",
            "--target",
            "local",
            "--lake",
            str(tmp_path / "lake"),
            "--lock-file",
            str(self.lock),
            "--grace-seconds",
            "2",
        ]
        self.runs = 0
        self.processes: list[subprocess.Popen] = []

    def start(self) -> tuple[subprocess.Popen, Path, Path]:
        self.runs += 1
        out, err = self.tmp / f"run{self.runs}.out", self.tmp / f"run{self.runs}.err"
        with open(out, "w") as stdout, open(err, "w") as stderr:
            process = subprocess.Popen(
                self.args, cwd=REPO, env=self.env, stdout=stdout, stderr=stderr, preexec_fn=_scheduler_dispositions
            )
        self.processes.append(process)
        return process, out, err

    def clean_up(self) -> None:
        """After a failed test, nothing of it may linger: the pipelines, the stand-in, its grandchild."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for name in ("dbt", "grandchild"):
            path = self.state / f"{name}.pid"
            if not path.exists():
                continue
            pid = int(path.read_text())
            try:
                ours = str(self.state).encode() in Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if ours and _alive(pid):
                os.kill(pid, signal.SIGKILL)

    def run(self) -> tuple[int, dict, str]:
        process, out, err = self.start()
        code = process.wait(timeout=WAIT)
        return code, json.loads(out.read_text().strip().splitlines()[-1]), err.read_text()

    def pid(self, name: str) -> int:
        path = self.state / f"{name}.pid"
        _wait_for(path.exists, f"the stand-in dbt to write {path.name}")
        return int(path.read_text())


@pytest.fixture
def make_setup(tmp_path):
    made: list[Setup] = []

    def make(**extra_env: str) -> Setup:
        made.append(Setup(tmp_path, **extra_env))
        return made[-1]

    yield make
    for setup in made:
        setup.clean_up()


@pytest.mark.parametrize(
    "signum, stubborn",
    [
        (signal.SIGTERM, False),
        (signal.SIGINT, False),
        (signal.SIGHUP, False),  # the terminal went away: the step, in a session of its own, hears it from us
        (signal.SIGTERM, True),  # the step ignores SIGTERM: after the grace period it gets SIGKILL
    ],
    ids=["sigterm", "sigint", "sighup", "sigterm-ignored"],
)
def test_a_stop_signal_ends_the_step_group_reports_and_frees_the_lock(make_setup, tmp_path, signum, stubborn):
    setup = make_setup(**({"STAND_IN_STUBBORN": "1"} if stubborn else {}))
    process, out, err = setup.start()
    dbt, grandchild = setup.pid("dbt"), setup.pid("grandchild")
    assert os.getpgid(dbt) == dbt != os.getpgid(process.pid)  # the step leads a process group of its own
    assert os.getpgid(grandchild) == dbt
    assert not _lock_is_free(setup.lock)

    process.send_signal(signum)
    code = process.wait(timeout=WAIT)

    assert code == 128 + signum, err.read_text()[-3000:]
    summary = json.loads(out.read_text().strip().splitlines()[-1])  # the status is the last stdout line
    assert summary["status"] == "terminated" and summary["exit_code"] == 128 + signum
    assert summary["signal"] == signal.Signals(signum).name
    assert summary["dbt"]["status"] == "terminated"
    assert summary["dbt"].get("killed", False) is stubborn
    assert _group_members(dbt) == [] and not _alive(dbt) and not _alive(grandchild)
    assert _lock_is_free(setup.lock)
    # Nothing half-built is left behind, and nothing was published.
    assert not setup.database.exists() and list(tmp_path.glob("smcost.duckdb.*")) == []


def test_a_second_signal_kills_the_step_without_waiting_for_the_grace_period(make_setup):
    setup = make_setup(STAND_IN_STUBBORN="1")
    setup.args[-1] = "3600"  # --grace-seconds: far beyond every wait here; only SIGKILL can end the step
    process, out, err = setup.start()
    dbt = setup.pid("dbt")
    process.send_signal(signal.SIGTERM)
    _wait_for(lambda: "SIGTERM: stopping" in err.read_text(), "the pipeline to take the first SIGTERM")
    assert _alive(dbt)  # it ignores SIGTERM
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=WAIT) == 143
    summary = json.loads(out.read_text().strip().splitlines()[-1])
    assert summary["status"] == "terminated" and summary["dbt"]["killed"] is True
    assert _group_members(dbt) == [] and _lock_is_free(setup.lock)


def test_sigkill_of_the_pipeline_leaves_the_step_holding_the_lock_until_it_ends(make_setup, tmp_path):
    setup = make_setup()
    process, _, _ = setup.start()
    dbt = setup.pid("dbt")

    process.send_signal(signal.SIGKILL)  # nothing can be forwarded: the step is orphaned
    assert process.wait(timeout=WAIT) == -signal.SIGKILL
    assert _alive(dbt)
    assert not _lock_is_free(setup.lock)

    code, summary, stderr = setup.run()  # a second run must not overlap the orphan
    assert code == 75 and summary["status"] == "locked"
    assert f"dbt build pid {dbt}" in stderr  # the lock file says who holds it

    (setup.state / "release").touch()  # the orphan finishes its build
    _wait_for(lambda: not _alive(dbt), "the orphaned step to end")
    assert _lock_is_free(setup.lock)

    code, summary, stderr = setup.run()  # now a run takes the lock, and its build is published
    assert code == 0, stderr[-3000:]
    assert summary["status"] == "success" and summary["database"]["swapped"] is True
    assert setup.database.exists()
    assert [p.name for p in tmp_path.glob("smcost.duckdb.*")] == ["smcost.duckdb.inputs.json"]  # no copy left
