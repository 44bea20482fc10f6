"""Hourly CloudWatch metrics of endpoints: invocation counts, the only record of which model served
how much traffic, and instance utilisation, the proof a variant was up and metered.

Dimension values come from the SageMaker kinds of the same run (endpoints alive during the window,
including deleted ones and replaced configs; inference components), not from ListMetrics, which
hides metrics idle for two weeks; a multi-model endpoint's target models from multi_model.py (the
objects under its prefix, and what ListMetrics finds its per-model metric really names). Each kind is a
function from those references to its ``Series``; one reader packs their queries 500 to a
GetMetricData call, the API's limit, pages each call by NextToken and lands one row per series and
hour.

Multi-model endpoints publish no per-model metrics. Teams that count requests per target model
publish a custom metric (``--mme-metric-namespace``; dimensions EndpointName and a model
dimension, the first of ``--mme-model-dimensions`` found, ``TargetModel`` by default), or land their own request-log counts in this dataset's
schema with ``metric_dimension = 'target_model'`` and ``metric_namespace = 'request_logs'``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from smcost.extractor.kinds import WINDOW, Custom, Kind, Row, UnitContext, utc

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
ENDPOINT_INSTANCES_NAMESPACE = "/aws/sagemaker/Endpoints"  # what the instances behind a variant publish
QUERIES_PER_CALL = 500  # GetMetricData limit
PERIOD = 3600


@dataclass(frozen=True)
class Series:
    """One dimension set in one namespace: the columns its rows carry whatever the hour (``labels``),
    and the CloudWatch metric behind each column a reading fills.

    A series lands a row for an hour in which any of its ``lands_on`` columns has a datapoint (all
    of its metric columns if empty); the other metric columns of that row are null where they have
    none.
    """

    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str | None], ...]
    metrics: tuple[tuple[str, str, str], ...]  # (column, metric name, statistic)
    lands_on: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Which series: dimension values from the SageMaker kinds of the same run
# --------------------------------------------------------------------------------------------


def config_variants(ctx: UnitContext) -> dict[str, list[tuple[str, str | None]]]:
    """Endpoint config -> its (variant, model)s."""
    config_variants: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for config, variant, model in ctx.upstream("config_variants"):
        config_variants[config].append((variant, model))
    return config_variants


def _variants(ctx: UnitContext, *, on_instances: bool = False) -> list[tuple[str, str]]:
    """(endpoint, variant) of every endpoint variant alive in the window: the variants of the
    endpoints listed now, and those of every config an endpoint used during the window (deleted
    endpoints, replaced configs).

    ``on_instances`` leaves out the serverless ones (serverless in every config of the window that
    names them): they run on no instance of their own and publish no instance metrics. A variant
    whose config this run does not know is kept: querying it costs one query, missing it an hour.
    """
    variants_of = config_variants(ctx)
    serverless = ctx.upstream("serverless_variants")  # (config, variant)
    instances: set[tuple[str, str]] = set()
    serverless_only: set[tuple[str, str]] = set()
    for endpoint, config in ctx.upstream("endpoint_configs_in_window"):
        for variant, _ in variants_of[config]:
            (serverless_only if (config, variant) in serverless else instances).add((endpoint, variant))
    variants = set(ctx.upstream("endpoint_variants")) | instances | serverless_only
    if on_instances:
        variants -= serverless_only - instances
    return sorted(variants)


_INVOCATIONS = ("invocations", "Invocations", "Sum")
_LATENCY = ("model_latency_us", "ModelLatency", "Average")


def _invocation_labels(dimension: str, namespace: str, **labels: str | None) -> tuple[tuple[str, str | None], ...]:
    return (("metric_dimension", dimension), ("metric_namespace", namespace), *labels.items())


def invocation_series(ctx: UnitContext) -> list[Series]:
    """Invocations (and ModelLatency) per variant, per inference component, per target model."""
    series = [
        Series(
            SAGEMAKER_NAMESPACE,
            (("EndpointName", endpoint), ("VariantName", variant)),
            _invocation_labels("variant", SAGEMAKER_NAMESPACE, endpoint_name=endpoint, variant_name=variant),
            (_INVOCATIONS, _LATENCY),
            lands_on=("invocations",),
        )
        for endpoint, variant in _variants(ctx)
    ]
    series += [
        Series(
            SAGEMAKER_NAMESPACE,
            (("InferenceComponentName", component),),
            _invocation_labels(
                "inference_component",
                SAGEMAKER_NAMESPACE,
                inference_component_name=component,
                endpoint_name=endpoint,
                variant_name=variant,
            ),
            (_INVOCATIONS, _LATENCY),
            lands_on=("invocations",),
        )
        for component, endpoint, variant in sorted(ctx.upstream("inference_components"), key=str)
    ]

    # The values to ask for, per endpoint: its artifact keys and what its metric's model dimension
    # really carries (multi_model.py, which lands them for dbt to map to models).
    namespace = ctx.options.mme_metric_namespace
    if not namespace:
        variants = ctx.upstream("mme_variants")
        if variants:
            ctx.warn(
                f"{len(variants)} multi-model endpoint variant(s) but no --mme-metric-namespace: "
                "per-model invocations were not read (docs/extract.md, 'Multi-model endpoints')"
            )
        return series
    series += [
        Series(
            namespace,
            (("EndpointName", endpoint), (dimension, value)),
            _invocation_labels(
                "target_model", namespace, endpoint_name=endpoint, variant_name=variant, target_model=value
            ),
            (("invocations", ctx.options.mme_metric_name, "Sum"),),
        )
        for endpoint, variant, dimension, value in sorted(ctx.upstream("mme_series"))
    ]
    return series


# The busiest instance of the variant in the hour. CPU and GPU figures are sums over the instance's
# vCPUs and GPUs (up to 100 x their number); instances without GPUs publish no GPU metrics.
_UTILIZATION = (
    ("cpu_utilization_max", "CPUUtilization", "Maximum"),
    ("memory_utilization_max", "MemoryUtilization", "Maximum"),
    ("gpu_utilization_max", "GPUUtilization", "Maximum"),
    ("gpu_memory_utilization_max", "GPUMemoryUtilization", "Maximum"),
)


def utilization_series(ctx: UnitContext) -> list[Series]:
    """Instance utilisation per variant that runs on instances (serverless ones do not)."""
    return [
        Series(
            ENDPOINT_INSTANCES_NAMESPACE,
            (("EndpointName", endpoint), ("VariantName", variant)),
            (("endpoint_name", endpoint), ("variant_name", variant)),
            _UTILIZATION,
        )
        for endpoint, variant in _variants(ctx, on_instances=True)
    ]


# --------------------------------------------------------------------------------------------
# The reader every CloudWatch kind shares
# --------------------------------------------------------------------------------------------


def hourly(ctx: UnitContext, series: Iterable[Series]) -> Iterator[Row]:
    """One row per series and hour of the window with a reading, ``QUERIES_PER_CALL`` queries a call."""
    start, end = ctx.window
    if start >= end:
        return
    batch: list[Series] = []
    queries = 0
    for one in series:
        if queries + len(one.metrics) > QUERIES_PER_CALL:
            yield from _read(ctx, batch)
            batch, queries = [], 0
        batch.append(one)
        queries += len(one.metrics)
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
        if all(columns.get(c) is None for c in s.lands_on or [c for c, _, _ in s.metrics]):
            continue
        yield {
            **dict(s.labels),
            "metric_hour_at": hour,
            **{column: columns.get(column) for column, _, _ in s.metrics},
        }


def _metrics(series: Callable[[UnitContext], list[Series]], what: str) -> Custom:
    return Custom(
        lambda ctx: hourly(ctx, series(ctx)),
        ("cloudwatch:get_metric_data",),
        f"GetMetricData, {QUERIES_PER_CALL} queries a call, NextToken-paged: {what}",
    )


KINDS = [
    Kind(
        "endpoint_invocations",
        _metrics(
            invocation_series,
            "Invocations and ModelLatency per variant and inference component, per target model of "
            "multi-model endpoints",
        ),
        history=WINDOW,
        needs=("endpoints", "endpoint_configs", "models", "inference_components", "multi_model_targets"),
        service="cloudwatch",
    ),
    Kind(
        "endpoint_utilization",
        _metrics(
            utilization_series,
            f"hourly Maximum of CPU, memory, GPU and GPU memory utilisation ({ENDPOINT_INSTANCES_NAMESPACE}) "
            "per variant on instances (serverless ones skipped)",
        ),
        history=WINDOW,
        needs=("endpoints", "endpoint_configs"),
        service="cloudwatch",
    ),
]
