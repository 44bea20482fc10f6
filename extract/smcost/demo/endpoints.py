"""Real-time endpoints with one model each (one scaling out under the Savings Plan, one forgotten in
development), an endpoint deleted and re-created under the same name, and serverless and
asynchronous endpoints."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import EVIDENCE, MODELS, PRICES, Tags, environment, experiment_name, tags_for
from smcost.demo.clock import DAY_MS, HOUR_MS
from smcost.demo.commitments import PlanUse, cover_with_savings_plan
from smcost.demo.hosting import (
    Load,
    Variant,
    add_endpoint,
    add_hosting,
    add_model,
    add_storage_and_transfer,
    add_utilization,
    add_variant_invocations,
    traffic,
)
from smcost.demo.ledger import Charge, Ledger, Owner, only

INSTANCES = {"bill": 2.0, "drift": 4.0, "rule": 1.0}  # instances in service, by tagging profile
# How hard each endpoint's instances work (the forgotten one only holds its model in memory).
LOADS = {
    "fraud-xgb": Load(cpu=(3, 70), memory=(38, 52)),
    "search-ranker": Load(cpu=(4, 45), memory=(45, 60), gpu=(2, 85), gpu_memory=(55, 70)),
    "query-embedder": Load(cpu=(2, 2), memory=(34, 34), gpu=(0.5, 0.5), gpu_memory=(41, 41)),
    "recsys-two-tower": Load(cpu=(5, 55), memory=(40, 55), gpu=(2, 75), gpu_memory=(45, 60)),
    "recsys-reranker": Load(cpu=(4, 50), memory=(42, 58), gpu=(2, 70), gpu_memory=(48, 62)),
}


def add_single_model_endpoints(ledger: Ledger) -> PlanUse:
    """Three long-running endpoints; returns how fraud-xgb-prod used the Savings Plan."""
    sfx = ledger.suffix
    plan = _add_single_model_endpoint(
        ledger, f"fraud-xgb-prod{sfx}", "prod", "us-east-1", "fraud-xgb", "ml.c5.2xlarge", "bill", on_savings_plan=True
    )
    _add_single_model_endpoint(
        ledger, f"search-ranker-prod{sfx}", "prod", "eu-west-1", "search-ranker", "ml.g5.2xlarge", "drift"
    )
    _add_single_model_endpoint(
        ledger, f"query-embedder-dev{sfx}", "dev", "us-east-1", "query-embedder", "ml.g5.xlarge", "rule"
    )
    assert plan is not None
    return plan


def _add_single_model_endpoint(
    ledger: Ledger,
    name: str,
    acct: str,
    region: str,
    model: str,
    instance: str,
    profile: str,
    *,
    on_savings_plan: bool = False,
) -> PlanUse | None:
    """An endpoint in service since before the first month, tagged by ``profile``. The one on the
    Savings Plan scales out from 2 to 4 instances on day 10 of the second month."""
    created = ledger.t0 - 60 * DAY_MS
    team, env = MODELS[model][0], environment(acct)
    # Tagged endpoints name the experiment that produced the deployed model.
    experiment = experiment_name(model, ledger.suffix) if profile != "rule" else None
    bill_tags, api_tags = tags_for(profile, model, team, experiment, env)
    sm_model = f"{model}-model{ledger.suffix}"
    # The forgotten dev endpoint ("rule"): nothing tagged anywhere, the name is the only clue.
    add_model(ledger, acct, region, sm_model, model=model, team=team, tags={} if profile == "rule" else None)
    endpoint = add_endpoint(
        ledger,
        acct,
        region,
        name,
        [Variant(sm_model, instance, 2)],
        api_tags=api_tags,
        bill_tags=bill_tags,
        created=created,
    )
    hours = ledger.hours(created, ledger.t1)
    counts = np.full(len(hours), INSTANCES[profile])
    owner = Owner(model, team, experiment, env, EVIDENCE[profile])
    plan = None
    if on_savings_plan:
        counts[hours >= ledger.months[min(1, len(ledger.months) - 2)] + 9 * DAY_MS] = 4.0
        plan = cover_with_savings_plan(ledger, endpoint, instance, hours, counts, owner)
    else:
        add_hosting(ledger, endpoint, instance, hours, counts, only(owner))
    add_storage_and_transfer(ledger, endpoint, only(owner), start=created, end=ledger.t1, gb_out=4.0)
    requests = np.zeros(len(hours))
    if profile != "rule":  # the forgotten endpoint gets no traffic at all, and lands no invocation count
        requests = traffic(ledger, hours, 1800)
        add_variant_invocations(ledger, endpoint, hours, requests)
    add_utilization(ledger, endpoint, instance, hours, counts, requests, LOADS[model])
    return plan


def add_recreated_endpoint(ledger: Ledger) -> None:
    """recsys-prod is deleted mid-month and re-created under the same name, new config and model."""
    acct, region, team = "prod", "us-east-1", "recsys"
    name = f"recsys-prod{ledger.suffix}"
    env = environment(acct)
    cut = ledger.months[min(1, len(ledger.months) - 2)] + 14 * DAY_MS + 12 * HOUR_MS
    recreate = cut + 2 * HOUR_MS
    # The first incarnation was fully tagged; whoever re-created it tagged only the team, so
    # its model is known only through the endpoint config in force after the re-creation.
    first_tags, _ = tags_for("bill", "recsys-two-tower", team, experiment_name("recsys-two-tower", ledger.suffix), env)
    incarnations: list[tuple[str, str, int, int, int | None, str, Tags]] = [
        ("recsys-two-tower", "ml.g5.xlarge", 2, ledger.t0 - 90 * DAY_MS, cut, f"{name}-config-v1", first_tags),
        (
            "recsys-reranker",
            "ml.g5.2xlarge",
            1,
            recreate,
            None,
            f"{name}-config-v2",
            {"ml:team": team, "ml:environment": env},
        ),
    ]  # model, instance, count, created, deleted, config, tags (in the bill and on the API side)
    for model, instance, count, created, deleted, config, tags in incarnations:
        sm_model = f"{model}-model{ledger.suffix}"
        add_model(ledger, acct, region, sm_model, model=model, team=team)
        endpoint = add_endpoint(
            ledger,
            acct,
            region,
            name,
            [Variant(sm_model, instance, count)],
            api_tags=tags,
            bill_tags=tags,
            created=created,
            deleted=deleted,
            config=config,
        )
        hours = ledger.hours(created, deleted or ledger.t1)
        owner = Owner(model, team, tags.get("ml:experiment"), env, "bill_tag" if "ml:model" in tags else "metadata")
        counts = np.full(len(hours), float(count))
        add_hosting(ledger, endpoint, instance, hours, counts, only(owner))
        requests = traffic(ledger, hours, 900)
        add_variant_invocations(ledger, endpoint, hours, requests)
        add_utilization(ledger, endpoint, instance, hours, counts, requests, LOADS[model])


def add_serverless_and_async(ledger: Ledger) -> None:
    _add_serverless_endpoint(ledger)
    _add_async_endpoint(ledger)


def _add_serverless_endpoint(ledger: Ledger) -> None:
    """Billed per second of compute at the configured memory size; tags only on the API side."""
    acct, region, model, team = "prod", "us-east-1", "vision-classifier", "vision"
    env = environment(acct)
    bill_tags, api_tags = tags_for("api_only", model, team, None, env)
    sm_model = f"{model}-model{ledger.suffix}"
    add_model(ledger, acct, region, sm_model, model=model, team=team)
    endpoint = add_endpoint(
        ledger,
        acct,
        region,
        f"vision-classifier-serverless{ledger.suffix}",
        [Variant(sm_model, memory_mb=4096, concurrency=20)],
        api_tags=api_tags,
        bill_tags=bill_tags,
        created=ledger.t0 - 10 * DAY_MS,
    )
    hours = ledger.hours(ledger.t0, ledger.t1)
    calls = traffic(ledger, hours, 700)
    seconds = calls * 0.35
    keep = seconds > 0
    ledger.charge(
        Charge(
            acct=acct,
            region=region,
            resource_id=endpoint.arn,
            usage="ServerlessInf:Mem-4GB",
            start_ms=hours[keep],
            quantity=seconds[keep],
            unit="Second",
            list_rate=0.00008,
            owners=only(Owner(model, team, None, env, "api_tag")),
            bill_tags=bill_tags,
            operation="ServerlessInference",
        )
    )
    add_variant_invocations(ledger, endpoint, hours, calls)


def _add_async_endpoint(ledger: Ledger) -> None:
    """An instance-backed asynchronous endpoint, fully tagged."""
    acct, region, model, team = "prod", "us-east-1", "vision-ocr", "vision"
    env = environment(acct)
    experiment = experiment_name(model, ledger.suffix)
    bill_tags, api_tags = tags_for("bill", model, team, experiment, env)
    sm_model = f"{model}-model{ledger.suffix}"
    add_model(ledger, acct, region, sm_model, model=model, team=team)
    endpoint = add_endpoint(
        ledger,
        acct,
        region,
        f"vision-ocr-async{ledger.suffix}",
        [Variant(sm_model, "ml.g4dn.xlarge", 1, is_async=True)],
        api_tags=api_tags,
        bill_tags=bill_tags,
        created=ledger.t0 - 10 * DAY_MS,
    )
    hours = ledger.hours(ledger.t0, ledger.t1)
    ledger.charge(
        Charge(
            acct=acct,
            region=region,
            resource_id=endpoint.arn,
            usage="AsyncInf:ml.g4dn.xlarge",
            start_ms=hours,
            quantity=np.ones(len(hours)),
            unit="Hrs",
            list_rate=PRICES["ml.g4dn.xlarge"],
            owners=only(Owner(model, team, experiment, env, "bill_tag")),
            bill_tags=bill_tags,
            operation="AsyncInference",
        )
    )
    add_variant_invocations(ledger, endpoint, hours, traffic(ledger, hours, 120))
