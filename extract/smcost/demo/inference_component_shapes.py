"""The 2026 inference-component shapes (issue 13 item 5), each on an endpoint of its own in the
last month, deterministic (no draws from the ledger's generators, so every earlier case is
unchanged):

- ``genai-mig-prod``: an ml.p4d.24xlarge (8 A100 40GB) carved into MIG partitions, two components
  of two teams on them (4 copies on mig-3g.20gb = 12/7 GPU, 7 on mig-1g.5gb = 1 GPU); the rest of
  the 8 GPUs is idle;
- ``genai-adapters-prod``: an ml.g5.2xlarge whose one GPU a base component reserves, with two
  adapter components (another team's among them) on it: each hour the instance divides among
  the three by their invocations, evenly in the night hours nobody calls;
- ``ranker-pools-prod``: a heterogeneous endpoint (InstancePools ml.g5.xlarge x 2 and
  ml.g5.2xlarge x 1), one component on each pool: each pool's instance hours go to its own
  component (and the unreserved g5.xlarge GPU is idle), never to the other pool's.
"""

from __future__ import annotations

import numpy as np

from smcost.demo.account import arn, environment
from smcost.demo.clock import DAY_MS, HOUR_MS, Floats, Millis, hour_of_day, utc
from smcost.demo.facts import HostedVariant
from smcost.demo.hosting import Endpoint, Variant, add_endpoint, add_hosting, add_invocations, add_model
from smcost.demo.ledger import Ledger, Owner, Share

MIG_GPUS = 8
MIG_COMPONENTS = (  # model, team, partition, copies, compute slices of the 7 of an A100
    ("nlp-summarizer", "nlp", "mig-3g.20gb", 4, 3),
    ("query-embedder", "search", "mig-1g.5gb", 7, 1),
)
ADAPTER_BASE = ("nlp-summarizer", "nlp")
ADAPTERS = (("nlp-sentiment", "nlp"), ("search-ranker", "search"))
POOLS = (("ml.g5.xlarge", 2, "search-ranker", "search"), ("ml.g5.2xlarge", 1, "recsys-reranker", "recsys"))


def add_inference_component_shapes(ledger: Ledger) -> None:
    start = ledger.months[-2] + 9 * DAY_MS  # the last generated month, for two days
    _add_mig_endpoint(ledger, start)
    _add_adapter_endpoint(ledger, start)
    _add_pooled_endpoint(ledger, start)


def _endpoint(ledger: Ledger, name: str, team: str, created: int, variant: Variant | None) -> Endpoint:
    tags = {"ml:team": team, "ml:environment": environment("prod")}
    return add_endpoint(
        ledger,
        "prod",
        "us-east-1",
        f"{name}{ledger.suffix}",
        [variant] if variant else [],
        api_tags=tags,
        bill_tags=tags,
        created=created,
        deleted=created + 2 * DAY_MS,
    )


def _component(
    ledger: Ledger, endpoint: Endpoint, name: str, model: str, team: str, created: int, **spec: object
) -> str:
    """An inference component of ``model`` (its SageMaker model tagged with its owner) on ``endpoint``."""
    component = f"{name}{ledger.suffix}"
    sm_model = f"{name}-model{ledger.suffix}"
    add_model(ledger, endpoint.acct, endpoint.region, sm_model, model=model, team=team)
    ledger.metadata(
        "inference_components",
        endpoint.acct,
        endpoint.region,
        inference_component_arn=arn(endpoint.acct, endpoint.region, "inference-component", component),
        inference_component_name=component,
        inference_component_status="Deleted",
        endpoint_name=endpoint.name,
        variant_name="AllTraffic",
        model_name=sm_model,
        created_at=utc(created),
        last_modified_at=utc(created),
        tags={"ml:team": team, "ml:model": model},
        **spec,
    )
    return component


def _requests(hours: Millis, per_hour: float, night_off: bool = False) -> Floats:
    """A deterministic day curve (no random draws); none at all from 00:00 to 06:00 if ``night_off``."""
    hod = hour_of_day(hours)
    curve: Floats = np.round(per_hour * (0.5 + 0.5 * np.sin((hod - 6) / 24 * 2 * np.pi) ** 2) + (hod % 3))
    if night_off:
        curve = np.where(hod < 6, 0.0, curve)
    return curve


def _in_service(ledger: Ledger, endpoint: Endpoint, instance: str, hours: Millis, requests: Floats) -> None:
    """The variant's utilisation (busy enough: not over-provisioned) and what the generator knows of it."""
    peak = np.full(len(hours), 70.0)
    ledger.facts.variants.append(
        HostedVariant(endpoint.arn, endpoint.region, "inference_component", instance, hours, requests, True, peak)
    )


def _utilization(ledger: Ledger, endpoint: Endpoint, hours: Millis, vcpus: int, gpus: int) -> None:
    ledger.metadata_columns(
        "endpoint_utilization",
        endpoint.acct,
        endpoint.region,
        len(hours),
        endpoint_name=endpoint.name,
        variant_name="AllTraffic",
        metric_hour_at=hours,
        cpu_utilization_max=np.full(len(hours), 40.0 * vcpus),
        memory_utilization_max=np.full(len(hours), 60.0),
        gpu_utilization_max=np.full(len(hours), 70.0 * gpus),
        gpu_memory_utilization_max=np.full(len(hours), 65.0 * gpus),
    )


