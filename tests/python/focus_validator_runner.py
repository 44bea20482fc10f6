"""The FinOps Foundation's focus-validator (PyPI 2.2.1, FOCUS 1.2 rules) as the tests run it.

It needs Python >= 3.12 and numpy < 2, so it lives in its own venv, which the Makefile installs for
`make test` (`.venv-focus-validator`); a test that needs it and cannot have it skips, saying why."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from smcost_testing import REPO

VENV = REPO / ".venv-focus-validator"
STAMP = ".venv-focus-validator/.installed"


def _validator() -> Path:
    """The validator's venv, installed through the Makefile if absent; skip only if that fails."""
    if not (VENV / ".installed").exists():
        made = subprocess.run(["make", STAMP], cwd=REPO, capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(
                f"focus-validator is not installed and `make {STAMP}` failed (needs Python >= 3.12 and PyPI):\n"
                f"{made.stdout[-1500:]}\n{made.stderr[-1500:]}"
            )
    return VENV / "bin"


def _failing_rules(report: Path) -> tuple[set[str], int]:
    """Rule ids that failed or errored in the validator's JUnit-style report, and the rules run."""
    root = ET.parse(report).getroot()
    failed = set()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(case.get("name", "").split(" :: ")[0])
    return failed, int(root.get("tests", "0"))


def failing_rules(data_file: Path, work: Path) -> tuple[set[str], int]:
    """Run every FOCUS 1.2 rule (all applicability criteria: AWS supports them all) on a Parquet file:
    the rule ids that failed and the number of rules run."""
    bin_dir = _validator()
    # It reads its currency list by a path relative to its package's parent: run it from there.
    site = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import focus_validator, os; print(os.path.dirname(focus_validator.__path__[0]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    report = work / "focus-validator-report.xml"
    run = subprocess.run(
        [
            str(bin_dir / "focus-validator"),
            "--data-file",
            str(data_file),
            "--validate-version",
            "1.2",
            "--block-download",  # the rules shipped in the package (model-1.2.0.1.json), no network
            "--applicability-criteria",
            "ALL",
            "--output-type",
            "unittest",
            "--output-destination",
            str(report),
        ],
        cwd=site,
        capture_output=True,
        text=True,
    )
    assert report.exists(), f"focus-validator wrote no report (exit {run.returncode}):\n{run.stderr[-3000:]}"
    return _failing_rules(report)
