"""The demo bill against the FinOps Foundation's `focus-validator` (PyPI 2.2.1, FOCUS 1.2 rules).

The demo imitates AWS's FOCUS 1.2 export, so it must pass every rule AWS's export passes: the rules it
fails are exactly those listed, with the reason, in tests/fixtures/focus_validator_exceptions.csv (AWS
does otherwise, or the validator's rule model is wrong). A new failure fails this test, and so does an
exception that no longer fails (drop it from the list).

The validator needs Python >= 3.12 and numpy < 2, so it lives in its own venv, which the Makefile
installs for `make test` (`.venv-focus-validator`). The whole default bill (three periods, about 59k
rows) is validated at once in under ten seconds, so no sampling: the correction and the refund are in
other periods than the first.
"""

from __future__ import annotations

import csv
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from smcost_testing import REPO

VENV = REPO / ".venv-focus-validator"
STAMP = ".venv-focus-validator/.installed"
EXCEPTIONS = REPO / "tests" / "fixtures" / "focus_validator_exceptions.csv"


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


def _exceptions() -> dict[str, str]:
    with EXCEPTIONS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["reason"].strip() for r in rows), "every exception needs its reason"
    return {r["rule_id"]: r["reason"] for r in rows}


def _failing_rules(report: Path) -> tuple[set[str], int]:
    """Rule ids that failed or errored in the validator's JUnit-style report, and the rules run."""
    root = ET.parse(report).getroot()
    failed = set()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(case.get("name", "").split(" :: ")[0])
    return failed, int(root.get("tests", "0"))


def test_the_demo_bill_fails_only_the_documented_focus_validator_rules(demo_lake, tmp_path):
    bin_dir = _validator()
    files = sorted((demo_lake / "billing" / "sagemaker-focus" / "data").glob("BILLING_PERIOD=*/*.parquet"))
    assert len(files) >= 3
    bill = tmp_path / "bill.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(f) for f in files]), bill)
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
    report = tmp_path / "report.xml"
    run = subprocess.run(
        [
            str(bin_dir / "focus-validator"),
            "--data-file",
            str(bill),
            "--validate-version",
            "1.2",
            "--block-download",  # the rules shipped in the package (model-1.2.0.1.json), no network
            "--applicability-criteria",
            "ALL",  # AWS supports every criterion (commitments, regions, tags, ...): check them all
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
    failed, rules_run = _failing_rules(report)
    assert rules_run > 500, f"only {rules_run} rules ran"
    expected = _exceptions()
    new = sorted(failed - expected.keys())
    fixed = sorted(expected.keys() - failed)
    assert not new and not fixed, (
        f"rules failing that are not documented exceptions: {new}\n"
        f"documented exceptions that no longer fail (remove them from {EXCEPTIONS.name}): {fixed}\n"
        f"(run the validator with --output-type console --show-violations to see the rows)"
    )
