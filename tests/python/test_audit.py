"""`smcost audit` against moto over HTTP: what runs now, its tags, its $/hour, coverage and the gate.

Nothing of the audit is mocked: it reads moto's server through the extractor's engine exactly as it
would read AWS. moto has no ListApps, so the Studio apps come from botocore's Stubber (which holds
requests and responses to the real API shapes); every other call reaches moto. Faults (AccessDenied,
throttling) are AWS error bodies from the harness's layer in front of moto. The ground truth is
audit_scenario.EXPECTED, written out by hand; coverage is recomputed here from it, not from the
audit's own numbers.
"""

from __future__ import annotations

import csv
import io
import math
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from extractor import audit_scenario as scenario
from extractor import conftest as extractor_fixtures
from extractor import moto_gaps
from extractor.audit_scenario import EXPECTED, Auditor
from extractor.extract_scenario import ACCOUNT, REGION, ROLE, WEST, hour, training_job
from smcost import audit
from smcost.cli import main

# The extractor suite's fixtures (one moto server, reset per test), shared rather than copied.
moto_server, moto, aws, api_calls = (
    extractor_fixtures.moto_server,
    extractor_fixtures.moto,
    extractor_fixtures.aws,
    extractor_fixtures.api_calls,
)
# A retry budget shorter than one attempt may take (connect + read timeouts): a throttled call gives up
# at its first throttle, deterministically however loaded the machine is; AccessDenied is never retried.
FAST = ("--max-retry-seconds", "6")


@pytest.fixture
def auditor(aws, api_calls: Counter, tmp_path) -> Auditor:
    scenario.populate(aws)
    runner = Auditor(aws, api_calls, tmp_path)
    runner.app_stubs[(ACCOUNT, REGION)] = scenario.APP_STUBS
    return runner


def _by_name(payload: dict) -> dict[tuple[str, str], dict]:
    return {(r["region"], r["name"]): r for r in payload["resources"]}


def _expected_coverage() -> tuple[float, float]:
    """Coverage by count and by $/hour from the ground truth alone."""
    compliant = [e for e in EXPECTED.values() if e.compliant]
    known = [e for e in EXPECTED.values() if e.usd_per_hour is not None]
    by_count = 100 * len(compliant) / len(EXPECTED)
    by_dollars = 100 * sum(e.usd_per_hour for e in known if e.compliant) / sum(e.usd_per_hour for e in known)
    return by_count, by_dollars


# --------------------------------------------------------------------------------------------
# What the audit finds, and how it judges it
# --------------------------------------------------------------------------------------------


def test_the_audit_lists_exactly_what_runs_and_judges_each_resource_as_the_ground_truth(auditor, tmp_path):
    code, report = auditor("--regions", f"{REGION},{WEST}", database=scenario.bill_database(tmp_path / "bill.duckdb"))
    found = _by_name(report)
    assert set(found) == set(EXPECTED)  # finished jobs, the stopped notebook and the deleted app are not there
    for key, expected in EXPECTED.items():
        resource = found[key]
        assert resource["compliant"] is expected.compliant, (key, resource["findings"])
        assert tuple(resource["missing"]) == expected.missing, (key, resource["findings"])
        assert resource["rate_source"] == expected.rate_source, key
        if expected.usd_per_hour is None:
            assert resource["usd_per_hour"] is None, key
        else:
            assert math.isclose(resource["usd_per_hour"], expected.usd_per_hour, rel_tol=1e-9), key
    assert report["errors"] == []
    assert code == audit.EXIT_BELOW  # the scenario's coverage is far below the default 80%


def test_tag_rules_alias_case_fifty_tags_spaces_empty_and_disallowed_values(auditor):
    _, report = auditor("--regions", REGION)
    found = {name: r for (_, name), r in _by_name(report).items()}
    assert found["train-alias"]["values"] == {
        "team": "search",
        "model": "ranker",
        "experiment": "exp-2",
        "environment": "development",
    }
    messages = {name: [f["message"] for f in r["findings"]] for name, r in found.items()}
    assert any("'ML:Model' is read as ml:model" in m for m in messages["train-alias"])  # a warning, still compliant
    assert any("'ML:Team' is read as ml:team" in m for m in messages["nb-case"])
    assert found["train-fifty-tags"]["tag_count"] == 50 and found["train-fifty-tags"]["findings"] == []
    assert any("' ml:team' matches ml:team only once its spaces" in m for m in messages["prep-spaced-key"])
    assert any("has an empty value" in m for m in messages["score-empty-value"])
    assert any("ml:team='payments' is not an allowed team" in m for m in messages["train-bad-value"])
    assert [f["level"] for f in found["train-untagged"]["findings"]] == ["error"] * 4


