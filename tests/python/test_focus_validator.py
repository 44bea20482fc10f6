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

import pyarrow as pa
import pyarrow.parquet as pq

from focus_validator_runner import failing_rules
from smcost_testing import REPO

EXCEPTIONS = REPO / "tests" / "fixtures" / "focus_validator_exceptions.csv"


def _exceptions() -> dict[str, str]:
    with EXCEPTIONS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["reason"].strip() for r in rows), "every exception needs its reason"
    return {r["rule_id"]: r["reason"] for r in rows}


def test_the_demo_bill_fails_only_the_documented_focus_validator_rules(demo_lake, tmp_path):
    files = sorted((demo_lake / "billing" / "sagemaker-focus" / "data").glob("BILLING_PERIOD=*/*.parquet"))
    assert len(files) >= 3
    bill = tmp_path / "bill.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(f) for f in files]), bill)
    failed, rules_run = failing_rules(bill, tmp_path)
    assert rules_run > 500, f"only {rules_run} rules ran"
    expected = _exceptions()
    new = sorted(failed - expected.keys())
    fixed = sorted(expected.keys() - failed)
    assert not new and not fixed, (
        f"rules failing that are not documented exceptions: {new}\n"
        f"documented exceptions that no longer fail (remove them from {EXCEPTIONS.name}): {fixed}\n"
        f"(run the validator with --output-type console --show-violations to see the rows)"
    )
