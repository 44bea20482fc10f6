"""An inference-component endpoint: an ml.g5.12xlarge (4 GPUs) hosting two inference components,
launched in the middle of the second month; the GPUs no component reserves are idle capacity."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import arn, environment
from smcost.demo.clock import DAY_MS, utc
from smcost.demo.hosting import Variant, add_endpoint, add_hosting, add_invocations, add_model, traffic
from smcost.demo.ledger import Ledger, Owner, Share

COMPONENTS = (("nlp-summarizer", 1, 2), ("nlp-sentiment", 1, 1))  # model, copies, GPUs per copy
GPUS = 4


def add_inference_component_endpoint(ledger: Ledger) -> None:
    acct, region, team = "prod", "us-east-1", "nlp"
    name = f"genai-ic-prod{ledger.suffix}"
    env = environment(acct)
    tags = {"ml:team": team, "ml:environment": env}
    created = ledger.months[1] + 14 * DAY_MS
    endpoint_arn = add_endpoint(ledger, acct, region, name, [Variant(instance="ml.g5.12xlarge", count=1)], tags,
                                created)  # fmt: skip
    hours = ledger.hours(created, ledger.t1)
    owners: list[Share] = []
    reserved = 0.0
    for model, copies, gpus in COMPONENTS:
        component = f"{model}-ic{ledger.suffix}"
        sm_model = f"{model}-model{ledger.suffix}"
        add_model(ledger, acct, region, sm_model, model, team, "SingleModel")
        ledger.metadata(
            "inference_components", acct, region,
            inference_component_arn=arn(acct, region, "inference-component", component),
            inference_component_name=component, inference_component_status="InService", endpoint_name=name,
            variant_name="AllTraffic", model_name=sm_model, created_at=utc(created), last_modified_at=utc(created),
            current_copy_count=copies, cpu_cores_required=4.0, accelerator_devices_required=float(gpus),
            memory_required_mb=16_384, tags={"ml:team": team, "ml:model": model},
        )  # fmt: skip
        share = copies * gpus / GPUS
        reserved += share
        owners.append((Owner(model, team, None, env, "metadata"), np.full(len(hours), share)))
        add_invocations(ledger, acct, region, "inference_component", hours, traffic(ledger, hours, 400),
                        component=component)  # fmt: skip
    owners.append((Owner("__idle__", team, None, env, "metadata"), np.full(len(hours), 1 - reserved)))
    add_hosting(ledger, acct, region, endpoint_arn, "Host:ml.g5.12xlarge", hours, np.ones(len(hours)), tags, owners,
                instance="ml.g5.12xlarge")  # fmt: skip
