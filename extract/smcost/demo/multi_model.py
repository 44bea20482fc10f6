"""A multi-model endpoint: one ml.m5.2xlarge x2 endpoint serving three models with uneven,
changing traffic, quiet nights, and a few hours whose per-model metric never arrived."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import environment
from smcost.demo.clock import DAY_MS, Flags, Floats, Millis, hour_of_day
from smcost.demo.hosting import (
    Variant, add_endpoint, add_hosting, add_invocations, add_model, add_storage_and_transfer, traffic,
)  # fmt: skip
from smcost.demo.ledger import Ledger, Owner, Share

MODELS = ["churn-predictor", "ltv-model", "price-forecaster"]
TEAM = "growth"


def add_multi_model_endpoint(ledger: Ledger) -> None:
    acct, region = "prod", "us-east-1"
    name = f"tabular-mme-prod{ledger.suffix}"
    env = environment(acct)
    tags = {"ml:team": TEAM, "ml:environment": env}
    container = f"tabular-mme-container{ledger.suffix}"
    add_model(ledger, acct, region, container, None, TEAM, "MultiModel",
              data_url=f"s3://acme-ml-artifacts-prod/mme/tabular{ledger.suffix}/", tags=tags)  # fmt: skip
    created = ledger.t0 - 120 * DAY_MS
    endpoint_arn = add_endpoint(ledger, acct, region, name, [Variant(container, "ml.m5.2xlarge", 2)], tags, created)
    hours = ledger.hours(created, ledger.t1)
    per_model = _requests_per_model(ledger, hours)
    hour_total = per_model.sum(axis=1)
    # A few hours whose custom metric never arrived: the split is unknowable there.
    missing = np.zeros(len(hours), dtype=bool)
    missing[ledger.rng.choice(len(hours), size=min(len(hours), 3 * len(ledger.months)), replace=False)] = True
    missing &= hour_total > 0
    idle = Owner("__idle__", TEAM, None, env, "metadata")
    owners = [Owner(model, TEAM, None, env, "metadata") for model in MODELS]
    add_hosting(ledger, acct, region, endpoint_arn, "Host:ml.m5.2xlarge", hours, np.full(len(hours), 2.0), tags,
                _shares(owners, idle, per_model), instance="ml.m5.2xlarge", unknowable=missing)  # fmt: skip
    # Storage and data transfer follow each day's measured traffic (the hours with metrics).
    days = ledger.days(created, ledger.t1)
    per_day = np.zeros((len(days), len(MODELS)))
    np.add.at(per_day, np.searchsorted(days, hours, side="right") - 1, np.where(missing[:, None], 0.0, per_model))
    add_storage_and_transfer(ledger, acct, region, endpoint_arn, created, ledger.t1, tags, idle, gb_out=6.0,
                             daily_shares=_shares(owners, idle, per_day))  # fmt: skip
    _add_metrics(ledger, name, hours, per_model, missing)


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


def _add_metrics(ledger: Ledger, name: str, hours: Millis, per_model: Floats, missing: Flags) -> None:
    """The variant's invocations, the per-model custom metric (where it arrived), and each model's
    entry (a SageMaker model naming its artifact under the endpoint's prefix)."""
    acct, region = "prod", "us-east-1"
    add_invocations(ledger, acct, region, "variant", hours, per_model.sum(axis=1), endpoint=name,
                    variant="AllTraffic")  # fmt: skip
    for j, model in enumerate(MODELS):
        keep = ~missing & (per_model[:, j] > 0)
        add_invocations(ledger, acct, region, "target_model", hours[keep], per_model[keep, j], endpoint=name,
                        target_model=f"{model}.tar.gz", namespace="SMCost/MultiModel")  # fmt: skip
        add_model(ledger, acct, region, f"{model}-mme-entry{ledger.suffix}", model, TEAM, "SingleModel",
                  data_url=f"s3://acme-ml-artifacts-prod/mme/tabular{ledger.suffix}/{model}.tar.gz")  # fmt: skip
