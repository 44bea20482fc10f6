"""Fault injection for `smcost extract`: one row per fault AWS, or the network to it, can throw.

The standing guard of issue 8. Each row injects one fault on the wire (moto over HTTP behind the
harness's fault layer, a socket that accepts and never answers, a port that refuses), runs
`smcost extract` through its CLI, and checks what a user would see: the exit status, exactly which
units failed with which error kind and what their message names, which rows landed, how many
requests reached the fault, and that the run ended within a bound derived from the configured
timeouts (a run that hangs fails the row when the bound passes, instead of hanging the suite).

Nothing of the extractor is mocked. moto serves every API these rows call, so no Stubber is needed.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from extractor import conftest as extractor_fixtures
from extractor import moto_gaps
from extractor.extract_scenario import ACCOUNT, ARN, BUCKET, REGION, ROLE, WEST, hour, set_job_times, training_job
from extractor.harness import MotoAws, SilentEndpoint, closed_port_url, landed
from smcost.cli import main
from smcost.extractor import add_arguments
from smcost.extractor.options import from_args

# The extractor suite's fixtures (one moto server, reset per test), shared rather than copied.
moto_server, moto, aws = extractor_fixtures.moto_server, extractor_fixtures.moto, extractor_fixtures.aws

# Tight limits so each row takes seconds; every row's bound is derived from them (see _bound).
FAST = ("--connect-timeout", "1", "--read-timeout", "1", "--max-retry-seconds", "5")
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
EAST_JOBS = {(REGION, "train-a"), (REGION, "train-b")}
ENDPOINT = "ep"
NAME_COLUMN = {
    "training_jobs": "training_job_name",
    "log_groups": "log_group_name",
    "models": "model_name",
    "endpoints": "endpoint_name",
    "endpoint_utilization": "endpoint_name",
}


# --------------------------------------------------------------------------------------------
# The account every row starts from, and the faults
# --------------------------------------------------------------------------------------------


def _account(aws: MotoAws) -> None:
    """Two training jobs in us-east-1 and one in us-west-2, a log group, a model with an S3 artifact
    served by an endpoint with an hour of instance utilisation."""
    for region, name in ((REGION, "train-a"), (REGION, "train-b"), (WEST, "train-west")):
        training_job(aws.client("sagemaker", region), name)
        set_job_times(moto_gaps.sagemaker(region).training_jobs[name], hour(48), 10)
    aws.client("logs").create_log_group(logGroupName=LOG_GROUP)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    aws.client("s3").put_object(Bucket=BUCKET, Key="models/m1/model.tar.gz", Body=b"weights")
    aws.client("sagemaker").create_model(
        ModelName="m1",
        ExecutionRoleArn=ROLE + "inference",
        PrimaryContainer={
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
            "ModelDataUrl": f"s3://{BUCKET}/models/m1/model.tar.gz",
        },
    )
    aws.client("sagemaker").create_endpoint_config(
        EndpointConfigName="ep-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "m1", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    aws.client("sagemaker").create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="ep-config")
    variant = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]
    at = hour(2).replace(tzinfo=timezone.utc) + timedelta(minutes=10)
    aws.client("cloudwatch").put_metric_data(
        Namespace="/aws/sagemaker/Endpoints",
        MetricData=[{"MetricName": "CPUUtilization", "Dimensions": variant, "Timestamp": at, "Value": 3.0}],
    )


@dataclass
class Wire:
    """What a row injected: the endpoint its messages must name, and the requests it received."""

    endpoint: str
    requests: Callable[[], int | None] = lambda: None


Inject = Callable[[MotoAws, pytest.MonkeyPatch, ExitStack], Wire]


def silent(env_var: str) -> Inject:
    """Point ``env_var`` (AWS_ENDPOINT_URL or a per-service one) at a socket that never answers."""

    def inject(aws: MotoAws, env: pytest.MonkeyPatch, stack: ExitStack) -> Wire:
        endpoint = stack.enter_context(SilentEndpoint())
        env.setenv(env_var, endpoint.url)
        return Wire(endpoint.url, lambda: endpoint.accepted)

    return inject


def refused(env_var: str) -> Inject:
    def inject(aws: MotoAws, env: pytest.MonkeyPatch, stack: ExitStack) -> Wire:
        url = closed_port_url()
        env.setenv(env_var, url)
        return Wire(url)

    return inject


def error(code: str, **match) -> Inject:
    """Answer matching requests with an AWS error, as AWS words it (the harness's fault layer)."""

    def inject(aws: MotoAws, env: pytest.MonkeyPatch, stack: ExitStack) -> Wire:
        fault = aws.faults.add(code, **match)
        return Wire(aws.url, lambda: fault.hits)

    return inject


def answer(body: dict, **match) -> Inject:
    """Answer matching requests with a page AWS might send, before moto sees them."""

    def inject(aws: MotoAws, env: pytest.MonkeyPatch, stack: ExitStack) -> Wire:
        fault = aws.faults.answer(body, **match)
        return Wire(aws.url, lambda: fault.hits)

    return inject


def truncate(**match) -> Inject:
    """Cut moto's answers to matching requests in half, the Content-Length still promising it all."""

    def inject(aws: MotoAws, env: pytest.MonkeyPatch, stack: ExitStack) -> Wire:
        fault = aws.faults.truncate(**match)
        return Wire(aws.url, lambda: fault.hits)

    return inject


_RUNAWAY_JOB = {
    "TrainingJob": {
        "TrainingJobName": "runaway",
        "TrainingJobArn": ARN + "training-job/runaway",
        "TrainingJobStatus": "InProgress",
        "CreationTime": 1_700_000_000,
        "LastModifiedTime": 1_700_000_000,
    }
}


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    exit: int
    # unit ("region/dataset") -> (error kind, what its message and hint must say; "{endpoint}" = the fault's)
    failed: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    landed: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # dataset -> {(region, name)}
    requests: int | range | None = None  # requests that reached the fault (range: from, up to but not incl.)
    calls: dict[str, int] = field(default_factory=dict)  # logical API calls in the manifest
    warns: tuple[str, ...] = ()  # what one unit's warning must say
    says: tuple[str, ...] = ()  # what the command prints (stdout and stderr)


@dataclass(frozen=True)
class Case:
    id: str
    inject: Inject
    argv: tuple[str, ...]
    outcome: Outcome


CASES = [
    Case(
        "silent-sagemaker-endpoint: the call retries within its budget, then every unit on it fails at once",
        silent("AWS_ENDPOINT_URL_SAGEMAKER"),
        ("--datasets", "training_jobs,models,notebook_instances,log_groups", "--workers", "1", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{REGION}/training_jobs": (
                    "EndpointUnresponsive",
                    (
                        "sagemaker:Search at {endpoint}",
                        "no complete answer within --read-timeout 1s",
                        "--max-retry-seconds 5",
                        "raise --read-timeout",
                    ),
                ),
                f"{REGION}/models": ("EndpointUnresponsive", ("sagemaker:ListModels at {endpoint}", "not called")),
                f"{REGION}/notebook_instances": (
                    "EndpointUnresponsive",
                    ("sagemaker:ListNotebookInstances at {endpoint}", "not called"),
                ),
            },
            landed={"log_groups": {(REGION, LOG_GROUP)}},
            # One attempt (1 s), one retry (it could end by 1 + 2 + 2 s), none after: the later
            # units never connect.
            requests=2,
        ),
    ),
    Case(
        "silent-endpoint-before-any-unit: STS never answers, the run cannot start and says why",
        silent("AWS_ENDPOINT_URL"),
        ("--datasets", "training_jobs", *FAST),
        Outcome(
            exit=1,
            requests=2,
            says=("sts:GetCallerIdentity at {endpoint}", "no complete answer within --read-timeout 1s"),
        ),
    ),
    Case(
        "refused-ecr-endpoint: only the unit that needs ECR fails",
        refused("AWS_ENDPOINT_URL_ECR"),
        ("--datasets", "ecr_images", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{REGION}/ecr_images": (
                    "EndpointUnreachable",
                    ("ecr:DescribeImages at {endpoint}", "could not connect (EndpointConnectionError)"),
                )
            },
            landed={"training_jobs": EAST_JOBS, "models": {(REGION, "m1")}},
        ),
    ),
    Case(
        "throttling-storm: retried until the time budget, not the 10 attempts, then one unit fails",
        error("ThrottlingException", operation="Search", region=WEST),
        ("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{WEST}/training_jobs": (
                    "Throttling",
                    ("sagemaker:Search at {endpoint}", "ThrottlingException on", "--max-retry-seconds 5"),
                )
            },
            landed={"training_jobs": EAST_JOBS},
            requests=range(2, 10),
        ),
    ),
    Case(
        "throttling-storm-outlasting-max-attempts: botocore's own limit, the same clear failure",
        error("ThrottlingException", operation="Search", region=WEST),
        (
            "--regions",
            f"{REGION},{WEST}",
            "--datasets",
            "training_jobs",
            "--max-attempts",
            "2",
            *FAST[:4],
            "--max-retry-seconds",
            "15",
        ),
        Outcome(
            exit=3,
            failed={f"{WEST}/training_jobs": ("Throttling", ("sagemaker:Search", "--max-attempts"))},
            landed={"training_jobs": EAST_JOBS},
            requests=2,  # --max-attempts counts the first attempt
        ),
    ),
    Case(
        "throttling-storm-that-ends: the retries recover and everything lands",
        error("ThrottlingException", operation="Search", times=2),
        ("--datasets", "training_jobs", *FAST[:4], "--max-retry-seconds", "15"),
        Outcome(exit=0, landed={"training_jobs": EAST_JOBS}, requests=2, calls={"sagemaker:Search": 1}),
    ),
    Case(
        "access-denied-on-search-in-one-region: the missing action is named, the rest lands",
        error("AccessDeniedException", operation="Search", region=WEST),
        ("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs,log_groups", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{WEST}/training_jobs": (
                    "AccessDenied",
                    ("sagemaker:Search", "grant sagemaker:Search", "extract/iam-policy.json"),
                )
            },
            landed={"training_jobs": EAST_JOBS, "log_groups": {(REGION, LOG_GROUP)}},
            says=("us-west-2/training_jobs: AccessDeniedException",),
        ),
    ),
    Case(
        "access-denied-on-list-tags: a per-resource call's action is named too",
        error("AccessDeniedException", operation="ListTags"),
        ("--datasets", "models,training_jobs", *FAST),
        Outcome(
            exit=3,
            failed={f"{REGION}/models": ("AccessDenied", ("sagemaker:ListTags", "grant sagemaker:ListTags"))},
            landed={"training_jobs": EAST_JOBS},
        ),
    ),
    # endpoint_invocations needs inference_components, which moto lacks: the metric rows read
    # endpoint_utilization, whose GetMetricData calls go through the same reader.
    Case(
        "throttled-get-metric-data: CloudWatch's throttling is retried, and the hour lands",
        error("Throttling", service="monitoring", operation="GetMetricData", times=2),
        ("--datasets", "endpoint_utilization", *FAST[:4], "--max-retry-seconds", "15"),
        Outcome(
            exit=0,
            landed={"endpoint_utilization": {(REGION, ENDPOINT)}},
            requests=2,
            calls={"cloudwatch:GetMetricData": 1},  # the retries are not calls
        ),
    ),
    Case(
        "access-denied-on-get-metric-data: the metrics unit fails naming the action, the endpoints land",
        error("AccessDenied", service="monitoring", operation="GetMetricData"),
        ("--datasets", "endpoint_utilization", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{REGION}/endpoint_utilization": (
                    "AccessDenied",
                    ("cloudwatch:GetMetricData", "grant cloudwatch:GetMetricData", "extract/iam-policy.json"),
                )
            },
            landed={"endpoints": {(REGION, ENDPOINT)}, "endpoint_utilization": set()},  # landed empty
            requests=1,
            says=(f"{REGION}/endpoint_utilization: AccessDenied",),
        ),
    ),
    Case(
        "runaway-next-token: a listing that never ends stops at --max-pages, and nothing of it lands",
        answer({"Results": [_RUNAWAY_JOB], "NextToken": "again"}, operation="Search"),
        ("--datasets", "training_jobs", "--max-pages", "5", *FAST),
        Outcome(
            exit=4,
            failed={
                f"{REGION}/training_jobs": (
                    "PageBound",
                    ("sagemaker:Search returned more than 5 pages", "raise --max-pages"),
                )
            },
            landed={"training_jobs": set()},  # landed empty: readers still find the dataset
            requests=5,
            calls={"sagemaker:Search": 5},
        ),
    ),
    Case(
        "endless-empty-pages: the known SageMaker quirk ends the listing after 25, with a warning",
        answer({"Results": [], "NextToken": "again"}, operation="Search"),
        ("--datasets", "training_jobs", *FAST),
        Outcome(
            exit=0, landed={"training_jobs": set()}, requests=25, warns=("sagemaker:Search: 25 empty pages in a row",)
        ),
    ),
    Case(
        "empty-page-with-a-next-token: a short page is not the last one",
        answer({"Results": [], "NextToken": "0"}, operation="Search", times=1),
        ("--datasets", "training_jobs", *FAST),
        Outcome(exit=0, landed={"training_jobs": EAST_JOBS}, requests=1, calls={"sagemaker:Search": 2}),
    ),
    Case(
        "page-cut-short-once: retried, not read as an empty last page",
        truncate(operation="Search", times=1),
        ("--datasets", "training_jobs", *FAST),
        Outcome(exit=0, landed={"training_jobs": EAST_JOBS}, requests=1, calls={"sagemaker:Search": 1}),
    ),
    Case(
        "page-cut-short-every-time: the unit fails within its budget, the others land",
        truncate(operation="Search"),
        ("--datasets", "training_jobs,log_groups", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{REGION}/training_jobs": (
                    "EndpointUnresponsive",
                    ("sagemaker:Search at {endpoint}", "answers cut short", "--max-retry-seconds 5"),
                )
            },
            landed={"log_groups": {(REGION, LOG_GROUP)}},
            requests=range(2, 10),
        ),
    ),
    Case(
        "xml-answer-cut-short: S3 listings (XML) cut short are bounded the same way",
        truncate(service="s3", operation=None),
        ("--datasets", "s3_artifacts", *FAST),
        Outcome(
            exit=3,
            failed={
                f"{REGION}/s3_artifacts": (
                    "EndpointUnresponsive",
                    ("s3:ListObjectsV2 at {endpoint}", "answers cut short"),
                )
            },
            landed={"models": {(REGION, "m1")}, "training_jobs": EAST_JOBS},
            requests=range(2, 10),
        ),
    ),
    Case(
        "sts-answer-cut-short: an XML answer that does not parse stops the run with one clear line",
        truncate(service="sts", operation="GetCallerIdentity"),
        ("--datasets", "training_jobs", *FAST),
        # botocore raises its parse error after the attempt, where no retry applies: one request.
        Outcome(exit=1, requests=1, says=("sts:GetCallerIdentity: Unable to parse response", "did not parse")),
    ),
]


