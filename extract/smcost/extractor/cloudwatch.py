"""Hourly invocation counts from CloudWatch, the only record of which model served how much traffic.

Dimension values come from the SageMaker kinds of the same run (endpoints alive during the window,
including deleted ones and replaced configs; inference components; the objects under each
multi-model prefix), never from ListMetrics, which hides metrics idle for two weeks. Queries are
packed 500 to a GetMetricData call, the API's limit, and the call is paged by NextToken.

Multi-model endpoints publish no per-model metrics. Teams that count requests per target model
publish a custom metric (``--mme-metric-namespace``; dimensions EndpointName and the model
dimension, ``TargetModel`` by default), or land their own request-log counts in this dataset's
schema with ``metric_dimension = 'target_model'`` and ``metric_namespace = 'request_logs'``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from smcost.extractor.kinds import WINDOW, Custom, Kind, Row, UnitContext, utc

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
QUERIES_PER_CALL = 500  # GetMetricData limit
PERIOD = 3600


@dataclass(frozen=True)
class Series:
    """One dimension set: its row labels and the CloudWatch metric behind each landed column."""

    dimension: str  # variant | inference_component | target_model
    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str | None], ...]
    metrics: tuple[tuple[str, str, str], ...]  # (column, metric name, statistic)


_LATENCY = ("model_latency_us", "ModelLatency", "Average")


def _series(ctx: UnitContext) -> list[Series]:
    config_variants: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for config, variant, model in ctx.upstream("config_variants"):
        config_variants[config].append((variant, model))
    in_window = ctx.upstream("endpoint_configs_in_window")

    variants = set(ctx.upstream("endpoint_variants"))
    variants |= {(endpoint, v) for endpoint, config in in_window for v, _ in config_variants[config]}
    series = [
        Series(
            "variant",
            SAGEMAKER_NAMESPACE,
            (("EndpointName", endpoint), ("VariantName", variant)),
            (("endpoint_name", endpoint), ("variant_name", variant)),
            (("invocations", "Invocations", "Sum"), _LATENCY),
        )
        for endpoint, variant in sorted(variants)
    ]
    series += [
        Series(
            "inference_component",
            SAGEMAKER_NAMESPACE,
            (("InferenceComponentName", component),),
            (("inference_component_name", component), ("endpoint_name", endpoint), ("variant_name", variant)),
            (("invocations", "Invocations", "Sum"), _LATENCY),
        )
        for component, endpoint, variant in sorted(ctx.upstream("inference_components"), key=str)
    ]

    prefix_of_model = dict(ctx.upstream("mme_models"))
    targets: dict[str, list[str]] = defaultdict(list)
    for prefix, target in ctx.upstream("mme_targets"):
        targets[prefix].append(target)
    multi_model = sorted(
        {
            (endpoint, variant, prefix_of_model[model])
            for endpoint, config in in_window
            for variant, model in config_variants[config]
            if model in prefix_of_model
        }
    )
    options = ctx.options
    namespace = options.mme_metric_namespace
    if not namespace:
        if multi_model:
            ctx.warn(
                f"{len(multi_model)} multi-model endpoint variant(s) but no --mme-metric-namespace: "
                "per-model invocations were not read (docs/extract.md, 'Multi-model endpoints')"
            )
        return series
    for endpoint, variant, prefix in multi_model:
        series += [
            Series(
                "target_model",
                namespace,
                (("EndpointName", endpoint), (options.mme_model_dimension, target)),
                (("endpoint_name", endpoint), ("variant_name", variant), ("target_model", target)),
                (("invocations", options.mme_metric_name, "Sum"),),
            )
            for target in sorted(targets[prefix])
        ]
    return series


def endpoint_invocations(ctx: UnitContext) -> Iterator[Row]:
    start, end = ctx.window
    if start >= end:
        return
    batch: list[Series] = []
    queries = 0
    for series in _series(ctx):
        if queries + len(series.metrics) > QUERIES_PER_CALL:
            yield from _read(ctx, batch)
            batch, queries = [], 0
        batch.append(series)
        queries += len(series.metrics)
    if batch:
        yield from _read(ctx, batch)


def _read(ctx: UnitContext, batch: list[Series]) -> Iterator[Row]:
    """One GetMetricData call (plus its NextToken pages) for up to 500 queries."""
    queries: list[dict[str, Any]] = []
    owner: dict[str, tuple[Series, str]] = {}
    for s in batch:
        for column, metric, stat in s.metrics:
            query_id = f"q{len(queries)}"
            owner[query_id] = (s, column)
            queries.append(
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": s.namespace,
                            "MetricName": metric,
                            "Dimensions": [{"Name": n, "Value": v} for n, v in s.dimensions],
                        },
                        "Period": PERIOD,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    start, end = ctx.window
    values: dict[tuple[Series, object], dict[str, float]] = defaultdict(dict)
    for page in ctx.pages(
        "get_metric_data",
        "MetricDataResults",
        service="cloudwatch",
        MetricDataQueries=queries,
        ScanBy="TimestampAscending",
        StartTime=start.replace(tzinfo=timezone.utc),
        EndTime=end.replace(tzinfo=timezone.utc),
    ):
        for result in page:
            s, column = owner[result["Id"]]
            for timestamp, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=True):
                values[(s, utc(timestamp))][column] = value
    for (s, hour), columns in values.items():
        if columns.get("invocations") is None:
            continue
        yield {
            "metric_dimension": s.dimension,
            "metric_namespace": s.namespace,
            **dict(s.labels),
            "metric_hour_at": hour,
            "invocations": columns["invocations"],
            "model_latency_us": columns.get("model_latency_us"),
        }


KIND = Kind(
    "endpoint_invocations",
    Custom(
        endpoint_invocations,
        ("cloudwatch:get_metric_data",),
        "GetMetricData, 500 queries a call, NextToken-paged: Invocations and ModelLatency per variant "
        "and inference component, per target model of multi-model endpoints",
    ),
    history=WINDOW,
    needs=("endpoints", "endpoint_configs", "models", "inference_components", "s3_artifacts"),
    service="cloudwatch",
)
