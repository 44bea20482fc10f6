"""multi_model_targets and the per-model invocations over moto: whatever a team publishes.

A multi-model endpoint loads reco-a.tar.gz, v2/reco-b.tar.gz and reco-c.tar.gz from its prefix. Its
team publishes the per-model count under logical names (`reco-a`, not `reco-a.tar.gz`), under a
dimension of its own (`ModelName`), and still has an older series under `TargetModel`. The real
extractor reads moto's S3 and CloudWatch (ListMetrics, GetMetricData) over HTTP; the landed Parquet
must hold both sides (the prefix's keys, the metric's values) and the invocations of the values the
metric really has, under one dimension per endpoint.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta, timezone

import pytest

from extractor import moto_gaps
from extractor.extract_scenario import ROLE, hour
from extractor.harness import landed

BUCKET, PREFIX = "mme-artifacts-123", "mme/"
ENDPOINT, OTHER = "reco-endpoint", "other-endpoint"
NAMESPACE = "Acme/Reco"
KEYS = ("reco-a.tar.gz", "v2/reco-b.tar.gz", "reco-c.tar.gz")


def _count(aws, endpoint: str, k: int, value: float, **dimensions: str) -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": "Invocations",
                "Timestamp": hour(k).replace(tzinfo=timezone.utc) + timedelta(minutes=10),
                "Value": value,
                "Dimensions": [
                    {"Name": "EndpointName", "Value": endpoint},
                    *({"Name": n, "Value": v} for n, v in dimensions.items()),
                ],
            }
        ],
    )


@pytest.fixture
def account(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=PREFIX + key, Body=b"x" * 10)
    sm = aws.client("sagemaker")
    sm.create_model(
        ModelName="reco-mme",
        ExecutionRoleArn=ROLE + "serving",
        PrimaryContainer={"Image": "img:1", "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/{PREFIX}"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="reco-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "reco-mme",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="reco-config")
    backend = moto_gaps.sagemaker()
    backend.endpoints[ENDPOINT].creation_time = backend.endpoints[ENDPOINT].last_modified_time = hour(48)
    return aws


def _until() -> tuple[str, str]:
    return ("--until", hour(0).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _targets(out) -> set[tuple]:
    return {
        (
            r["endpoint_name"],
            r["source"],
            r["metric_namespace"],
            r["dimension_name"],
            r["target_value"],
            r["model_data_url"],
        )
        for r in landed(out, "multi_model_targets")
    }


def _per_model(out) -> Counter:
    counts: Counter = Counter()
    for r in landed(out, "endpoint_invocations"):
        if r["metric_dimension"] == "target_model":
            assert (r["metric_namespace"], r["endpoint_name"], r["variant_name"]) == (NAMESPACE, ENDPOINT, "AllTraffic")
            counts[r["target_model"]] += r["invocations"]
    return counts


def test_logical_names_under_the_default_dimension_are_discovered_and_read(account, extract):
    for k, (a, b) in {3: (30.0, 20.0), 2: (12.0, 0.0)}.items():
        _count(account, ENDPOINT, k, a, TargetModel="reco-a")
        _count(account, ENDPOINT, k, b, TargetModel="reco-b")
    _count(account, OTHER, 2, 7.0, TargetModel="not-ours")  # another endpoint's: not listed for this one

    result = extract("--datasets", "endpoint_invocations", "--mme-metric-namespace", NAMESPACE, *_until())

    url = f"s3://{BUCKET}/{PREFIX}"
    assert _targets(extract.out) == {
        *((ENDPOINT, "s3_listing", None, None, key, url) for key in KEYS),
        (ENDPOINT, "list_metrics", NAMESPACE, "TargetModel", "reco-a", None),
        (ENDPOINT, "list_metrics", NAMESPACE, "TargetModel", "reco-b", None),
    }
    # Asking for the artifact keys alone found nothing before; the published names are read now.
    assert _per_model(extract.out) == {"reco-a": 42.0, "reco-b": 20.0}
    units = {u["dataset"]: u for u in result.manifest["units"]}
    assert units["multi_model_targets"]["api_calls"] == {"cloudwatch:ListMetrics": 1}  # one per endpoint


def test_another_dimension_name_is_read_first_and_the_older_one_ignored_not_added(account, extract):
    _count(account, ENDPOINT, 2, 30.0, ModelName="reco-a")
    _count(account, ENDPOINT, 2, 20.0, ModelName="reco-b")
    _count(account, ENDPOINT, 2, 50.0, TargetModel="reco-a.tar.gz")  # the same requests, older name
    _count(account, ENDPOINT, 2, 9.0, ModelName="reco-a", VariantName="AllTraffic")  # a series not read

    result = extract(
        "--datasets",
        "endpoint_invocations",
        "--mme-metric-namespace",
        NAMESPACE,
        "--mme-model-dimensions",
        "ModelName,TargetModel",
        *_until(),
    )

    listed = {t[3:5] for t in _targets(extract.out) if t[1] == "list_metrics"}
    assert listed == {("ModelName", "reco-a"), ("ModelName", "reco-b"), ("TargetModel", "reco-a.tar.gz")}
    assert _per_model(extract.out) == {"reco-a": 30.0, "reco-b": 20.0}  # counted once, not 50 more
    (unit,) = [u for u in result.manifest["units"] if u["dataset"] == "multi_model_targets"]
    assert unit["warnings"] == [
        f"{ENDPOINT}: 1 {NAMESPACE}/Invocations metric(s) with dimensions other than EndpointName + one of "
        "ModelName, TargetModel were not read (--mme-model-dimensions)",
        f"{ENDPOINT}: model dimension(s) TargetModel ignored; ModelName read",
    ]


def test_without_a_namespace_the_keys_still_land_and_no_metric_is_listed(account, extract):
    _count(account, ENDPOINT, 2, 30.0, TargetModel="reco-a")

    result = extract("--datasets", "endpoint_invocations", *_until())

    assert {t[1] for t in _targets(extract.out)} == {"s3_listing"}
    assert _per_model(extract.out) == {}
    units = {u["dataset"]: u for u in result.manifest["units"]}
    assert units["multi_model_targets"]["api_calls"] == {}
    assert units["endpoint_invocations"]["warnings"] == [
        "1 multi-model endpoint variant(s) but no --mme-metric-namespace: per-model invocations were not "
        "read (docs/extract.md, 'Multi-model endpoints')"
    ]


def test_an_empty_dimension_list_is_a_usage_error(extract):
    with pytest.raises(SystemExit) as exit_:
        extract("--mme-model-dimensions", ",", expect=None)
    assert exit_.value.code == 2
