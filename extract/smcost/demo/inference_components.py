"""An inference-component endpoint: an ml.g5.12xlarge (4 GPUs) hosting two inference components,
launched in the middle of the second month; the GPUs no component reserves are idle capacity."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import arn, environment
from smcost.demo.clock import DAY_MS, Floats, Millis, utc
from smcost.demo.hosting import (
    Endpoint,
    Load,
    Variant,
    add_endpoint,
    add_hosting,
    add_invocations,
    add_model,
    add_utilization,
    traffic,
)
from smcost.demo.ledger import Ledger, Owner, Share

COMPONENTS = (("nlp-summarizer", 1, 2), ("nlp-sentiment", 1, 1))  # model, copies, GPUs per copy
GPUS = 4
TEAM = "nlp"


def add_inference_component_endpoint(ledger: Ledger) -> None:
    """Instance hours split by the GPUs each component reserves; the rest is idle."""
    env = environment("prod")
    tags = {"ml:team": TEAM, "ml:environment": env}
    created = ledger.months[1] + 14 * DAY_MS
    endpoint = add_endpoint(
        ledger,
        "prod",
        "us-east-1",
        f"genai-ic-prod{ledger.suffix}",
        [Variant(instance="ml.g5.12xlarge", count=1)],
        api_tags=tags,
        bill_tags=tags,
        created=created,
    )
    hours = ledger.hours(created, ledger.t1)
    owners: list[Share] = []
    requests = np.zeros(len(hours))
    for model, copies, gpus in COMPONENTS:
        requests += _add_component(ledger, endpoint, model, copies, gpus, created, hours)
        owners.append((Owner(model, TEAM, None, env, "metadata"), np.full(len(hours), copies * gpus / GPUS)))
    reserved = sum(copies * gpus / GPUS for _, copies, gpus in COMPONENTS)
    owners.append((Owner("__idle__", TEAM, None, env, "metadata"), np.full(len(hours), 1 - reserved)))
    add_hosting(ledger, endpoint, "ml.g5.12xlarge", hours, np.ones(len(hours)), owners)
    # The components' invocations are all there is (CloudWatch counts them per component).
    load = Load(cpu=(2, 35), memory=(40, 55), gpu=(1, 60), gpu_memory=(50, 70))
    add_utilization(
        ledger, endpoint, "ml.g5.12xlarge", hours, np.ones(len(hours)), requests, load, kind="inference_component"
    )


def _add_component(
    ledger: Ledger, endpoint: Endpoint, model: str, copies: int, gpus: int, created: int, hours: Millis
) -> Floats:
    """An inference component (its model, its row, its invocations) reserving ``copies`` x ``gpus``;
    returns its requests each hour."""
    acct, region = endpoint.acct, endpoint.region
    component = f"{model}-ic{ledger.suffix}"
    sm_model = f"{model}-model{ledger.suffix}"
    add_model(ledger, acct, region, sm_model, model=model, team=TEAM)
    ledger.metadata(
        "inference_components",
        acct,
        region,
        inference_component_arn=arn(acct, region, "inference-component", component),
        inference_component_name=component,
        inference_component_status="InService",
        endpoint_name=endpoint.name,
        variant_name="AllTraffic",
        model_name=sm_model,
        created_at=utc(created),
        last_modified_at=utc(created),
        current_copy_count=copies,
        cpu_cores_required=4.0,
        accelerator_devices_required=float(gpus),
        memory_required_mb=16_384,
        tags={"ml:team": TEAM, "ml:model": model},
    )
    requests = traffic(ledger, hours, 400)
    add_invocations(ledger, acct, region, "inference_component", hours, requests, component=component)
    return requests
