"""Real-time endpoints with one model each (one scaling out under the Savings Plan, one forgotten in
development), an endpoint deleted and re-created under the same name, and serverless and
asynchronous endpoints."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import EVIDENCE, MODELS, PRICES, Tags, environment, experiment_name, tags_for
from smcost.demo.clock import DAY_MS, HOUR_MS
from smcost.demo.commitments import PlanUse, cover_with_savings_plan
from smcost.demo.hosting import (
    Variant, add_endpoint, add_hosting, add_invocations, add_model, add_storage_and_transfer, traffic,
)  # fmt: skip
from smcost.demo.ledger import Charge, Ledger, Owner, only

INSTANCES = {"bill": 2.0, "drift": 4.0, "rule": 1.0}  # instances in service, by tagging profile


def add_single_model_endpoints(ledger: Ledger) -> PlanUse:
    """Three long-running endpoints; returns how fraud-xgb-prod used the Savings Plan."""
    plan = _add_single_model_endpoint(ledger, f"fraud-xgb-prod{ledger.suffix}", "prod", "us-east-1", "fraud-xgb",
                                      "ml.c5.2xlarge", "bill", on_savings_plan=True)  # fmt: skip
    _add_single_model_endpoint(ledger, f"search-ranker-prod{ledger.suffix}", "prod", "eu-west-1", "search-ranker",
                               "ml.g5.2xlarge", "drift")  # fmt: skip
    _add_single_model_endpoint(ledger, f"query-embedder-dev{ledger.suffix}", "dev", "us-east-1", "query-embedder",
                               "ml.g5.xlarge", "rule")  # fmt: skip
    assert plan is not None
    return plan


def _add_single_model_endpoint(ledger: Ledger, name: str, acct: str, region: str, model: str, instance: str,
                               profile: str, *, on_savings_plan: bool = False) -> PlanUse | None:  # fmt: skip
    """An endpoint in service since before the first month, tagged by ``profile``. The one on the
    Savings Plan scales out from 2 to 4 instances on day 10 of the second month."""
    created, end = ledger.t0 - 60 * DAY_MS, ledger.t1
    team, env = MODELS[model][0], environment(acct)
    # Tagged endpoints name the experiment that produced the deployed model.
    experiment = experiment_name(model, ledger.suffix) if profile != "rule" else None
    bill_tags, api_tags = tags_for(profile, model, team, experiment, env)
    sm_model = f"{model}-model{ledger.suffix}"
    # The forgotten dev endpoint ("rule"): nothing tagged anywhere, the name is the only clue.
    add_model(ledger, acct, region, sm_model, model, team, "SingleModel", tags={} if profile == "rule" else None)
    endpoint_arn = add_endpoint(ledger, acct, region, name, [Variant(sm_model, instance, 2)], api_tags, created)
    hours = ledger.hours(created, end)
    counts = np.full(len(hours), INSTANCES[profile])
    owner = Owner(model, team, experiment, env, EVIDENCE[profile])
    plan = None
    if on_savings_plan:
        counts[hours >= ledger.months[min(1, len(ledger.months) - 2)] + 9 * DAY_MS] = 4.0
        plan = cover_with_savings_plan(ledger, acct, region, endpoint_arn, hours, counts, instance, bill_tags, owner)
    else:
        add_hosting(ledger, acct, region, endpoint_arn, f"Host:{instance}", hours, counts, bill_tags, only(owner),
                    instance=instance)  # fmt: skip
    add_storage_and_transfer(ledger, acct, region, endpoint_arn, created, end, bill_tags, owner, gb_out=4.0)
    if profile != "rule":  # the forgotten endpoint gets no traffic at all
        add_invocations(ledger, acct, region, "variant", hours, traffic(ledger, hours, 1800), endpoint=name,
                        variant="AllTraffic")  # fmt: skip
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
        ("recsys-reranker", "ml.g5.2xlarge", 1, recreate, None, f"{name}-config-v2",
         {"ml:team": team, "ml:environment": env}),
    ]  # fmt: skip
    for model, instance, count, created, deleted, config, bill_tags in incarnations:
        sm_model = f"{model}-model{ledger.suffix}"
        add_model(ledger, acct, region, sm_model, model, team, "SingleModel")
        endpoint_arn = add_endpoint(ledger, acct, region, name, [Variant(sm_model, instance, count)], bill_tags,
                                    created, deleted, config)  # fmt: skip
        hours = ledger.hours(created, deleted or ledger.t1)
        evidence = "bill_tag" if "ml:model" in bill_tags else "metadata"
        owner = Owner(model, team, bill_tags.get("ml:experiment"), env, evidence)
        add_hosting(ledger, acct, region, endpoint_arn, f"Host:{instance}", hours, np.full(len(hours), float(count)),
                    bill_tags, only(owner), instance=instance)  # fmt: skip
        add_invocations(ledger, acct, region, "variant", hours, traffic(ledger, hours, 900), endpoint=name,
                        variant="AllTraffic")  # fmt: skip


def add_serverless_and_async(ledger: Ledger) -> None:
    _add_serverless_endpoint(ledger)
    _add_async_endpoint(ledger)


def _add_serverless_endpoint(ledger: Ledger) -> None:
    """Billed per second of compute at the configured memory size; tags only on the API side."""
    acct, region, model, team = "prod", "us-east-1", "vision-classifier", "vision"
    name = f"vision-classifier-serverless{ledger.suffix}"
    env = environment(acct)
    bill_tags, api_tags = tags_for("api_only", model, team, None, env)
    sm_model = f"{model}-model{ledger.suffix}"
    add_model(ledger, acct, region, sm_model, model, team, "SingleModel")
    endpoint_arn = add_endpoint(ledger, acct, region, name, [Variant(sm_model, memory_mb=4096, concurrency=20)],
                                api_tags, ledger.t0 - 10 * DAY_MS)  # fmt: skip
    hours = ledger.hours(ledger.t0, ledger.t1)
    calls = traffic(ledger, hours, 700)
    seconds = calls * 0.35
    keep = seconds > 0
    ledger.charge(Charge(
        acct, region, endpoint_arn, "ServerlessInf:Mem-4GB", "AmazonSageMaker", hours[keep], seconds[keep], "Second",
        0.00008, owners=only(Owner(model, team, None, env, "api_tag")), bill_tags=bill_tags,
        operation="ServerlessInference",
    ))  # fmt: skip
    add_invocations(ledger, acct, region, "variant", hours, calls, endpoint=name, variant="AllTraffic")


def _add_async_endpoint(ledger: Ledger) -> None:
    """An instance-backed asynchronous endpoint, fully tagged."""
    acct, region, model, team = "prod", "us-east-1", "vision-ocr", "vision"
    name = f"vision-ocr-async{ledger.suffix}"
    env = environment(acct)
    experiment = experiment_name(model, ledger.suffix)
    bill_tags, api_tags = tags_for("bill", model, team, experiment, env)
    sm_model = f"{model}-model{ledger.suffix}"
    add_model(ledger, acct, region, sm_model, model, team, "SingleModel")
    endpoint_arn = add_endpoint(ledger, acct, region, name, [Variant(sm_model, "ml.g4dn.xlarge", 1, is_async=True)],
                                api_tags, ledger.t0 - 10 * DAY_MS)  # fmt: skip
    hours = ledger.hours(ledger.t0, ledger.t1)
    ledger.charge(Charge(
        acct, region, endpoint_arn, "AsyncInf:ml.g4dn.xlarge", "AmazonSageMaker", hours, np.ones(len(hours)), "Hrs",
        PRICES["ml.g4dn.xlarge"], owners=only(Owner(model, team, experiment, env, "bill_tag")), bill_tags=bill_tags,
        operation="AsyncInference",
    ))  # fmt: skip
    add_invocations(ledger, acct, region, "variant", hours, traffic(ledger, hours, 120), endpoint=name,
                    variant="AllTraffic")  # fmt: skip
