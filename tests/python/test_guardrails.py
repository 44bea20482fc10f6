"""The guardrail templates under governance/: rendered from the tag configuration (a drift check),
valid by the field's linters (parliament for the SCPs, cfn-lint for the CloudFormation), and
right in what they decide: the SCPs' conditions, evaluated as IAM evaluates them, deny the create
calls that lack a key and allow the ones `smcost tags check` passes; the Config rule's Lambda
reports what it should against stubbed SageMaker answers."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from cfnlint.api import ManualArgs, lint
from parliament import analyze_policy_string

from smcost.cli import main
from smcost.governance import guardrails, iam_eval, sagemaker_api
from smcost.governance.tagconfig import DIMENSIONS, load_tag_config
from smcost_testing import REPO

GOVERNANCE = REPO / "governance"
CONFIG = load_tag_config(REPO)
SCPS = [json.loads(p.read_text()) for p in sorted(GOVERNANCE.glob("scp-require-tags-*.json"))]
TEMPLATES = sorted(GOVERNANCE.glob("*.yaml"))
COMPLETE = [("ml:team", "fraud"), ("ml:model", "fraud-xgb"), ("ml:experiment", "e1"), ("ml:environment", "production")]


def test_committed_guardrails_are_what_the_configuration_renders(capsys):
    assert main(["tags", "render-guardrails", "--check"]) == 0, capsys.readouterr().out


def test_render_check_names_a_stale_file(tmp_path, capsys):
    guardrails.render_all(CONFIG, tmp_path)
    (tmp_path / "tag-policy-enforce.json").write_text("{}")
    (tmp_path / "scp-require-tags-9.json").write_text("{}")
    capsys.readouterr()
    assert guardrails.render_all(CONFIG, tmp_path, check=True) == 1
    out = capsys.readouterr().out
    assert "tag-policy-enforce.json is out of date" in out and "scp-require-tags-9.json is out of date" in out


def test_every_tag_taking_create_operation_is_classified():
    assert sagemaker_api.unclassified() == (), "file each new operation in sagemaker_api.REQUIRED or EXEMPT"
    filed = set(sagemaker_api.REQUIRED) | set(sagemaker_api.EXEMPT)
    assert filed - set(sagemaker_api.create_operations_with_tags()) == set(), "filed operations botocore no longer has"
    assert not set(sagemaker_api.REQUIRED) & set(sagemaker_api.EXEMPT)


def test_untaggable_billing_calls_exist_and_take_no_tags():
    for name in sagemaker_api.UNTAGGABLE_BILLING_CALLS:
        assert name in sagemaker_api.service_model().operation_names
        assert not sagemaker_api.takes_tags(name)


# ---------------------------------------------------------------------------------------------
# SCPs


def test_scps_cover_every_required_action_for_every_dimension_within_the_size_limit():
    for path in GOVERNANCE.glob("scp-require-tags-*.json"):
        assert len(path.read_text()) <= guardrails.SCP_MAX_CHARS, path
    covered: dict[str, set[str]] = {}
    for policy in SCPS:
        for statement in policy["Statement"]:
            keys = statement["Condition"]["ForAllValues:StringNotEqualsIgnoreCase"]["aws:TagKeys"]
            dimension = next(d for d in DIMENSIONS if CONFIG.canonical[d] in keys)
            assert keys == list(CONFIG.spellings_of(dimension))
            covered.setdefault(dimension, set()).update(statement["Action"])
    expected = {f"sagemaker:{o}" for o in sagemaker_api.required_operations()}
    assert covered == {d: expected for d in DIMENSIONS}


def denied(action: str, tags: list[tuple[str, str]]) -> bool:
    return iam_eval.is_denied(SCPS, action, iam_eval.request_context(tags))


def replace(**changes: str | None) -> list[tuple[str, str]]:
    tags = dict(COMPLETE)
    for key, value in changes.items():
        key = key.replace("__", ":")
        if value is None:
            tags.pop(key, None)
        else:
            tags[key] = value
    return list(tags.items())


@pytest.mark.parametrize(
    ("case", "action", "tags", "deny"),
    [
        ("all four keys", "sagemaker:CreateTrainingJob", COMPLETE, False),
        ("no tags at all", "sagemaker:CreateTrainingJob", [], True),
        ("environment missing", "sagemaker:CreateEndpoint", replace(ml__environment=None), True),
        ("alias team", "sagemaker:CreateEndpoint", replace(ml__team=None, team="search"), False),
        ("ML:Team (case ignored)", "sagemaker:CreateModel", replace(ml__team=None, **{"ML:Team": "fraud"}), False),
        ("key with a trailing space", "sagemaker:CreateModel", replace(ml__team=None, **{"ml:team ": "fraud"}), True),
        ("only unrelated tags", "sagemaker:CreateNotebookInstance", [("cost-center", "42")], True),
        ("action name in another case", "SageMaker:createtrainingjob", [], True),
        ("exempt create call without tags", "sagemaker:CreateExperiment", [], False),
        ("create call that takes no tags", "sagemaker:CreatePresignedDomainUrl", [], False),
        ("another service", "ec2:RunInstances", [], False),
    ],
)
def test_scp_decision(case, action, tags, deny):
    assert denied(action, tags) is deny


@pytest.mark.parametrize("operation", sagemaker_api.required_operations())
def test_scp_denies_each_required_create_call_without_tags_and_allows_it_with_them(operation):
    assert denied(f"sagemaker:{operation}", [])
    assert not denied(f"sagemaker:{operation}", COMPLETE)


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_each_missing_dimension_is_denied_by_its_own_statement(dimension):
    tags = [(k, v) for k, v in COMPLETE if k != CONFIG.canonical[dimension]]
    sids = iam_eval.denying_statements(SCPS, "sagemaker:CreateTrainingJob", iam_eval.request_context(tags))
    assert sids == [f"DenySageMakerCreateWithout{dimension.capitalize()}Tag"]


def test_scp_and_check_agree_on_key_presence(tmp_path, capsys):
    """For each spelling case, the SCP denies exactly when the check fails for a key reason."""
    cases = {
        "complete": COMPLETE,
        "alias": [("owner-team", "fraud"), *replace(ml__team=None)],
        "capitalized": replace(ml__team=None, **{"ML:TEAM": "fraud"}),
        "spaces": replace(ml__team=None, **{" ml:team": "fraud"}),
        "prefix": replace(ml__team=None, **{"user:ml:team": "fraud"}),
        "missing": replace(ml__model=None),
    }
    for name, tags in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps(
                {"EndpointName": "e", "EndpointConfigName": "c", "Tags": [{"Key": k, "Value": v} for k, v in tags]}
            )
        )
        code = main(["tags", "check", str(path)])
        capsys.readouterr()
        assert (code == 1) is denied("sagemaker:CreateEndpoint", tags), name


def test_iam_evaluator_follows_the_documented_set_semantics():
    holds = iam_eval._operator_holds  # the semantics the SCPs rely on, one by one
    assert holds("ForAllValues:StringNotEqualsIgnoreCase", {"aws:TagKeys": ["a"]}, {})  # absent key: true
    assert not holds("ForAnyValue:StringEquals", {"aws:TagKeys": ["a"]}, {})  # absent key: false
    assert holds("ForAnyValue:StringEquals", {"aws:tagkeys": ["a"]}, {"aws:TagKeys": ["b", "a"]})
    assert not holds("ForAllValues:StringEquals", {"aws:TagKeys": ["a"]}, {"aws:TagKeys": ["b", "a"]})
    assert holds("Null", {"aws:RequestTag/x": "true"}, {})
    assert not holds("Null", {"aws:RequestTag/x": "true"}, {"aws:RequestTag/x": ["1"]})
    assert holds("StringNotEquals", {"aws:RequestTag/x": "1"}, {})  # negated operator, absent key: true
    with pytest.raises(iam_eval.UnsupportedPolicy):
        holds("NumericLessThan", {"aws:RequestTag/x": "1"}, {})


def test_parliament_finds_nothing_but_actions_newer_than_its_iam_data():
    findings = [
        f
        for text in (p.read_text() for p in GOVERNANCE.glob("scp-require-tags-*.json"))
        for f in analyze_policy_string(text, include_community_auditors=True).findings
    ]
    unknown = {f.detail.removeprefix("Unknown action ") for f in findings if f.issue == "UNKNOWN_ACTION"}
    assert [f.issue for f in findings if f.issue != "UNKNOWN_ACTION"] == []
    # parliament's IAM data (bundled with the package) predates these: botocore knows them, and they are few
    assert unknown <= {f"sagemaker:{o}" for o in sagemaker_api.required_operations()}
    assert len(unknown) <= 10, unknown


def test_parliament_would_catch_a_misspelled_condition_key():
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["sagemaker:CreateTrainingJob"],
                "Resource": "*",
                "Condition": {"ForAllValues:StringNotEqualsIgnoreCase": {"aws:TagKey": ["ml:team"]}},
            }
        ],
    }
    issues = [f.issue for f in analyze_policy_string(json.dumps(policy)).findings]
    assert "UNKNOWN_CONDITION_FOR_ACTION" in issues


# ---------------------------------------------------------------------------------------------
# CloudFormation templates, tag policies


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_passes(path):
    matches = lint(path.read_text(), config=ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


def test_cfn_lint_would_catch_a_broken_template():
    broken = "Resources:\n  E:\n    Type: AWS::SageMaker::Endpoint\n    Properties: {Tags: []}\n"
    assert lint(broken, config=ManualArgs(regions=["us-east-1"]))


def test_project_template_passes_the_tags_check(capsys):
    code = main(["tags", "check", str(GOVERNANCE / "sagemaker-project-template.yaml")])
    out = capsys.readouterr().out
    assert code == 0 and out.count("ok  ") == 3, out


def test_tag_policies_carry_the_canonical_keys_and_allowed_values():
    for name, enforced in (("tag-policy-report.json", False), ("tag-policy-enforce.json", True)):
        policy = json.loads((GOVERNANCE / name).read_text())["tags"]
        assert {entry["tag_key"]["@@assign"] for entry in policy.values()} == set(CONFIG.canonical.values())
        team = policy[CONFIG.canonical["team"].lower()]
        assert team["tag_value"]["@@assign"] == sorted(CONFIG.allowed_values["team"])
        assert "tag_value" not in policy[CONFIG.canonical["model"].lower()]
        assert all(("enforced_for" in entry) is enforced for entry in policy.values())


def test_service_catalog_tag_options_offer_exactly_the_allowed_values():
    template = yaml.safe_load((GOVERNANCE / "service-catalog-tag-options.yaml").read_text())
    options = {
        (r["Properties"]["Key"], r["Properties"]["Value"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ServiceCatalog::TagOption"
    }
    assert options == {(CONFIG.canonical[d], v) for d, values in CONFIG.allowed_values.items() for v in values}


# ---------------------------------------------------------------------------------------------
# AWS Config


def config_template() -> dict:
    return yaml.safe_load((GOVERNANCE / "config-rule.yaml").read_text())


def test_managed_rule_is_scoped_to_the_recorded_sagemaker_types():
    rule = config_template()["Resources"]["SageMakerRequiredTags"]["Properties"]
    types = rule["Scope"]["ComplianceResourceTypes"]
    assert "AWS::SageMaker::Model" in types and "AWS::SageMaker::Endpoint" not in types
    assert rule["InputParameters"]["tag1Key"] == CONFIG.canonical["team"]
    assert rule["InputParameters"]["tag1Value"].split(",") == sorted(CONFIG.allowed_values["team"])


def test_lambda_code_fits_inline_and_its_role_allows_its_calls():
    resources = config_template()["Resources"]
    code = resources["UnrecordedResourcesRuleFunction"]["Properties"]["Code"]["ZipFile"]
    assert len(code) <= 4096  # CloudFormation's limit for inline (ZipFile) code
    statement = resources["UnrecordedResourcesRuleRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == guardrails.custom_rule_actions()


def test_lambda_reports_untagged_resources_to_config(monkeypatch):
    resources = config_template()["Resources"]["UnrecordedResourcesRuleFunction"]["Properties"]
    monkeypatch.setenv("SMCOST_TAG_CONFIG", resources["Environment"]["Variables"]["SMCOST_TAG_CONFIG"])
    namespace: dict = {}
    exec(compile(resources["Code"]["ZipFile"], "index.py", "exec"), namespace)

    sagemaker = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    config = boto3.client("config", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    when = datetime.datetime(2026, 8, 1, tzinfo=datetime.timezone.utc)
    endpoint = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/fraud-scorer"
    notebook = "arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/scratch"
    with Stubber(sagemaker) as sm, Stubber(config) as cfg:
        for call, key, arn_field, filters, _ in guardrails.CUSTOM_RULE_LISTINGS:
            items = []
            if call == "list_endpoints":
                items = [
                    {
                        "EndpointName": "fraud-scorer",
                        "EndpointArn": endpoint,
                        "CreationTime": when,
                        "LastModifiedTime": when,
                        "EndpointStatus": "InService",
                    }
                ]
            if call == "list_notebook_instances":
                items = [{"NotebookInstanceName": "scratch", "NotebookInstanceArn": notebook}]
            sm.add_response(call, {key: items}, filters)
            for item in items:
                tags = (
                    [
                        {"Key": "ML:Team", "Value": "Fraud"},
                        {"Key": "model", "Value": "m"},
                        {"Key": "experiment", "Value": "e"},
                        {"Key": "env", "Value": "production"},
                    ]
                    if item.get(arn_field) == endpoint
                    else [{"Key": "team", "Value": "payments"}]
                )
                sm.add_response("list_tags", {"Tags": tags}, {"ResourceArn": item[arn_field]})
        cfg.add_response(
            "put_evaluations",
            {},
            {
                "ResultToken": "token",
                "Evaluations": [
                    {
                        "ComplianceResourceType": "AWS::SageMaker::Endpoint",
                        "ComplianceResourceId": "fraud-scorer",
                        "ComplianceType": "COMPLIANT",
                        "Annotation": "all attribution tags present",
                        "OrderingTimestamp": "2026-08-01T06:00:00.000Z",
                    },
                    {
                        "ComplianceResourceType": "AWS::SageMaker::NotebookInstance",
                        "ComplianceResourceId": "scratch",
                        "ComplianceType": "NON_COMPLIANT",
                        "Annotation": "missing ml:model, ml:experiment, ml:environment; not allowed: team=payments",
                        "OrderingTimestamp": "2026-08-01T06:00:00.000Z",
                    },
                ],
            },
        )
        clients = {"sagemaker": sagemaker, "config": config}
        monkeypatch.setattr(namespace["boto3"], "client", lambda name: clients[name])
        event = {
            "invokingEvent": json.dumps({"notificationCreationTime": "2026-08-01T06:00:00.000Z"}),
            "resultToken": "token",
        }
        assert namespace["handler"](event, None) == 2
        sm.assert_no_pending_responses()
        cfg.assert_no_pending_responses()


def test_readme_names_the_calls_no_tag_condition_reaches():
    text = (GOVERNANCE / "README.md").read_text()
    for name in [*sagemaker_api.create_operations_without_tags(), *sagemaker_api.UNTAGGABLE_BILLING_CALLS]:
        assert f"`{name}`" in text


def test_guardrails_follow_a_changed_configuration(tmp_path):
    """Generated from the configuration, not a copy: another canonical key and team list show up everywhere."""
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        (REPO / "dbt_project.yml").read_text().replace('team: "ml:team"', 'team: "cost:owner"')
    )
    (project / "seeds/tag_key_aliases.csv").write_text("dimension,tag_key\nteam,squad\n")
    (project / "seeds/tag_allowed_values.csv").write_text("dimension,value\nteam,payments\n")
    config = load_tag_config(project)
    files = guardrails.rendered(config)
    scp = json.loads(files["scp-require-tags-1.json"])
    assert scp["Statement"][0]["Condition"]["ForAllValues:StringNotEqualsIgnoreCase"]["aws:TagKeys"] == [
        "cost:owner",
        "squad",
    ]
    assert json.loads(files["tag-policy-enforce.json"])["tags"]["cost:owner"]["tag_value"]["@@assign"] == ["payments"]
    assert "payments" in files["service-catalog-tag-options.yaml"] and "ml:team" not in files["config-rule.yaml"]