def test_the_report_ranks_the_most_expensive_non_compliant_resources_first(auditor):
    _, report = auditor("--regions", f"{REGION},{WEST}")
    ranked = [(r["compliant"], r["usd_per_hour"]) for r in report["resources"]]
    failing = [rate for ok, rate in ranked if not ok]
    assert [ok for ok, _ in ranked] == sorted(ok for ok, _ in ranked)  # every non-compliant one first
    known = [rate for rate in failing if rate is not None]
    assert known == sorted(known, reverse=True) and failing[len(known) :] == [None] * (len(failing) - len(known))
    assert [r["name"] for r in report["resources"][:2]] == ["hyperpod", "train-untagged"]


def test_coverage_by_count_and_by_dollars_agree_with_the_ground_truth(auditor, tmp_path):
    _, report = auditor("--regions", f"{REGION},{WEST}", database=scenario.bill_database(tmp_path / "bill.duckdb"))
    by_count, by_dollars = _expected_coverage()
    coverage = report["coverage"]
    assert coverage["resources"] == len(EXPECTED)
    assert coverage["unknown_rate"] == sum(1 for e in EXPECTED.values() if e.usd_per_hour is None)
    assert math.isclose(coverage["by_count_percent"], by_count, abs_tol=0.01)
    assert math.isclose(coverage["by_usd_per_hour_percent"], by_dollars, abs_tol=0.01)
    assert report["gate"] == {"min_coverage_percent": 80.0, "applies_to": "both", "below": ["count", "dollars"]}


def test_a_billed_rate_is_the_latest_period_s_effective_cost_per_instance_hour(auditor, tmp_path):
    _, with_bill = auditor(
        "--regions", REGION, "--resources", "endpoint", database=scenario.bill_database(tmp_path / "b.duckdb")
    )
    _, without = auditor("--regions", REGION, "--resources", "endpoint")
    partial = {r["name"]: r for r in with_bill["resources"]}["ep-partial"]
    assert partial["instances"] == [
        {"instance_type": "ml.g4dn.xlarge", "count": 2},
        {"instance_type": "ml.m5.large", "count": 1},
    ]
    assert (partial["rate_source"], partial["usd_per_hour"]) == ("bill+price_list", pytest.approx(2 * 0.50 + 0.115))
    listed = {r["name"]: r for r in without["resources"]}["ep-partial"]
    assert (listed["rate_source"], listed["usd_per_hour"]) == ("price_list", pytest.approx(2 * 0.7364 + 0.115))
    assert any("no billed rates" in s for s in without["rate_sources"])


# --------------------------------------------------------------------------------------------
# Faults: one region fails, the others are still audited
# --------------------------------------------------------------------------------------------


def test_access_denied_in_one_region_is_a_counted_failure_and_the_other_region_is_audited(auditor):
    auditor.moto.faults.add("AccessDeniedException", region=WEST)
    code, report = auditor("--regions", f"{REGION},{WEST}", "--min-coverage", "0", *FAST)
    assert code == audit.EXIT_PARTIAL
    failed = {e["unit"] for e in report["errors"]}
    # Studio apps come from a Stubber (moto has no ListApps), which the fault layer on the wire cannot reach.
    assert failed == {f"{ACCOUNT}/{WEST}/{kind}" for kind in audit.RESOURCES.values() if kind != "live_studio_apps"}
    assert {e["kind"] for e in report["errors"]} == {"AccessDenied"}
    assert all("grant sagemaker:" in e["hint"] for e in report["errors"])
    assert {r["region"] for r in report["resources"]} == {REGION}
    assert len(report["resources"]) == sum(1 for region, _ in EXPECTED if region == REGION)


