"""Processing and batch transform: data preparation under a shared role (only the experiment link
names the model), and weekly scoring runs whose SageMaker model carries the owner's tags."""

from __future__ import annotations

from smcost.demo.account import (
    MODELS,
    PRICES,
    arn,
    artifacts_bucket,
    ecr_uri,
    experiment_name,
    features_bucket,
    role_arn,
    trial_name,
)
from smcost.demo.clock import DAY_MS, HOUR_MS, overlap_hours, utc
from smcost.demo.hosting import add_model
from smcost.demo.ledger import Charge, Ledger, Owner, only

BATCH_MODELS = (("vision-classifier", "ml.g4dn.xlarge"), ("churn-predictor", "ml.m5.xlarge"))


def add_processing_and_transform(ledger: Ledger) -> None:
    """Two processing jobs a model a month, four batch transforms a month for two models."""
    for month in ledger.months[:-1]:
        for model in MODELS:
            for k in range(2):
                _add_processing_job(ledger, model, k, month)
    for month in ledger.months[:-1]:
        for model, instance in BATCH_MODELS:
            for week in range(4):
                _add_transform_job(ledger, model, instance, month, week)
    for model, _ in BATCH_MODELS:
        add_model(
            ledger, "prod", "us-east-1", f"{model}-batch-model{ledger.suffix}", model=model, team=MODELS[model][0]
        )


def _add_processing_job(ledger: Ledger, model: str, k: int, month: int) -> None:
    """Processing runs under the data-prep role, not the training role: only the experiment link
    ties it to its model."""
    rng = ledger.rng
    start = month + int(rng.integers(1, 27)) * DAY_MS + int(rng.integers(0, 23)) * HOUR_MS
    seconds = int(rng.uniform(0.5, 3) * 3600)
    end = start + seconds * 1000
    name = f"{model}-prep-{utc(start):%Y%m%d-%H}-{k}{ledger.suffix}"
    job_arn = arn("dev", "us-east-1", "processing-job", name)
    experiment = experiment_name(model, ledger.suffix)
    owner = Owner(model, MODELS[model][0], experiment, "development", "metadata")
    hours = ledger.hours(start, end)
    ledger.charge(
        Charge(
            acct="dev",
            region="us-east-1",
            resource_id=job_arn,
            usage="Processing:ml.m5.xlarge",
            start_ms=hours,
            quantity=overlap_hours(hours, start, end) * 2,
            unit="Hrs",
            list_rate=PRICES["ml.m5.xlarge"],
            owners=only(owner),
            operation="Processing",
        )
    )
    ledger.metadata(
        "processing_jobs",
        "dev",
        "us-east-1",
        processing_job_arn=job_arn,
        processing_job_name=name,
        processing_job_status="Completed",
        created_at=utc(start - 60_000),
        processing_start_at=utc(start),
        processing_end_at=utc(end),
        role_arn=role_arn("dev", "shared-dataprep-role"),
        instance_type="ml.m5.xlarge",
        instance_count=2,
        image_uri=ecr_uri("dev", "us-east-1", f"dataprep{ledger.suffix}:3"),
        # Raw exports in, a prepared snapshot per run out.
        input_s3_uris=[f"s3://{features_bucket('dev', ledger.suffix)}/raw/{model}/"],
        output_s3_uris=[f"s3://{artifacts_bucket('dev', ledger.suffix)}/{model}/processed/{name}/"],
        experiment_name=experiment,
        trial_name=trial_name(model, month, ledger.suffix),
        training_job_arn=None,
        monitoring_schedule_arn=None,
        tags={},
    )


def _add_transform_job(ledger: Ledger, model: str, instance: str, month: int, week: int) -> None:
    """Batch transform: a scoring run that names a model; the model's API tags carry the owner."""
    start = month + (week * 7 + 2) * DAY_MS + 2 * HOUR_MS
    end = start + 3 * HOUR_MS + 1_200_000
    name = f"{model}-batch-{utc(start):%Y%m%d}{ledger.suffix}"
    job_arn = arn("prod", "us-east-1", "transform-job", name)
    hours = ledger.hours(start, end)
    owner = Owner(model, MODELS[model][0], None, "production", "metadata")
    ledger.charge(
        Charge(
            acct="prod",
            region="us-east-1",
            resource_id=job_arn,
            usage=f"Tsform:{instance}",
            start_ms=hours,
            quantity=overlap_hours(hours, start, end) * 2,
            unit="Hrs",
            list_rate=PRICES[instance],
            owners=only(owner),
            operation="Transform",
        )
    )
    ledger.metadata(
        "transform_jobs",
        "prod",
        "us-east-1",
        transform_job_arn=job_arn,
        transform_job_name=name,
        transform_job_status="Completed",
        created_at=utc(start - 60_000),
        transform_start_at=utc(start),
        transform_end_at=utc(end),
        model_name=f"{model}-batch-model{ledger.suffix}",
        input_s3_uri=f"s3://{features_bucket('prod', ledger.suffix)}/scoring/{model}/",
        output_s3_uri=f"s3://{artifacts_bucket('prod', ledger.suffix)}/{model}/batch/{name}/",
        instance_type=instance,
        instance_count=2,
        experiment_name=None,
        trial_name=None,
        tags={},
    )
