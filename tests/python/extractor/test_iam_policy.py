"""Least privilege: extract/iam-policy.json allows exactly the AWS operations the extractor and
`smcost audit` call.

Every extraction in this suite counts its calls with botocore event hooks (``api_calls``). The
policy test runs last (conftest orders it), so it sees every operation any test made; it also runs
a complete extraction and a complete audit of its own, so it means the same when run alone.
"""

from __future__ import annotations

import json
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

import pytest

from extractor import audit_scenario
from extractor import extract_scenario as scenario
from extractor.extract_scenario import ACCOUNT, REGION, WEST
from extractor.harness import Extractor
from smcost.extractor import catalog
from smcost.extractor.aws import iam_action

POLICY = Path(__file__).resolve().parents[3] / "extract" / "iam-policy.json"
READ_ONLY = ("Describe", "List", "Get", "Search")


def _statements() -> list[dict]:
    return json.loads(POLICY.read_text())["Statement"]


def _allowed() -> set[str]:
    return {action for statement in _statements() for action in statement["Action"]}


def test_the_policy_is_read_only_explicit_and_allows_nothing_twice():
    actions = [action for statement in _statements() for action in statement["Action"]]
    assert all(statement["Effect"] == "Allow" for statement in _statements())
    assert len(actions) == len(set(actions))
    assert not [a for a in actions if "*" in a], "wildcard actions would allow calls the extractor never makes"
    writes = [a for a in actions if not a.split(":")[1].startswith(READ_ONLY) and a != "sts:AssumeRole"]
    assert writes == []


def test_the_policy_allows_exactly_the_actions_the_kinds_declare():
    """The declarations' side of the proof: the actions derived from each kind's calls (and the run's
    own STS calls) are the policy's; the recorded calls below hold the declarations to the code."""
    assert sorted(_allowed()) == catalog.iam_actions()


@pytest.mark.policy
def test_every_call_is_allowed_and_every_allowed_action_is_called(moto, api_calls: Counter, tmp_path: Path):
    moto.reset()
    scenario.populate(moto)
    extractor = Extractor(moto, api_calls, tmp_path / "lake")
    for dataset, calls in scenario.STUBS.items():
        extractor.stub(ACCOUNT, REGION, dataset, calls)
    extractor("--regions", f"{REGION},{WEST}", "--mme-metric-namespace", scenario.MME_NAMESPACE)
    role = "smcost-extract"
    extractor("--accounts", ACCOUNT, "--role-name", role, "--datasets", "training_jobs")
    # `smcost audit` reads with the same policy: a complete audit of what runs now adds its calls.
    moto.reset()
    audit_scenario.populate(moto)
    auditor = audit_scenario.Auditor(moto, api_calls, tmp_path)
    auditor.app_stubs[(ACCOUNT, REGION)] = audit_scenario.APP_STUBS
    auditor("--regions", REGION, "--min-coverage", "0")
    assert auditor.report and '"errors": []' in auditor.report

    used = {iam_action(call) for call in api_calls}
    allowed = _allowed()
    assert sorted(used - allowed) == [], "the extractor calls operations extract/iam-policy.json does not allow"
    assert sorted(allowed - used) == [], "extract/iam-policy.json allows actions the extractor never calls"
    (assume,) = [s for s in _statements() if s["Action"] == ["sts:AssumeRole"]]
    assert fnmatch(f"arn:aws:iam::{ACCOUNT}:role/{role}", assume["Resource"])