def _add_mig_endpoint(ledger: Ledger, created: int) -> None:
    env = environment("prod")
    endpoint = _endpoint(ledger, "genai-mig-prod", "nlp", created, Variant(instance="ml.p4d.24xlarge", count=1))
    hours = ledger.hours(created, created + 6 * HOUR_MS)  # an expensive instance: a six-hour trial
    owners: list[Share] = []
    requests = np.zeros(len(hours))
    for model, team, partition, copies, slices in MIG_COMPONENTS:
        component = _component(
            ledger,
            endpoint,
            f"{model}-mig",
            model,
            team,
            created,
            current_copy_count=copies,
            accelerator_devices_required=1.0,
            accelerator_partition_type=partition,
        )
        counts = _requests(hours, 300)
        add_invocations(
            ledger, endpoint.acct, endpoint.region, "inference_component", hours, counts, component=component
        )
        requests += counts
        owners.append((Owner(model, team, None, env, "metadata"), np.full(len(hours), copies * slices / 7 / MIG_GPUS)))
    reserved = sum(copies * slices / 7 for *_, copies, slices in MIG_COMPONENTS)
    owners.append((Owner("__idle__", "nlp", None, env, "metadata"), np.full(len(hours), 1 - reserved / MIG_GPUS)))
    add_hosting(ledger, endpoint, "ml.p4d.24xlarge", hours, np.ones(len(hours)), owners)
    _utilization(ledger, endpoint, hours, 96, 8)
    _in_service(ledger, endpoint, "ml.p4d.24xlarge", hours, requests)


def _add_adapter_endpoint(ledger: Ledger, created: int) -> None:
    env = environment("prod")
    base_model, base_team = ADAPTER_BASE
    endpoint = _endpoint(ledger, "genai-adapters-prod", base_team, created, Variant(instance="ml.g5.2xlarge", count=1))
    hours = ledger.hours(created, created + 2 * DAY_MS)
    base = _component(
        ledger,
        endpoint,
        f"{base_model}-base",
        base_model,
        base_team,
        created,
        current_copy_count=1,
        accelerator_devices_required=1.0,
        cpu_cores_required=4.0,
    )
    members = [(base, base_model, base_team, _requests(hours, 60, night_off=True))]
    for i, (model, team) in enumerate(ADAPTERS):
        name = _component(
            ledger, endpoint, f"{model}-adapter", model, team, created, base_inference_component_name=base
        )
        members.append((name, model, team, _requests(hours, 20 + 15 * i, night_off=True)))
    total: Floats = np.sum([counts for *_, counts in members], axis=0)
    owners: list[Share] = []
    for name, model, team, counts in members:
        add_invocations(ledger, endpoint.acct, endpoint.region, "inference_component", hours, counts, component=name)
        share = np.where(total > 0, counts / np.where(total > 0, total, 1), 1 / len(members))
        owners.append((Owner(model, team, None, env, "metadata"), share))
    add_hosting(ledger, endpoint, "ml.g5.2xlarge", hours, np.ones(len(hours)), owners)
    _utilization(ledger, endpoint, hours, 8, 1)
    _in_service(ledger, endpoint, "ml.g5.2xlarge", hours, total)


def _add_pooled_endpoint(ledger: Ledger, created: int) -> None:
    env = environment("prod")
    endpoint = _endpoint(ledger, "ranker-pools-prod", "search", created, None)
    ledger.metadata(
        "endpoint_configs",
        endpoint.acct,
        endpoint.region,
        endpoint_config_arn=arn(endpoint.acct, endpoint.region, "endpoint-config", f"{endpoint.name}-config"),
        endpoint_config_name=f"{endpoint.name}-config",
        created_at=utc(created - 600_000),
        variant_name="AllTraffic",
        initial_instance_count=sum(count for _, count, *_ in POOLS),
        initial_variant_weight=1.0,
        is_async=False,
        instance_pools={instance: priority for priority, (instance, *_) in enumerate(POOLS, start=1)},
        tags={"ml:team": "search", "ml:environment": env},
    )
    hours = ledger.hours(created, created + 2 * DAY_MS)
    counts = _requests(hours, 150)  # each component's
    for instance, count, model, team in POOLS:
        # One Specification per instance type, as a component of a heterogeneous endpoint has.
        component = _component(
            ledger,
            endpoint,
            f"{model}-pooled",
            model,
            team,
            created,
            current_copy_count=1,
            copies_by_instance_type={instance: 1},
            accelerator_devices_by_instance_type={instance: 1.0},
        )
        add_invocations(
            ledger, endpoint.acct, endpoint.region, "inference_component", hours, counts, component=component
        )
        owners: list[Share] = [(Owner(model, team, None, env, "metadata"), np.full(len(hours), 1 / count))]
        if count > 1:
            owners.append((Owner("__idle__", "search", None, env, "metadata"), np.full(len(hours), 1 - 1 / count)))
        add_hosting(ledger, endpoint, instance, hours, np.full(len(hours), float(count)), owners)
    for instance, *_ in POOLS:
        _in_service(ledger, endpoint, instance, hours, counts * len(POOLS))
    _utilization(ledger, endpoint, hours, 4, 1)
