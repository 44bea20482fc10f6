"""Which target models each multi-model endpoint has, as S3 and its per-model metric name them.

AWS publishes no per-model metric for multi-model endpoints. Teams publish their own and name the
model as they like: the artifact key a caller sends as ``TargetModel`` (``reco-a.tar.gz``), a
logical name (``reco-a``), under a dimension of their choosing (``TargetModel``, ``ModelName``).
Asking GetMetricData for the artifact keys alone finds nothing for the others, and every hour of
such an endpoint fell back to an even split. So this kind lands both sides, for dbt to map
(int_sagemaker_multi_model_targets_mapped): the keys under each endpoint's ModelDataUrl prefix (the
listing s3_artifacts makes anyway) and the values ListMetrics finds under each candidate dimension
name (``--mme-model-dimensions``). It hands endpoint_invocations every value to ask GetMetricData for.

ListMetrics returns the metrics that had a datapoint in the last two weeks (without
``RecentlyActive``, which would narrow that to three hours and miss a model called once a day), so
a nightly window, inside those two weeks, is covered. A backfill further back still has the
artifact keys; a value seen once stays landed (the dataset is a snapshot whose rows are kept).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from smcost.extractor.cloudwatch import config_variants
from smcost.extractor.kinds import Custom, Kind, Row, UnitContext

ENDPOINT_DIMENSION = "EndpointName"


def multi_model_variants(ctx: UnitContext) -> list[tuple[str, str, str]]:
    """(endpoint, variant, ModelDataUrl) of every multi-model variant alive in the window."""
    variants_of = config_variants(ctx)
    url_of_model = dict(ctx.upstream("mme_models"))
    return sorted(
        {
            (endpoint, variant, url_of_model[model])
            for endpoint, config in ctx.upstream("endpoint_configs_in_window")
            for variant, model in variants_of[config]
            if model in url_of_model
        }
    )


def listed_values(ctx: UnitContext, endpoint: str) -> dict[str, set[str]]:
    """Candidate dimension name -> the values ListMetrics finds for the endpoint's custom metric.

    Only metrics whose dimensions are exactly EndpointName and one candidate are taken: GetMetricData
    matches a dimension set exactly, so a metric with a further dimension (a VariantName) is a
    different series this reader does not ask for; they are counted in a warning.
    """
    options = ctx.options
    candidates = set(options.mme_model_dimensions)
    found: dict[str, set[str]] = defaultdict(set)
    other = 0
    for page in ctx.pages(
        "list_metrics",
        "Metrics",
        service="cloudwatch",
        Namespace=options.mme_metric_namespace,
        MetricName=options.mme_metric_name,
        Dimensions=[{"Name": ENDPOINT_DIMENSION, "Value": endpoint}],
    ):
        for metric in page:
            dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}
            names = set(dimensions) - {ENDPOINT_DIMENSION}
            if len(names) == 1 and (name := names.pop()) in candidates:
                found[name].add(dimensions[name])
            else:
                other += 1
    if other:
        ctx.warn(
            f"{endpoint}: {other} {options.mme_metric_namespace}/{options.mme_metric_name} metric(s) with "
            f"dimensions other than {ENDPOINT_DIMENSION} + one of {', '.join(options.mme_model_dimensions)} "
            "were not read (--mme-model-dimensions)"
        )
    return found


def chosen_dimension(ctx: UnitContext, endpoint: str, found: dict[str, set[str]]) -> str:
    """The one model dimension read for the endpoint: the first candidate ListMetrics found values for.

    One only: a team that publishes the same requests under two names (while migrating) would
    otherwise be counted twice.
    """
    candidates = ctx.options.mme_model_dimensions
    present = [name for name in candidates if found.get(name)]
    if len(present) > 1:
        ctx.warn(f"{endpoint}: model dimension(s) {', '.join(present[1:])} ignored; {present[0]} read")
    return present[0] if present else candidates[0]


def multi_model_targets(ctx: UnitContext) -> Iterator[Row]:
    variants = multi_model_variants(ctx)
    for endpoint, variant in {(e, v) for e, v, _ in variants}:
        ctx.publish("mme_variants", (endpoint, variant))
    keys: dict[str, set[str]] = defaultdict(set)  # ModelDataUrl -> the keys under it (s3_artifacts)
    for url, key in ctx.upstream("mme_targets"):
        keys[url].add(key)
    url_of_key: dict[tuple[str, str], str] = {}
    for endpoint, _, url in variants:
        for key in keys[url]:
            url_of_key.setdefault((endpoint, key), url)
    for (endpoint, key), url in sorted(url_of_key.items()):
        yield _row(endpoint, "s3_listing", key, model_data_url=url)

    namespace = ctx.options.mme_metric_namespace
    if not namespace:  # endpoint_invocations warns: no per-model metric to read
        return
    for endpoint in sorted({e for e, _, _ in variants}):
        found = listed_values(ctx, endpoint)
        for name in sorted(found):
            for value in sorted(found[name]):
                yield _row(endpoint, "list_metrics", value, namespace=namespace, dimension=name)
        dimension = chosen_dimension(ctx, endpoint, found)
        values = found.get(dimension, set()) | {key for (e, key) in url_of_key if e == endpoint}
        for one, variant, _ in variants:
            if one == endpoint:
                for value in values:
                    ctx.publish("mme_series", (endpoint, variant, dimension, value))


def _row(
    endpoint: str,
    source: str,
    value: str,
    *,
    model_data_url: str | None = None,
    namespace: str | None = None,
    dimension: str | None = None,
) -> Row:
    return {
        "endpoint_name": endpoint,
        "source": source,
        "metric_namespace": namespace,
        "dimension_name": dimension,
        "target_value": value,
        "model_data_url": model_data_url,
    }


KINDS = [
    Kind(
        "multi_model_targets",
        Custom(
            multi_model_targets,
            ("cloudwatch:list_metrics",),
            "the keys under each multi-model prefix (from s3_artifacts' listing); ListMetrics of the "
            "per-model custom metric per multi-model endpoint (--mme-metric-namespace), 500 a page",
        ),
        needs=("endpoints", "endpoint_configs", "models", "s3_artifacts"),
        # Partial references are harmless: what is not read again stays landed.
        strict_needs=False,
        service="cloudwatch",
    ),
]