# --------------------------------------------------------------------------------------------
# Running a row
# --------------------------------------------------------------------------------------------


def _bound(argv: tuple[str, ...]) -> float:
    """Ten times one attempt's timeouts: generous, yet minutes below what an unbounded retry takes."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = from_args(parser.parse_args(["--out", "unused", *argv]))
    return 10 * (options.connect_timeout + options.read_timeout)


def _run_bounded(argv: list[str], bound: float) -> tuple[int, float]:
    """`smcost extract` on a thread; the row fails if it is still running after ``bound`` seconds."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["exit"] = main(argv)
        except BaseException as exc:  # re-raised on the test's thread, where pytest reports it
            outcome["raised"] = exc

    thread = threading.Thread(target=target, name="smcost-extract", daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(bound)
    seconds = time.monotonic() - started
    if thread.is_alive():
        pytest.fail(f"smcost extract still running after {bound:.0f}s: this fault is not bounded in time")
    if "raised" in outcome:
        raise outcome["raised"]
    return outcome["exit"], seconds


def _manifest(out: Path) -> dict | None:
    runs = sorted((out / "sagemaker" / "_runs").glob("*.json"))
    return json.loads(runs[-1].read_text()) if runs else None


@pytest.mark.parametrize("case", CASES, ids=[c.id.split(":")[0] for c in CASES])
def test_fault(case: Case, aws: MotoAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _account(aws)
    out = tmp_path / "lake"
    expected = case.outcome
    with ExitStack() as stack:
        wire = case.inject(aws, monkeypatch, stack)
        bound = _bound(case.argv)
        code, seconds = _run_bounded(["extract", "--out", str(out), "--no-progress", *case.argv], bound)
        requests = wire.requests()
    printed = capsys.readouterr()
    printed = printed.out + printed.err

    assert code == expected.exit, f"exit {code} after {seconds:.1f}s; printed:\n{printed}"
    assert seconds < bound
    for fragment in expected.says:
        assert fragment.format(endpoint=wire.endpoint) in printed, printed
    if isinstance(expected.requests, range):
        assert requests in expected.requests, f"{requests} requests reached the fault"
    elif expected.requests is not None:
        assert requests == expected.requests, f"{requests} requests reached the fault"

    manifest = _manifest(out)
    if code == 1:  # could not start: nothing ran, nothing was written
        assert manifest is None and not out.exists()
        return
    errors = {e["unit"].removeprefix(f"{ACCOUNT}/"): e for e in manifest["errors"]}
    assert {unit: e["kind"] for unit, e in errors.items()} == {
        unit: kind for unit, (kind, _) in expected.failed.items()
    }, json.dumps(manifest["errors"], indent=1)
    for unit, (_, says) in expected.failed.items():
        text = f"{errors[unit]['message']} -> {errors[unit].get('hint', '')}"
        for fragment in says:
            assert fragment.format(endpoint=wire.endpoint) in text, text
    others = [u for u in manifest["units"] if u["unit"].removeprefix(f"{ACCOUNT}/") not in errors]
    assert all(u["status"] == "ok" for u in others), "the units the fault does not touch complete"
    for dataset, rows in expected.landed.items():
        names = {(r["region"], r[NAME_COLUMN[dataset]]) for r in landed(out, dataset)}
        assert names == rows, f"{dataset} landed {sorted(names)}"
    for call, count in expected.calls.items():
        assert manifest["api_calls"].get(call) == count, manifest["api_calls"]
    warnings = [w for u in manifest["units"] for w in u.get("warnings", [])]
    for fragment in expected.warns:
        assert any(fragment in w for w in warnings), warnings
