"""`smcost tags check`, the pre-deployment tag check: what each kind of file and tag spelling
yields (status, exit code, message), that its key rule is dbt's (the SQL macros run in DuckDB on
the cases of the dbt unit test), and that bad input is one clear line with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from smcost.cli import main
from smcost.governance.tagconfig import DIMENSIONS, TagConfig, load_tag_config, normalise_tag_key, normalise_tag_value
from smcost_testing import REPO

FIXTURES = REPO / "tests/fixtures/governance"
CONFIG = load_tag_config(REPO)


def run_check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["tags", "check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out, _ = run_check(capsys, "--format", "json", *args)
    return code, json.loads(out)


def request_file(tmp_path: Path, tags: list[dict], name: str = "request.json") -> Path:
    """A CreateEndpoint request (the smallest create request that takes tags) with these tags."""
    path = tmp_path / name
    path.write_text(json.dumps({"EndpointName": "fraud-scorer", "EndpointConfigName": "fraud-scorer-1", "Tags": tags}))
    return path


def tags(**pairs: str) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


COMPLETE = {"ml:team": "fraud", "ml:model": "fraud-xgb", "ml:experiment": "exp-1", "ml:environment": "production"}


def with_(**changes: str | None) -> list[dict]:
    """COMPLETE with keys replaced (name=value), added, or removed (name=None); `__` stands for `:`."""
    result = dict(COMPLETE)
    for key, value in changes.items():
        key = key.replace("__", ":")
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return tags(**result)


# ---------------------------------------------------------------------------------------------
# The rule is dbt's


def sql_macro(name: str, argument: str) -> str:
    """A macro of macros/engine/tags.sql rendered with plain Jinja (it uses no dbt context)."""
    macros = jinja2.Environment().from_string((REPO / "macros/engine/tags.sql").read_text()).module
    return str(getattr(macros, name)(argument)).strip()


def unit_test_charges() -> tuple[list[tuple[str, bool, str, str]], list[dict], list[dict]]:
    """The dbt unit test `tags_resolve_case_alias_and_prefix_tolerant`: its charges' tags (run from
    its own DuckDB SQL), its alias seed rows and its expected rows."""
    tests = yaml.safe_load((REPO / "models/intermediate/focus/_focus__unit_tests.yml").read_text())["unit_tests"]
    test = next(t for t in tests if t["name"] == "tags_resolve_case_alias_and_prefix_tolerant")
    charges_sql = next(g["rows"] for g in test["given"] if g["input"] == "ref('stg_focus__charges')")
    aliases = next(g["rows"] for g in test["given"] if g["input"] == "ref('tag_key_aliases')")
    with duckdb.connect() as con:
        entries = con.execute(
            f"select charge_id, is_sagemaker, e.key, e.value from "
            f"(select charge_id, is_sagemaker, unnest(map_entries(tags)) as e from ({charges_sql}))"
        ).fetchall()
    return entries, aliases, test["expect"]["rows"]


def test_key_and_value_normalisation_agree_with_the_sql_macros():
    entries, _, _ = unit_test_charges()
    keys = sorted({key for _, _, key, _ in entries} | {" ml:team ", "USER:ML:Team", "ml: team", "user:user:x"})
    values = sorted({value for _, _, _, value in entries} | {"", "  Fraud  ", "PRODUCTION"})
    key_sql = sql_macro("normalise_tag_key", "k")
    value_sql = sql_macro("normalise_tag_value", "v")
    with duckdb.connect() as con:
        for key in keys:
            assert con.execute(f"select {key_sql} from (select ? as k)", [key]).fetchone()[0] == normalise_tag_key(
                key
            ), key
        for value in values:
            assert con.execute(f"select {value_sql} from (select ? as v)", [value]).fetchone()[
                0
            ] == normalise_tag_value(value), value


def test_value_resolution_agrees_with_the_dbt_unit_test():
    entries, aliases, expected = unit_test_charges()
    config = TagConfig(
        canonical=CONFIG.canonical,
        aliases={d: tuple(a["tag_key"] for a in aliases if a["dimension"] == d) for d in DIMENSIONS},
    )
    charges: dict[str, list[tuple[str, str]]] = {}
    for charge_id, is_sagemaker, key, value in entries:
        if is_sagemaker:
            charges.setdefault(charge_id, []).append((key, value))
    resolved = {charge: config.resolve(pairs) for charge, pairs in charges.items()}
    resolved = {charge: values for charge, values in resolved.items() if values}
    assert resolved == {
        row["charge_id"]: {d: row[f"tag_{d}"] for d in DIMENSIONS if row[f"tag_{d}"] is not None} for row in expected
    }


# ---------------------------------------------------------------------------------------------
# Files and their outcomes


@pytest.mark.parametrize(
    ("fixture", "code", "statuses", "message"),
    [
        ("create-training-job.json", 0, {"TrainingJob fraud-xgb-2026-08-01": "pass"}, ""),
        ("create-endpoint-alias-team.json", 0, {"Endpoint search-ranker-prod": "pass"}, ""),
        ("create-model-capitalized-key.json", 0, {"Model vision-detector-v3": "warn"}, "capitalization 'ml:team'"),
        (
            "create-processing-job-disallowed-team.json",
            1,
            {"ProcessingJob payments-features-2026-08-01": "fail"},
            "'payments' is not an allowed team",
        ),
        (
            "pipeline-one-untagged-step.json",
            1,
            {"step Prepare (Processing)": "pass", "step Train (Training)": "pass", "step CreateModel (Model)": "fail"},
            "missing ml:team",
        ),
        (
            "cloudformation-intrinsics.yaml",
            1,
            {
                "SummarizerModel (AWS::SageMaker::Model)": "pass",
                "SummarizerConfig (AWS::SageMaker::EndpointConfig)": "fail",
                "SummarizerEndpoint (AWS::SageMaker::Endpoint)": "fail",
            },
            "when IsProduction=false: missing ml:environment",
        ),
        ("cdk-synth.template.json", 0, {"GrowthUpliftNotebook4F2A9C1B (AWS::SageMaker::NotebookInstance)": "pass"}, ""),
    ],
)
def test_fixture_outcome(capsys, fixture, code, statuses, message):
    exit_code, report = check_json(capsys, str(FIXTURES / fixture))
    (file,) = report["files"]
    assert exit_code == code
    assert {r["name"]: r["status"] for r in file["resources"]} == statuses
    messages = [f["message"] for r in file["resources"] for f in r["findings"]]
    assert not message or any(message in m for m in messages), messages


@pytest.mark.parametrize(
    ("case", "tag_list", "status", "message"),
    [
        ("compliant", with_(), "pass", ""),
        ("missing key", with_(ml__environment=None), "fail", "missing ml:environment (or an alias: environment"),
        ("alias team accepted", with_(ml__team=None, team="search"), "pass", ""),
        ("ML:Team accepted, with a warning", with_(ml__team=None, **{"ML:Team": "fraud"}), "warn", "capitalization"),
        ("disallowed team", with_(ml__team="payments"), "fail", "'payments' is not an allowed team"),
        (
            "disallowed environment via alias",
            with_(ml__environment=None, env="staging"),
            "fail",
            "not an allowed environment",
        ),
        ("value in another case", with_(ml__team="Fraud"), "warn", "compares values exactly"),
        ("empty value counts as missing", with_(ml__team=""), "fail", "empty value"),
        (
            "surrounding spaces in a key",
            with_(ml__team=None, **{" ml:team": "fraud"}),
            "fail",
            "spaces or 'user:' prefix",
        ),
        (
            "user: prefix in a key",
            with_(ml__team=None, **{"user:ml:team": "fraud"}),
            "fail",
            "spaces or 'user:' prefix",
        ),
        ("two values for one dimension", with_(team="search"), "fail", "dbt would take 'fraud'"),
        ("no tags at all", [], "fail", "missing ml:team"),
        ("51 tags", with_() + tags(**{f"extra-{n}": "x" for n in range(47)}), "fail", "at most 50"),
        ("free-form model and experiment", with_(ml__model="Any Model 7", ml__experiment="x"), "pass", ""),
    ],
)
def test_request_tags(capsys, tmp_path, case, tag_list, status, message):
    code, report = check_json(capsys, str(request_file(tmp_path, tag_list)))
    (resource,) = report["files"][0]["resources"]
    assert resource["status"] == status, resource["findings"]
    assert code == (1 if status == "fail" else 0)
    assert not message or any(message in f["message"] for f in resource["findings"]), resource["findings"]


def test_resolved_values_are_reported(capsys, tmp_path):
    _, report = check_json(capsys, str(request_file(tmp_path, with_(ml__team=None, team=" Search "))))
    assert report["files"][0]["resources"][0]["values"] == {
        "team": "search",
        "model": "fraud-xgb",
        "experiment": "exp-1",
        "environment": "production",
    }


# ---------------------------------------------------------------------------------------------
# CloudFormation intrinsics


def template(tmp_path: Path, tags_yaml: str, parameters: str = "") -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        f"Parameters:\n  Free: {{Type: String}}\n  Pick: {{Type: String, AllowedValues: [fraud, search]}}\n{parameters}"
        "Conditions:\n  Prod: !Equals [!Ref Free, production]\n"
        "Resources:\n  Endpoint:\n    Type: AWS::SageMaker::Endpoint\n    Properties:\n"
        f"      EndpointConfigName: cfg\n      Tags:{tags_yaml}\n"
    )
    return path


REST = "\n        - {Key: ml:model, Value: m}\n        - {Key: ml:experiment, Value: e}\n        - {Key: ml:environment, Value: development}"


@pytest.mark.parametrize(
    ("case", "tags_yaml", "status", "message"),
    [
        (
            "literal key, !Sub value: present, value unknown",
            "\n        - {Key: ml:team, Value: !Sub '${Free}'}" + REST,
            "warn",
            "cannot be checked",
        ),
        (
            "literal key, !Ref to AllowedValues: every value checked",
            "\n        - {Key: ml:team, Value: !Ref Pick}" + REST,
            "pass",
            "",
        ),
        (
            "!Ref to AllowedValues with a disallowed one",
            "\n        - {Key: ml:team, Value: !Ref Bad}" + REST,
            "fail",
            "may be 'payments'",
        ),
        (
            "!If on an entry: one branch lacks the key",
            "\n        - !If [Prod, {Key: ml:team, Value: fraud}, !Ref AWS::NoValue]" + REST,
            "fail",
            "when Prod=false: missing ml:team",
        ),
        (
            "!If on an entry: both branches have it",
            "\n        - !If [Prod, {Key: ml:team, Value: fraud}, {Key: team, Value: search}]" + REST,
            "pass",
            "",
        ),
        (
            "!If on the whole list",
            " !If [Prod, [{Key: ml:team, Value: fraud}], []]",
            "fail",
            "when Prod=false: missing ml:team",
        ),
        ("whole list by !Ref: unverifiable", " !Ref Free", "fail", "cannot be read before deployment"),
        ("whole list by !GetAtt: unverifiable", " !GetAtt Other.Tags", "fail", "Fn::GetAtt"),
        (
            "key by an intrinsic: unverifiable",
            "\n        - {Key: !Ref Free, Value: fraud}" + REST,
            "fail",
            "may supply it",
        ),
    ],
)
def test_cloudformation_intrinsics(capsys, tmp_path, case, tags_yaml, status, message):
    path = template(tmp_path, tags_yaml, "  Bad: {Type: String, AllowedValues: [fraud, payments]}\n")
    code, report = check_json(capsys, str(path))
    (resource,) = report["files"][0]["resources"]
    assert resource["status"] == status, resource["findings"]
    assert code == (1 if status == "fail" else 0)
    assert not message or any(message in f["message"] for f in resource["findings"]), resource["findings"]


def test_unverifiable_warn_lets_an_unreadable_tag_list_pass(capsys, tmp_path):
    path = template(tmp_path, " !Ref Free")
    code, report = check_json(capsys, "--unverifiable", "warn", str(path))
    assert code == 0
    assert report["files"][0]["resources"][0]["status"] == "unverifiable"


def test_stack_tags_complete_a_template(capsys, tmp_path):
    path = template(tmp_path, "\n        - {Key: ml:model, Value: m}\n        - {Key: ml:experiment, Value: e}")
    assert run_check(capsys, str(path))[0] == 1
    code, _, _ = run_check(
        capsys, "--stack-tag", "ml:team=fraud", "--stack-tag", "ml:environment=production", str(path)
    )
    assert code == 0


def test_templates_without_sagemaker_resources_pass_with_a_note(capsys, tmp_path):
    path = tmp_path / "bucket.yaml"
    path.write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    code, out, _ = run_check(capsys, str(path))
    assert code == 0 and "no SageMaker resource that requires tags" in out


def test_exempt_resources_are_listed_as_skipped(capsys, tmp_path):
    path = tmp_path / "group.yaml"
    path.write_text(
        "Resources:\n  Group:\n    Type: AWS::SageMaker::ModelPackageGroup\n    Properties: {ModelPackageGroupName: g}\n"
    )
    code, report = check_json(capsys, str(path))
    assert code == 0 and "CreateModelPackageGroup is exempt" in report["files"][0]["skipped"][0]


# ---------------------------------------------------------------------------------------------
# Requests: detection by shape, --request-type, CreatePipeline


def test_request_type_can_be_named(capsys, tmp_path):
    path = request_file(tmp_path, with_())
    assert run_check(capsys, "--request-type", "CreateEndpoint", str(path))[0] == 0
    code, out, _ = run_check(capsys, "--request-type", "CreateTrainingJob", str(path))
    assert code == 2 and "not a valid CreateTrainingJob request" in out


def test_create_pipeline_request_checks_its_definition(capsys, tmp_path):
    definition = (FIXTURES / "pipeline-one-untagged-step.json").read_text()
    path = tmp_path / "create-pipeline.json"
    path.write_text(
        json.dumps(
            {
                "PipelineName": "recsys",
                "RoleArn": "arn:aws:iam::111122223333:role/recsys-pipeline",
                "PipelineDefinition": definition,
            }
        )
    )
    code, report = check_json(capsys, str(path))
    assert code == 1
    assert [r["name"] for r in report["files"][0]["resources"] if r["status"] == "fail"] == [
        "Pipeline recsys step CreateModel (Model)"
    ]


# ---------------------------------------------------------------------------------------------
# Bad input: one line, exit 2, no traceback


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("malformed.json", (FIXTURES / "malformed.json").read_bytes(), "not valid JSON"),
        ("broken.yaml", b"Resources: [\n  - {", "not valid JSON or YAML"),
        ("list.json", b"[1, 2]", "expected a JSON/YAML object"),
        (
            "unknown.json",
            b'{"Foo": 1}',
            "not a SageMaker create request, Pipelines definition or CloudFormation template",
        ),
        ("partial.json", b'{"TrainingJobName": "x", "Tags": []}', "closest is CreateTrainingJob (missing"),
        ("empty.json", b"", "the file is empty"),
        ("binary.yaml", bytes(range(128, 256)), "not a text file"),
        ("missing.json", None, "cannot read it"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(capsys, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = run_check(capsys, str(path), str(FIXTURES / "create-training-job.json"))
    assert code == 2
    (line,) = [text for text in out.splitlines() if text.startswith(str(path))]
    assert message in line and "Traceback" not in out + err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["tags", "check", "--format", "xml", "x.json"])
    assert exit_info.value.code == 2
    assert run_check(capsys, "--stack-tag", "no-equals-sign", str(FIXTURES / "create-training-job.json"))[0] == 2


# ---------------------------------------------------------------------------------------------
# Reports


def test_junit_has_one_testcase_per_resource_failing_the_non_compliant(capsys):
    import xml.etree.ElementTree as ET

    code, out, _ = run_check(
        capsys, "--format", "junit", str(FIXTURES / "pipeline-one-untagged-step.json"), str(FIXTURES / "malformed.json")
    )
    assert code == 2
    root = ET.fromstring(out)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {
        "step Prepare (Processing)",
        "step Train (Training)",
        "step CreateModel (Model)",
        str(FIXTURES / "malformed.json"),
    }
    assert cases["step CreateModel (Model)"].find("failure") is not None
    assert cases["step Train (Training)"].find("failure") is None
    assert cases[str(FIXTURES / "malformed.json")].find("error") is not None
    assert root.get("failures") == "1" and root.get("errors") == "1"


def test_text_report_names_each_resource_and_sums_up(capsys):
    code, out, _ = run_check(capsys, str(FIXTURES / "create-processing-job-disallowed-team.json"))
    assert code == 1
    assert "FAIL  ProcessingJob payments-features-2026-08-01" in out
    assert out.rstrip().endswith("1 resources: 0 compliant, 1 non-compliant (0 unverifiable), 0 warnings")


def test_output_file(capsys, tmp_path):
    target = tmp_path / "report.xml"
    code, out, _ = run_check(
        capsys, "--format", "junit", "--output", str(target), str(FIXTURES / "create-training-job.json")
    )
    assert code == 0 and out == "" and "<testsuites" in target.read_text()