def test_throttling_is_retried_and_a_region_throttled_past_its_budget_is_counted_not_fatal(auditor):
    auditor.moto.faults.add("ThrottlingException", region=WEST, operation="Search", times=2)
    # The default budget (--max-retry-seconds 300) outlasts two throttles; the bound is the second half's.
    code, report = auditor("--regions", f"{REGION},{WEST}", "--min-coverage", "0")
    assert (code, report["errors"]) == (audit.EXIT_OK, [])
    assert (WEST, "train-west") in _by_name(report)

    auditor.moto.faults.add("ThrottlingException", region=WEST, operation="Search")
    code, report = auditor("--regions", f"{REGION},{WEST}", "--min-coverage", "0", *FAST)
    assert code == audit.EXIT_PARTIAL
    assert {(e["unit"], e["kind"]) for e in report["errors"]} == {
        (f"{ACCOUNT}/{WEST}/live_training_jobs", "Throttling"),
        (f"{ACCOUNT}/{WEST}/live_endpoints", "Throttling"),
    }
    assert (WEST, "train-west") not in _by_name(report) and (REGION, "train-untagged") in _by_name(report)


def test_nothing_readable_is_its_own_exit_status(auditor):
    auditor.moto.faults.add("AccessDeniedException", region=WEST)
    kinds = ",".join(r for r in audit.RESOURCES if r != "app")  # apps are stubbed, off the wire
    code, report = auditor("--regions", WEST, "--resources", kinds, "--min-coverage", "0", *FAST)
    assert code == audit.EXIT_NOTHING and report["resources"] == []


# --------------------------------------------------------------------------------------------
# The gate and the command line
# --------------------------------------------------------------------------------------------


def _endpoints_only(aws) -> None:
    sm = aws.client("sagemaker")
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE + "serving", PrimaryContainer={"Image": "x"})
    for name, instance_type, tags in (
        ("cheap-tagged", "ml.m5.xlarge", [{"Key": k, "Value": v} for k, v in scenario.FULL.items()]),
        ("costly-untagged", "ml.g4dn.xlarge", []),
    ):
        sm.create_endpoint_config(
            EndpointConfigName=f"cfg-{name}",
            ProductionVariants=[
                {"VariantName": "A", "ModelName": "m", "InstanceType": instance_type, "InitialInstanceCount": 1}
            ],
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"cfg-{name}", Tags=tags)


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        ((), audit.EXIT_BELOW),  # the var's 80%: 50% by count, 23.8% by $/hour
        (("--min-coverage", "50", "--gate", "count"), audit.EXIT_OK),  # at the gate is enough
        (("--min-coverage", "50.01", "--gate", "count"), audit.EXIT_BELOW),
        (("--min-coverage", "50"), audit.EXIT_BELOW),  # by $/hour: 0.23 of 0.9664
        (("--min-coverage", "23", "--gate", "dollars"), audit.EXIT_OK),
        (("--min-coverage", "150"), audit.EXIT_USAGE),
        (("--resources", "endpoint,spaceship"), audit.EXIT_USAGE),
        (("--accounts", "111122223333"), audit.EXIT_USAGE),  # no --role-name
        (("--database", "/nonexistent/smcost.duckdb"), audit.EXIT_USAGE),
    ],
)
def test_the_gate_s_exit_codes_through_the_cli(aws, flags, code, capsys):
    _endpoints_only(aws)
    argv = ["audit", "--regions", REGION, "--resources", "endpoint", "--no-progress", "--database", "", *flags]
    assert main(argv) == code, capsys.readouterr()
    out = capsys.readouterr()
    if code == audit.EXIT_USAGE:
        assert "smcost audit: error:" in out.err
    else:
        assert "coverage by count   1/2 compliant  50.0%" in out.out
        assert "FAIL" in out.out.split("costly-untagged")[0].splitlines()[-1]


