"""`smcost tags suggest`: the AddTags calls for the high-confidence inferences, read from the marts.

The shell commands are parsed back with shlex into AddTags parameters and checked against
botocore's service model for sagemaker AddTags; they must agree with the JSON output; only
high-confidence inferences may appear; the projected coverage is never below the current one.
Hostile rows (a resource at the 50-tag limit, values with spaces, quotes or shell syntax, values
outside the allowed list, overlong values, a deleted resource, an ARN that is not SageMaker's) are
skipped and counted, or quoted safely, never crash and never pass silently.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import duckdb
import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from smcost.governance.remediation import validate_request
from smcost_testing import run_smcost

DIMENSIONS = ("team", "model", "experiment", "environment")
KEYS = {"team": "ml:team", "model": "ml:model", "experiment": "ml:experiment", "environment": "ml:environment"}


def add_tags_args(command: str) -> dict:
    """An `aws sagemaker add-tags` command line, parsed as the AWS CLI would, as AddTags parameters."""
    argv = shlex.split(command)
    assert argv[:3] == ["aws", "sagemaker", "add-tags"], argv
    params: dict = {}
    index = 3
    while index < len(argv):
        option = argv[index]
        if option == "--resource-arn":
            params["ResourceArn"] = argv[index + 1]
            index += 2
        elif option == "--tags":
            values = []
            index += 1
            while index < len(argv) and not argv[index].startswith("--"):
                values.append(argv[index])
                index += 1
            tags = []
            for shorthand in values:
                key_part, _, value_part = shorthand.partition(",Value=")
                assert key_part.startswith("Key="), shorthand
                tags.append({"Key": key_part.removeprefix("Key="), "Value": value_part})
            params["Tags"] = tags
        else:
            raise AssertionError(f"unexpected option {option!r} in {command!r}")
    return params


def botocore_problems(params: dict) -> list[str]:
    shape = get_session().get_service_model("sagemaker").operation_model("AddTags").input_shape
    report = ParamValidator().validate(params, shape)
    return [report.generate_report()] if report.has_errors() else []


def commands(shell: str) -> list[str]:
    return [line for line in shell.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def outputs(demo_build: Path) -> tuple[str, dict]:
    shell = run_smcost("tags", "suggest", "--database", str(demo_build)).stdout
    document = json.loads(run_smcost("tags", "suggest", "--database", str(demo_build), "--format", "json").stdout)
    return shell, document


def test_commands_parse_to_valid_add_tags_requests_that_match_the_json(outputs) -> None:
    shell, document = outputs
    lines = commands(shell)
    assert lines, "the demo has high-confidence inferences to suggest"
    parsed = [add_tags_args(line) for line in lines]
    for params in parsed:
        assert botocore_problems(params) == [], params
        assert validate_request(params) == [], params
    assert parsed == [request["AddTags"] for request in document["requests"]]
    for request in document["requests"]:
        assert set(request["AddTags"]) == {"ResourceArn", "Tags"}
        assert [t["key"] for t in request["evidence"]] == [t["Key"] for t in request["AddTags"]["Tags"]]
    # Every command has its evidence on the comment line above it.
    rows = shell.splitlines()
    for index, line in enumerate(rows):
        if line.startswith("aws "):
            above = rows[index - 1] if not rows[index - 1].startswith("#   left") else rows[index - 2]
            assert above.startswith("# arn:") and "confidence" in above, above


def test_only_high_confidence_inferences_appear_and_all_of_them_do(outputs, demo_build: Path) -> None:
    _, document = outputs
    period = document["billing_period"]
    with duckdb.connect(str(demo_build), read_only=True) as con:
        rows = con.execute(
            "select * from fct_sagemaker_untagged_resources where billing_period = ?", [period]
        ).fetchall()
        names = [d[0] for d in con.description]
    marts = {row["resource_arn"]: row for row in (dict(zip(names, r, strict=True)) for r in rows)}
    suggested = {
        (r["AddTags"]["ResourceArn"], t["Key"]): t["Value"] for r in document["requests"] for t in r["AddTags"]["Tags"]
    }
    for (arn, key), value in suggested.items():
        dimension = next(d for d, k in KEYS.items() if k == key)
        row = marts[arn]
        assert row[f"{dimension}_confidence"] == "high", (arn, key)
        assert row[f"{dimension}_source"] == "metadata", (arn, key)
        assert row[f"{dimension}_value"] == value
    skipped = {(s["resource_arn"], s["key"]) for s in document["skipped"]} | {
        (s["resource_arn"], None) for s in document["skipped"]
    }
    expected = {
        (arn, KEYS[d])
        for arn, row in marts.items()
        for d in DIMENSIONS
        if row[f"{d}_confidence"] == "high" and row[f"{d}_value"]
    }
    missing = {pair for pair in expected - set(suggested) if pair not in skipped and (pair[0], None) not in skipped}
    assert not missing, sorted(missing)[:5]
    assert any(row[f"{d}_confidence"] in ("medium", "low") for row in marts.values() for d in DIMENSIONS)


def test_projected_coverage_is_at_least_the_current(outputs) -> None:
    shell, document = outputs
    assert document["applied"] is False
    for coverage in document["coverage"]:
        assert set(coverage["current"]) == {*KEYS.values(), "all four"}
        for key, now in coverage["current"].items():
            assert coverage["projected"][key] >= now - 1e-12, key
            assert 0 <= now <= 1 and 0 <= coverage["projected"][key] <= 1
        assert any(coverage["projected"][k] > coverage["current"][k] for k in KEYS.values())
    assert "Coverage in the bill" in shell and "->" in shell


# --------------------------------------------------------------------------------------------
# Hostile rows: a copy of the demo marts with rows no clean account would have
# --------------------------------------------------------------------------------------------

HOSTILE = [
    # arn, team value, api_tag_count, status, what must happen
    ("arn:aws:sagemaker:us-east-1:111122223333:training-job/at-the-limit", "fraud", 49, "Completed", "limit"),
    ("arn:aws:sagemaker:us-east-1:111122223333:training-job/spaced", "fraud", 3, "Completed", "ok"),
    ("arn:aws:sagemaker:us-east-1:111122223333:training-job/disallowed", "not-a-team", 3, "Completed", "allowed list"),
    ("arn:aws:sagemaker:us-east-1:111122223333:training-job/injection", "fraud", 3, "Completed", "characters"),
    ("arn:aws:sagemaker:us-east-1:111122223333:training-job/long", "fraud", 3, "Completed", "characters"),
    ("arn:aws:sagemaker:us-east-1:111122223333:endpoint/gone", "fraud", 3, "Deleted", "Deleted"),
    ("arn:aws:s3:::not-sagemaker", "fraud", 0, "not_in_metadata", "not a SageMaker ARN"),
]
MODEL_VALUES = {
    "spaced": "fraud model v2",
    "injection": "x'; rm -rf / #$(reboot)",
    "long": "m" * 300,
}


@pytest.fixture(scope="module")
def hostile_database(demo_build: Path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suggest-hostile") / "hostile.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"attach '{demo_build}' as demo (read_only)")
        con.execute(
            "create table fct_sagemaker_tag_coverage_trend as select * from demo.fct_sagemaker_tag_coverage_trend"
        )
        con.execute(
            "create table fct_sagemaker_untagged_resources as select * from demo.fct_sagemaker_untagged_resources limit 0"
        )
        for rank, (arn, team, count, status, _) in enumerate(HOSTILE, start=1):
            name = arn.rsplit("/", 1)[-1]
            con.execute(
                """insert into fct_sagemaker_untagged_resources (cost_rank, billing_currency, resource_arn, resource_type,
                       resource_name, effective_cost, all_bill_tags_cost, last_seen_status, api_tag_count, team_value,
                       team_source, team_confidence, model_value, model_source, model_confidence, experiment_source,
                       environment_source, environment_value, fix_action, fix_owner_team, fix_owner_source, keys_not_in_bill,
                       billing_period)
                   values (?, 'USD', ?, 'training-job', ?, 10.0, 0.0, ?, ?, ?, 'metadata', 'high', ?, 'metadata', 'high',
                           'unattributed', 'rule', 'production', 'add_tags', ?, 'inferred_team', 3, '2026-10')""",
                [rank, arn, name, status, count, team, MODEL_VALUES.get(name, "fraud-xgb"), team],
            )
    return path


def test_hostile_rows_are_skipped_with_a_reason_or_quoted_safely(hostile_database: Path) -> None:
    result = run_smcost("tags", "suggest", "--database", str(hostile_database), "--format", "json")
    document = json.loads(result.stdout)
    reasons = {s["resource_arn"].rsplit("/", 1)[-1].rsplit(":", 1)[-1]: s["reason"] for s in document["skipped"]}
    for arn, _, _, _, expected in HOSTILE:
        name = arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        if expected == "ok":
            assert name not in reasons
        else:
            assert expected in reasons[name], (name, reasons.get(name))
    assert "skipped" in result.stderr
    requests = {r["AddTags"]["ResourceArn"].rsplit("/", 1)[-1]: r for r in document["requests"]}
    assert "spaced" in requests and "disallowed" in requests  # the disallowed team is dropped, the model kept
    assert [t["Key"] for t in requests["disallowed"]["AddTags"]["Tags"]] == ["ml:model"]
    assert "at-the-limit" not in requests and "gone" not in requests
    shell = run_smcost("tags", "suggest", "--database", str(hostile_database)).stdout
    for line in commands(shell):
        params = add_tags_args(line)
        assert botocore_problems(params) == [] and validate_request(params) == []
    spaced = next(add_tags_args(line) for line in commands(shell) if "spaced" in line)
    assert {"Key": "ml:model", "Value": "fraud model v2"} in spaced["Tags"]
    assert "rm -rf" not in "\n".join(commands(shell))  # the injection never reaches a command line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--billing-period", "2026-13"], "expected YYYY-MM"),
        (["--database", "{missing}"], "is not a DuckDB file"),
        (["--database", "{empty}"], "the governance marts are missing"),
        (["--database", "{junk}"], "cannot open"),
    ],
    ids=["bad-period", "no-file", "no-marts", "not-duckdb"],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    paths = {"{missing}": str(tmp_path / "nope.duckdb"), "{empty}": str(empty), "{junk}": str(junk)}
    result = run_smcost("tags", "suggest", *[paths.get(a, a) for a in args], check=False)
    assert result.returncode == 2, result
    assert message in result.stderr and "Traceback" not in result.stderr
