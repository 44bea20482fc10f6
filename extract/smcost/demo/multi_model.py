"""A multi-model endpoint: one ml.m5.2xlarge x2 endpoint serving three models with uneven,
changing traffic, quiet nights, and a few hours whose per-model metric never arrived.

Its per-model metric names the models as teams do (PUBLISHED_AS): one by its artifact key, one by a
logical name (the key without `.tar.gz`), one by an alias only seeds/multi_model_target_aliases.csv
resolves; and a fourth stream, a shadow of an uplift model the team publishes as `uplift-shadow`,
that nothing maps: its traffic (UNMAPPED_SHARE of each hour's) is an explicit `unmapped:` model,
whose true model the tool cannot know."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import artifacts_bucket, environment
from smcost.demo.clock import DAY_MS, Flags, Floats, Millis, hour_of_day
from smcost.demo.hosting import (
    Endpoint,
    Load,
    Variant,
    add_endpoint,
    add_hosting,
    add_invocations,
    add_model,
    add_storage_and_transfer,
    add_utilization,
    add_variant_invocations,
    traffic,
)
from smcost.demo.ledger import Ledger, Owner, Share

MODELS = ["churn-predictor", "ltv-model", "price-forecaster"]
TEAM = "growth"
# What the custom metric's TargetModel dimension carries for each model (its artifact is <model>.tar.gz).
PUBLISHED_AS = {"churn-predictor": "churn-predictor.tar.gz", "ltv-model": "ltv-model", "price-forecaster": "pricing-v3"}
UNMAPPED_VALUE, UNMAPPED_MODEL, UNMAPPED_SHARE = "uplift-shadow", "uplift-model", 0.04


def mme_prefix(suffix: str) -> str:
    """The S3 prefix the endpoint loads its models from (one artifact per model under it)."""
    return f"s3://{artifacts_bucket('prod', suffix)}/mme/tabular/"


def add_multi_model_endpoint(ledger: Ledger) -> None:
    """Instance hours split by each hour's requests per model; storage and transfer by each day's."""
    env = environment("prod")
    created = ledger.t0 - 120 * DAY_MS
    endpoint = _add_endpoint(ledger, created)
    hours = ledger.hours(created, ledger.t1)
    per_model = _requests_per_model(ledger, hours)
    # A few hours whose custom metric never arrived: the split is unknowable there.
    missing = np.zeros(len(hours), dtype=bool)
    missing[ledger.rng.choice(len(hours), size=min(len(hours), 3 * len(ledger.months)), replace=False)] = True
    missing &= per_model.sum(axis=1) > 0
    # The shadow stream, derived from the traffic (no random draw: the cases after keep their numbers).
    per_model = np.column_stack([per_model, np.round(UNMAPPED_SHARE * per_model.sum(axis=1))])
    idle = Owner("__idle__", TEAM, None, env, "metadata")
    owners = [Owner(model, TEAM, None, env, "metadata") for model in MODELS]
    owners.append(Owner(UNMAPPED_MODEL, TEAM, None, env, "none"))  # no artifact or alias names it
    counts = np.full(len(hours), 2.0)
    add_hosting(ledger, endpoint, "ml.m5.2xlarge", hours, counts, _shares(owners, idle, per_model), unknowable=missing)
    # Storage and data transfer follow each day's measured traffic (the hours with metrics).
    days = ledger.days(created, ledger.t1)
    per_day = np.zeros((len(days), per_model.shape[1]))
    np.add.at(per_day, np.searchsorted(days, hours, side="right") - 1, np.where(missing[:, None], 0.0, per_model))
    add_storage_and_transfer(ledger, endpoint, _shares(owners, idle, per_day), start=created, end=ledger.t1, gb_out=6.0)
    _add_metrics_and_entries(ledger, endpoint, hours, per_model, missing)
    # Three models loaded in memory; the CPU follows the traffic, near nothing on quiet nights.
    load = Load(cpu=(3, 80), memory=(60, 72))
    add_utilization(ledger, endpoint, "ml.m5.2xlarge", hours, counts, per_model.sum(axis=1), load, kind="multi_model")


def _add_endpoint(ledger: Ledger, created: int) -> Endpoint:
    """The endpoint and its multi-model container, tagged with the team only."""
    tags = {"ml:team": TEAM, "ml:environment": environment("prod")}
    container = f"tabular-mme-container{ledger.suffix}"
    add_model(
        ledger,
        "prod",
        "us-east-1",
        container,
        model=None,
        team=TEAM,
        mode="MultiModel",
        data_url=mme_prefix(ledger.suffix),
        tags=tags,
    )
    return add_endpoint(
        ledger,
        "prod",
        "us-east-1",
        f"tabular-mme-prod{ledger.suffix}",
        [Variant(container, "ml.m5.2xlarge", 2)],
        api_tags=tags,
        bill_tags=tags,
        created=created,
    )


def _requests_per_model(ledger: Ledger, hours: Millis) -> Floats:
    """Requests per hour and model (one column each): ltv-model grows over the quarter."""
    weights = np.array([0.6, 0.3, 0.1])
    drift = np.linspace(0, 1, len(hours))
    mix = np.stack([weights[0] - 0.2 * drift, weights[1] + 0.15 * drift, weights[2] + 0.05 * drift], axis=1)
    total = traffic(ledger, hours, 3000)
    hod = hour_of_day(hours)
    total[(hod >= 1) & (hod < 5)] = 0  # quiet nights: zero-traffic hours
    requests: Floats = np.round(total[:, None] * mix * ledger.rng.uniform(0.7, 1.3, mix.shape))
    return requests


def _shares(owners: list[Owner], idle: Owner, requests: Floats) -> list[Share]:
    """Each model's share of each row's requests; a row without requests is all idle capacity."""
    total = requests.sum(axis=1)
    safe_total = np.where(total > 0, total, 1)
    shares: list[Share] = [(owner, requests[:, j] / safe_total) for j, owner in enumerate(owners)]
    return [*shares, (idle, np.where(total > 0, 0.0, 1.0))]


def _add_metrics_and_entries(
    ledger: Ledger, endpoint: Endpoint, hours: Millis, per_model: Floats, missing: Flags
) -> None:
    """The variant's invocations, the per-model custom metric (where it arrived) under the names it
    is published as, what the extractor discovers (the prefix's keys, the metric's values), and each
    model's entry (a SageMaker model naming its artifact under the endpoint's prefix)."""
    add_variant_invocations(ledger, endpoint, hours, per_model.sum(axis=1))
    for j, value in enumerate([*(PUBLISHED_AS[m] for m in MODELS), UNMAPPED_VALUE]):
        keep = ~missing & (per_model[:, j] > 0)
        add_invocations(
            ledger,
            endpoint.acct,
            endpoint.region,
            "target_model",
            hours[keep],
            per_model[keep, j],
            endpoint=endpoint.name,
            target_model=value,
            namespace="SMCost/MultiModel",
        )
        ledger.metadata(
            "multi_model_targets",
            endpoint.acct,
            endpoint.region,
            endpoint_name=endpoint.name,
            source="list_metrics",
            metric_namespace="SMCost/MultiModel",
            dimension_name="TargetModel",
            target_value=value,
            model_data_url=None,
        )
    for model in MODELS:
        ledger.metadata(
            "multi_model_targets",
            endpoint.acct,
            endpoint.region,
            endpoint_name=endpoint.name,
            source="s3_listing",
            metric_namespace=None,
            dimension_name=None,
            target_value=f"{model}.tar.gz",
            model_data_url=mme_prefix(ledger.suffix),
        )
        add_model(
            ledger,
            endpoint.acct,
            endpoint.region,
            f"{model}-mme-entry{ledger.suffix}",
            model=model,
            team=TEAM,
            data_url=f"{mme_prefix(ledger.suffix)}{model}.tar.gz",
        )