def test_the_junit_report_parses_with_one_failing_case_per_non_compliant_resource(auditor):
    code, _ = auditor("--regions", f"{REGION},{WEST}", "--format", "junit")
    root = ET.fromstring(auditor.report)
    cases = root.findall("./testsuite/testcase[@classname]")
    resources = [c for c in cases if c.get("classname") != "coverage"]
    failing = {c.get("name") for c in resources if c.find("failure") is not None}
    assert failing == {name for (_, name), e in EXPECTED.items() if not e.compliant}
    assert {c.get("name") for c in resources} == {name for _, name in EXPECTED}
    gate = root.find("./testsuite[@name='coverage gate']")
    assert gate is not None and len(gate.findall("testcase/failure")) == 2
    assert int(root.get("failures")) == len(failing) + 2
    assert code == audit.EXIT_BELOW


def test_the_csv_report_has_one_row_per_resource_ranked(auditor):
    auditor("--regions", REGION, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(auditor.report)))
    assert len(rows) == sum(1 for region, _ in EXPECTED if region == REGION)
    assert rows[0]["name"] == "hyperpod" and rows[0]["compliant"] == "False"
    assert rows[0]["missing"] == "environment;experiment;model;team"
    assert {r["name"]: r["team"] for r in rows}["train-alias"] == "search"


# --------------------------------------------------------------------------------------------
# API calls against their floor
# --------------------------------------------------------------------------------------------

CALLS: dict[int, dict[str, int]] = {}


@pytest.mark.parametrize("n", [10, 100])
def test_api_calls_for_n_running_resources_are_at_their_floor(aws, api_calls, tmp_path, n):
    """N in-progress training jobs, N in-service endpoints on one config, N notebooks, N processing
    jobs. Search returns tags with each record (100 a page); the List-only kinds pay one ListTags
    per resource (and processing jobs a Describe: the summary lacks the instances)."""
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker(REGION)
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE + "serving", PrimaryContainer={"Image": "x"})
    sm.create_endpoint_config(
        EndpointConfigName="shared",
        ProductionVariants=[
            {"VariantName": "A", "ModelName": "m", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}
        ],
    )
    for i in range(n):
        training_job(sm, f"job-{i}")
        backend.training_jobs[f"job-{i}"].training_job_status = "InProgress"
        sm.create_endpoint(EndpointName=f"ep-{i}", EndpointConfigName="shared")
        sm.create_notebook_instance(NotebookInstanceName=f"nb-{i}", InstanceType="ml.t3.medium", RoleArn=ROLE + "nb")
        sm.create_processing_job(
            ProcessingJobName=f"prep-{i}",
            ProcessingResources={
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 5}
            },
            AppSpecification={"ImageUri": "x"},
            RoleArn=ROLE + "prep",
        )
        backend.processing_jobs[f"prep-{i}"].processing_job_status = "InProgress"
    training_job(sm, "done")  # Completed: filtered server-side, never paged
    runner = Auditor(aws, api_calls, tmp_path)
    _, report = runner("--regions", REGION, "--resources", "training-job,endpoint,notebook-instance,processing-job")
    assert report["coverage"]["resources"] == 4 * n
    pages = math.ceil(n / 100)
    floor = {
        "sagemaker:Search": 2 * pages,  # training jobs and endpoints, with their tags
        "sagemaker:DescribeEndpointConfig": 1,  # one config for all N endpoints
        "sagemaker:ListNotebookInstances": pages,
        "sagemaker:ListProcessingJobs": pages,
        "sagemaker:DescribeProcessingJob": n,
        "sagemaker:ListTags": 2 * n,  # notebooks and processing jobs: no call returns their tags in bulk
        "sts:GetCallerIdentity": 1,
    }
    assert report["api_calls"] == floor
    CALLS[n] = report["api_calls"]
    print(f"\nN={n}: {report['api_calls_total']} calls for {4 * n} running resources: {report['api_calls']}")


def test_the_audit_reads_an_old_job_s_age(aws, api_calls, tmp_path):
    sm = aws.client("sagemaker")
    training_job(sm, "long-runner")
    job = moto_gaps.sagemaker(REGION).training_jobs["long-runner"]
    job.training_job_status, job.creation_time = "InProgress", hour(50)
    _, report = Auditor(aws, api_calls, tmp_path)("--regions", REGION, "--resources", "training-job")
    (resource,) = report["resources"]
    assert 50 <= resource["age_hours"] < 52
