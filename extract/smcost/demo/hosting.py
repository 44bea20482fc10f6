"""What every hosted model is made of: SageMaker models, endpoints and their configs, instance
hours, an endpoint's storage and data transfer, and the CloudWatch invocation counts and
utilisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from smcost.demo.account import (
    CAPACITY,
    PRICES,
    REGIONS,
    Tags,
    arn,
    artifacts_bucket,
    ecr_uri,
    environment,
    role_arn,
)
from smcost.demo.clock import DAY_MS, Flags, Floats, Millis, hour_of_day, utc
from smcost.demo.facts import HostedVariant
from smcost.demo.ledger import Charge, Ledger, Share


@dataclass(frozen=True)
class Variant:
    """A production variant of an endpoint config (instance-backed, serverless or async)."""

    model_name: str | None = None
    instance: str | None = None
    count: int | None = None
    memory_mb: int | None = None  # serverless
    concurrency: int | None = None  # serverless
    is_async: bool = False
    name: str = "AllTraffic"


@dataclass(frozen=True)
class Endpoint:
    """An endpoint the ledger knows: where it runs, its ARN, and the tags its charges carry."""

    acct: str
    region: str
    name: str
    arn: str
    bill_tags: Tags


def add_model(
    ledger: Ledger,
    acct: str,
    region: str,
    name: str,
    *,
    model: str | None,
    team: str,
    mode: str = "SingleModel",
    data_url: str | None = None,
    tags: Tags | None = None,
) -> None:
    """A SageMaker model (the models dataset); by default tagged with its owner."""
    if tags is None:
        tags = {"ml:team": team, "ml:model": model or "", "ml:environment": environment(acct)}
    ledger.metadata(
        "models",
        acct,
        region,
        model_arn=arn(acct, region, "model", name),
        model_name=name,
        created_at=utc(ledger.t0 - 40 * DAY_MS),
        execution_role_arn=role_arn(acct, f"{team}-sagemaker-inference"),
        image_uri=ecr_uri(acct, region, f"{model or team}-serve{ledger.suffix}:1"),
        model_data_url=data_url or f"s3://{artifacts_bucket(acct, ledger.suffix)}/{model}/model.tar.gz",
        container_mode=mode,
        tags=tags,
    )


def add_endpoint(
    ledger: Ledger,
    acct: str,
    region: str,
    name: str,
    variants: list[Variant],
    *,
    api_tags: Tags,
    bill_tags: Tags,
    created: int,
    deleted: int | None = None,
    config: str | None = None,
) -> Endpoint:
    """An endpoint and its config's variants (metadata only)."""
    endpoint = Endpoint(acct, region, name, arn(acct, region, "endpoint", name), bill_tags)
    config = config or f"{name}-config"
    ledger.metadata(
        "endpoints",
        acct,
        region,
        endpoint_arn=endpoint.arn,
        endpoint_name=name,
        endpoint_status="Deleted" if deleted else "InService",
        endpoint_created_at=utc(created),
        endpoint_deleted_at=utc(deleted) if deleted else None,
        endpoint_config_name=config,
        config_active_from=utc(created),
        config_active_to=utc(deleted) if deleted else None,
        tags=api_tags,
    )
    for v in variants:
        ledger.metadata(
            "endpoint_configs",
            acct,
            region,
            endpoint_config_arn=arn(acct, region, "endpoint-config", config),
            endpoint_config_name=config,
            created_at=utc(created - 600_000),
            variant_name=v.name,
            model_name=v.model_name,
            instance_type=v.instance,
            initial_instance_count=v.count,
            initial_variant_weight=1.0,
            serverless_memory_mb=v.memory_mb,
            serverless_max_concurrency=v.concurrency,
            is_async=v.is_async,
            tags=api_tags,
        )
    return endpoint


def add_hosting(
    ledger: Ledger,
    endpoint: Endpoint,
    instance: str,
    hours: Millis,
    counts: Floats,
    owners: list[Share],
    *,
    unknowable: Flags | None = None,
) -> None:
    """``counts`` instances of an endpoint each hour, on demand."""
    ledger.charge(
        Charge(
            acct=endpoint.acct,
            region=endpoint.region,
            resource_id=endpoint.arn,
            usage=f"Host:{instance}",
            start_ms=hours,
            quantity=counts,
            unit="Hrs",
            list_rate=PRICES[instance] * REGIONS[endpoint.region][2],
            owners=owners,
            bill_tags=endpoint.bill_tags,
            unknowable=unknowable,
        )
    )


