"""endpoint_utilization over moto: which variants are asked for, in which namespace, and what lands.

A GPU endpoint, a CPU endpoint with two variants and a serverless endpoint publish utilisation into
moto's CloudWatch (put_metric_data); the real extractor reads it over HTTP and the landed Parquet
is checked: one row per variant and hour with a datapoint in any of the four metrics, the hour's
maxima, GPU columns null on CPU instances, nothing for the serverless variant, and across runs new
hours appended without duplicates.

moto's gap (REFERENCE §5): its GetMetricData ignores Namespace when Dimensions are given, so a
reader asking for CPUUtilization in AWS/SageMaker (where SageMaker publishes no such metric) would
get the /aws/sagemaker/Endpoints datapoints all the same and pass on values alone. So the tests
also record the queries moto receives and assert each metric's namespace, and every metric the
endpoints publish (invocations and latency beside utilisation) carries a value no other one has,
so a column read from the wrong metric cannot land the expected value.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from moto.cloudwatch.models import CloudWatchBackend

from extractor import moto_gaps
from extractor.extract_scenario import ROLE, hour
from extractor.harness import landed, partitions
from smcost.extractor import cloudwatch

GPU, CPU, SERVERLESS = "llm-endpoint", "tabular-endpoint", "serverless-endpoint"
ENDPOINTS_NAMESPACE = "/aws/sagemaker/Endpoints"
COLUMNS = {
    "CPUUtilization": "cpu_utilization_max",
    "MemoryUtilization": "memory_utilization_max",
    "GPUUtilization": "gpu_utilization_max",
    "GPUMemoryUtilization": "gpu_memory_utilization_max",
}
# (endpoint, variant) -> hour offset -> metric -> the values published in that hour (their maximum
# lands). Every value is distinct from every other series' and from the invocation counts below.
PUBLISHED: dict[tuple[str, str], dict[int, dict[str, tuple[float, ...]]]] = {
    (GPU, "AllTraffic"): {
        k: {
            "CPUUtilization": (110.0 + k, 140.0 + k),
            "MemoryUtilization": (61.0 + k, 44.0),
            "GPUUtilization": (20.0, 91.0 + k),
            "GPUMemoryUtilization": (73.0 + k,),
        }
        for k in (6, 5, 4, 3, 2, 1)
    },
    (CPU, "Blue"): {
        **{k: {"CPUUtilization": (12.0 + k, 3.0), "MemoryUtilization": (31.0 + k,)} for k in (6, 4, 3, 1)},
        5: {"MemoryUtilization": (39.5,)},  # only one of the four: the hour lands, CPU null
        # hour 2: nothing at all, no row
    },
    (CPU, "Green"): {k: {"CPUUtilization": (7.25 + k,), "MemoryUtilization": (27.5,)} for k in (6, 5, 4, 3, 2, 1)},
}
INVOCATIONS = 1001.0  # AWS/SageMaker Invocations and ModelLatency of the GPU variant: not utilisation
LATENCY = 2002.0


def _max(variant: tuple[str, str], k: int, metric: str) -> float | None:
    values = PUBLISHED[variant].get(k, {}).get(metric)
    return max(values) if values else None


def _publish(aws, variant: tuple[str, str], k: int, metric: str, value: float, namespace: str = ENDPOINTS_NAMESPACE):
    endpoint, name = variant
    aws.client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Timestamp": hour(k).replace(tzinfo=timezone.utc) + timedelta(minutes=10),
                "Value": value,
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": name}],
            }
        ],
    )


def _config(sm, name: str, variants: list[dict]) -> None:
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)


def _variant(name: str, **fields) -> dict:
    return {"VariantName": name, "ModelName": "serve", **fields}


@pytest.fixture
def account(aws):
    """The three endpoints, in service since two days ago, and what they published."""
    sm = aws.client("sagemaker")
    sm.create_model(ModelName="serve", ExecutionRoleArn=ROLE + "serving", PrimaryContainer={"Image": "img:1"})
    instances = {"InitialInstanceCount": 1, "InitialVariantWeight": 1.0}
    _config(sm, "llm-config", [_variant("AllTraffic", InstanceType="ml.g4dn.xlarge", **instances)])
    _config(
        sm,
        "tabular-config",
        [_variant(v, InstanceType="ml.m5.large", **instances) for v in ("Blue", "Green")],
    )
    _config(
        sm,
        "serverless-config",
        [_variant("AllTraffic", ServerlessConfig={"MemorySizeInMB": 2048, "MaxConcurrency": 5})],
    )
    backend = moto_gaps.sagemaker()
    for endpoint, config in ((GPU, "llm-config"), (CPU, "tabular-config"), (SERVERLESS, "serverless-config")):
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
        backend.endpoints[endpoint].creation_time = backend.endpoints[endpoint].last_modified_time = hour(48)

    for variant, hours in PUBLISHED.items():
        for k, metrics in hours.items():
            for metric, values in metrics.items():
                for value in values:
                    _publish(aws, variant, k, metric, value)
    for k in (3, 2):
        _publish(aws, (GPU, "AllTraffic"), k, "Invocations", INVOCATIONS, "AWS/SageMaker")
        _publish(aws, (GPU, "AllTraffic"), k, "ModelLatency", LATENCY, "AWS/SageMaker")
    # What moto would answer if the serverless variant were asked for: it must not be.
    _publish(aws, (SERVERLESS, "AllTraffic"), 2, "MemoryUtilization", 55.5)
    return aws


@pytest.fixture
def queries(monkeypatch) -> list[dict]:
    """Every GetMetricData query moto receives (moto runs in this process)."""
    received: list[dict] = []
    original = CloudWatchBackend.get_metric_data

    def recording(self, *args, **kwargs):
        received.extend(kwargs["queries"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", recording)
    return received


def _until(k: int) -> tuple[str, str]:
    return ("--until", hour(k).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _expected(hours: range | tuple[int, ...]) -> dict[tuple[str, str, datetime], tuple[float | None, ...]]:
    return {
        (endpoint, variant, hour(k)): tuple(_max((endpoint, variant), k, metric) for metric in COLUMNS)
        for (endpoint, variant), published in PUBLISHED.items()
        for k in hours
        if k in published
    }


def _readings(rows: list[dict]) -> dict[tuple[str, str, datetime], tuple[float | None, ...]]:
    keyed = {(r["endpoint_name"], r["variant_name"], r["metric_hour_at"]): r for r in rows}
    assert len(keyed) == len(rows), "one row per variant and hour"
    return {key: tuple(r[c] for c in COLUMNS.values()) for key, r in keyed.items()}


def test_hourly_maxima_per_instance_variant_gpu_null_on_cpu_serverless_skipped(account, extract, queries):
    result = extract("--datasets", "endpoint_utilization,endpoint_invocations", *_until(0))

    rows = landed(extract.out, "endpoint_utilization")
    assert _readings(rows) == _expected(range(1, 7))
    assert all(r["gpu_utilization_max"] is None for r in rows if r["endpoint_name"] == CPU)
    blue_5 = _readings(rows)[(CPU, "Blue", hour(5))]
    assert blue_5 == (None, 39.5, None, None)  # one metric of four is enough to land the hour
    assert (CPU, "Blue", hour(2)) not in _readings(rows)  # no metric at all: no row
    assert not [r for r in rows if r["endpoint_name"] == SERVERLESS]

    # The namespace of every query, since moto ignores it (module docstring), and which series.
    asked = {
        (q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"])
        for q in queries
    }
    assert asked == {
        *((ENDPOINTS_NAMESPACE, metric, "Maximum") for metric in COLUMNS),
        ("AWS/SageMaker", "Invocations", "Sum"),
        ("AWS/SageMaker", "ModelLatency", "Average"),
    }
    utilization = [q["MetricStat"] for q in queries if q["MetricStat"]["Metric"]["Namespace"] == ENDPOINTS_NAMESPACE]
    assert all(q["Period"] == 3600 for q in utilization)
    variants = {tuple(d["Value"] for d in q["Metric"]["Dimensions"]) for q in utilization}
    assert variants == {(GPU, "AllTraffic"), (CPU, "Blue"), (CPU, "Green")}  # never the serverless one
    assert len(utilization) == 3 * 4

    # Invocations land apart, with their own values (the serverless variant has invocations, so
    # it is asked for there).
    invocations = landed(extract.out, "endpoint_invocations")
    assert {
        (r["endpoint_name"], r["metric_hour_at"], r["invocations"], r["model_latency_us"]) for r in invocations
    } == {
        (GPU, hour(3), INVOCATIONS, LATENCY),
        (GPU, hour(2), INVOCATIONS, LATENCY),
    }
    units = {u["dataset"]: u for u in result.manifest["units"]}
    assert units["endpoint_utilization"]["api_calls"] == {"cloudwatch:GetMetricData": 1}
    assert units["endpoint_utilization"]["rows"] == len(rows)


def test_a_later_window_appends_its_hours_and_rereads_only_the_overlap(account, extract):
    first = extract("--datasets", "endpoint_utilization", "--extract-date", "2024-06-01", *_until(3))
    (unit,) = [u for u in first.manifest["units"] if u["dataset"] == "endpoint_utilization"]
    assert unit["until"] == hour(3).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _readings(landed(extract.out, "endpoint_utilization")) == _expected((6, 5, 4))

    # A late datapoint in the overlapped hour raises its maximum; the next window re-reads that hour.
    _publish(account, (GPU, "AllTraffic"), 4, "CPUUtilization", 199.0)
    later = ("--datasets", "endpoint_utilization", "--extract-date", "2024-06-02", "--overlap-hours", "1", *_until(0))
    second = extract(*later)
    (unit,) = [u for u in second.manifest["units"] if u["dataset"] == "endpoint_utilization"]
    assert (unit["since"], unit["until"]) == (hour(4).strftime("%Y-%m-%dT%H:%M:%SZ"), _until(0)[1])
    revised = _expected((4, 3, 2, 1))
    revised[(GPU, "AllTraffic", hour(4))] = (199.0, *revised[(GPU, "AllTraffic", hour(4))][1:])
    assert _readings(landed(extract.out, "endpoint_utilization", "2024-06-02")) == revised
    assert _readings(landed(extract.out, "endpoint_utilization", "2024-06-01")) == _expected((6, 5, 4))  # kept
    assert partitions(extract.out, "endpoint_utilization") == ["2024-06-01", "2024-06-02"]

    # Read as staging reads it (the newest reading per key across partitions): every hour once.
    newest: dict = {}
    for date in partitions(extract.out, "endpoint_utilization"):
        for row in landed(extract.out, "endpoint_utilization", date):
            key = (row["endpoint_name"], row["variant_name"], row["metric_hour_at"])
            if key not in newest or row["extracted_at"] > newest[key]["extracted_at"]:
                newest[key] = row
    assert _readings(list(newest.values())) == {**_expected(range(1, 7)), **revised}

    # Rerunning the same date replaces its hours, never duplicates them.
    extract(*later)
    assert _readings(landed(extract.out, "endpoint_utilization", "2024-06-02")) == revised


def test_queries_are_packed_500_to_a_call(aws, extract, queries):
    """Four queries a variant: 130 instance variants are 520 queries, two calls."""
    sm = aws.client("sagemaker")
    sm.create_model(ModelName="serve", ExecutionRoleArn=ROLE + "serving", PrimaryContainer={"Image": "img:1"})
    variants = [_variant(f"v{i:03d}", InstanceType="ml.m5.large", InitialInstanceCount=1) for i in range(130)]
    for i in range(0, 130, 10):  # at most 10 variants a config
        _config(sm, f"config-{i}", variants[i : i + 10])
        sm.create_endpoint(EndpointName=f"endpoint-{i}", EndpointConfigName=f"config-{i}")
    result = extract("--datasets", "endpoint_utilization", *_until(0))
    (unit,) = [u for u in result.manifest["units"] if u["dataset"] == "endpoint_utilization"]
    assert unit["api_calls"] == {"cloudwatch:GetMetricData": 2}
    assert len(queries) == 520 and cloudwatch.QUERIES_PER_CALL == 500