def add_storage_and_transfer(
    ledger: Ledger,
    endpoint: Endpoint,
    owners: list[Share],
    *,
    start: int,
    end: int,
    gb_out: float,
    rng: np.random.Generator | None = None,
) -> None:
    """ML storage and data transfer of an endpoint, one row a day each; ``owners`` share each day."""
    days = ledger.days(start, end)
    if not len(days):
        return

    def daily(usage: str, quantity: Floats, unit: str, rate: float) -> Charge:
        return Charge(
            acct=endpoint.acct,
            region=endpoint.region,
            resource_id=endpoint.arn,
            usage=usage,
            start_ms=days,
            quantity=quantity,
            unit=unit,
            list_rate=rate,
            owners=owners,
            bill_tags=endpoint.bill_tags,
            duration_ms=DAY_MS,
        )

    ledger.charge(daily("Host:VolumeUsage.gp2", np.full(len(days), 30 / 30.4), "GB-Mo", 0.14))
    noise = (rng or ledger.rng).uniform(0.6, 1.4, len(days))
    ledger.charge(daily("Data-Bytes-Out", gb_out * noise, "GB", 0.016))
    ledger.charge(daily("Data-Bytes-In", gb_out * 0.3 * noise, "GB", 0.0))


def add_invocations(
    ledger: Ledger,
    acct: str,
    region: str,
    dimension: str,
    hours: Millis,
    counts: Floats,
    *,
    endpoint: str | None = None,
    variant: str | None = None,
    component: str | None = None,
    target_model: str | None = None,
    namespace: str = "AWS/SageMaker",
    latency_us: float = 25_000.0,
) -> None:
    """Hourly CloudWatch Invocations (and ModelLatency where there were any) for one dimension."""
    ledger.metadata_columns(
        "endpoint_invocations",
        acct,
        region,
        len(hours),
        metric_dimension=dimension,
        metric_namespace=namespace,
        endpoint_name=endpoint,
        variant_name=variant,
        inference_component_name=component,
        target_model=target_model,
        metric_hour_at=hours,
        invocations=np.asarray(counts, dtype=np.float64),
        model_latency_us=pa.array(np.full(len(hours), latency_us), mask=np.asarray(counts) == 0),
    )


def add_variant_invocations(ledger: Ledger, endpoint: Endpoint, hours: Millis, counts: Floats) -> None:
    """The invocations of an endpoint's one variant, AllTraffic."""
    add_invocations(
        ledger, endpoint.acct, endpoint.region, "variant", hours, counts, endpoint=endpoint.name, variant="AllTraffic"
    )


def traffic(ledger: Ledger, hours: Millis, per_hour: float, rng: np.random.Generator | None = None) -> Floats:
    """Requests per hour: a daily curve peaking in the afternoon, with noise."""
    daily = 0.35 + 0.65 * np.clip(np.sin((hour_of_day(hours) - 6) / 24 * 2 * np.pi), 0, None)
    requests: Floats = np.round(per_hour * daily * (rng or ledger.rng).uniform(0.8, 1.2, len(hours)))
    return requests


@dataclass(frozen=True)
class Load:
    """How hard an endpoint's busiest instance works, in percent, idle and at the variant's peak
    traffic: per vCPU, of memory, per GPU and of GPU memory. A loaded model holds its memory (and
    its GPU memory) whether or not anyone calls it; only compute follows the traffic."""

    cpu: tuple[float, float]
    memory: tuple[float, float]
    gpu: tuple[float, float] = (0.0, 0.0)
    gpu_memory: tuple[float, float] = (0.0, 0.0)


def add_utilization(
    ledger: Ledger,
    endpoint: Endpoint,
    instance: str,
    hours: Millis,
    counts: Floats,
    requests: Floats,
    load: Load | None,
    *,
    kind: str = "single_model",
) -> None:
    """The variant's hourly CloudWatch utilisation maxima (none with ``load`` None: its metrics never
    landed), and what the generator knows of its use (``ledger.facts``). ``requests`` are the
    variant's requests each hour, landed as Invocations or not."""
    peak = None
    if load is not None:
        vcpus, gpus = CAPACITY[instance]
        per_instance = requests / counts
        busy = per_instance / per_instance.max() if per_instance.max() > 0 else np.zeros(len(hours))
        rng = ledger.story_rng

        def level(idle_busy: tuple[float, float], spread: float) -> Floats:
            idle, top = idle_busy
            value: Floats = np.clip(
                (idle + (top - idle) * busy) * rng.uniform(1 - spread, 1 + spread, len(hours)), 0, 100
            )
            return np.round(value, 2)

        cpu, memory = level(load.cpu, 0.1), level(load.memory, 0.03)
        gpu, gpu_memory = (level(load.gpu, 0.1), level(load.gpu_memory, 0.03)) if gpus else (None, None)
        peak = (
            np.maximum(cpu, memory)
            if gpu is None or gpu_memory is None
            else np.maximum.reduce([cpu, memory, gpu, gpu_memory])
        )
        ledger.metadata_columns(
            "endpoint_utilization",
            endpoint.acct,
            endpoint.region,
            len(hours),
            endpoint_name=endpoint.name,
            variant_name="AllTraffic",
            metric_hour_at=hours,
            cpu_utilization_max=cpu * vcpus,
            memory_utilization_max=memory,
            gpu_utilization_max=None if gpu is None else gpu * gpus,
            gpu_memory_utilization_max=None if gpu_memory is None else gpu_memory * gpus,
        )
    ledger.facts.variants.append(
        HostedVariant(endpoint.arn, endpoint.region, kind, instance, hours, requests, load is not None, peak)
    )
