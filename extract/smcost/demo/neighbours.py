"""Not SageMaker, but part of a model's fully-loaded cost: S3 artifact buckets, ECR repositories and
CloudWatch log groups (bill and metadata), and one thing that only looks like SageMaker: a plain
EC2 g5 instance."""

from __future__ import annotations

import numpy as np

from smcost.demo.account import MODELS, ecr_repository_arn, ecr_uri, log_group_arn, short_hash
from smcost.demo.clock import DAY_MS, Millis, utc
from smcost.demo.ledger import NOBODY, Charge, Ledger, only

ACCT, REGION = "prod", "us-east-1"
LOG_GROUPS = (
    "/aws/sagemaker/TrainingJobs",
    "/aws/sagemaker/ProcessingJobs",
    "/aws/sagemaker/Endpoints/fraud-xgb-prod",
    "/aws/sagemaker/Endpoints/tabular-mme-prod",
)


def add_neighbours(ledger: Ledger) -> None:
    """Storage beside SageMaker, the EC2 look-alike, and what the extractor reads about the storage."""
    _add_storage_charges(ledger)
    # A plain EC2 g5 instance: same GPU family as SageMaker's ml.g5, but not SageMaker.
    hours = ledger.hours(ledger.t0, ledger.t1)
    ledger.charge(
        Charge(
            acct=ACCT,
            region=REGION,
            resource_id=f"i-0{short_hash('ec2', ledger.suffix, n=16)}",
            usage="BoxUsage:g5.2xlarge",
            service="AmazonEC2",
            start_ms=hours,
            quantity=np.ones(len(hours)),
            unit="Hrs",
            list_rate=1.212,
            owners=only(NOBODY),
            bill_tags={"ml:team": "vision"},
        )
    )
    _add_storage_metadata(ledger)


def _add_storage_charges(ledger: Ledger) -> None:
    """Daily storage of the artifact buckets, the serving images and the SageMaker log groups."""
    days = ledger.days(ledger.t0, ledger.t1)
    for bucket, gb in (
        (f"acme-ml-artifacts-prod{ledger.suffix}", 1800.0),
        (f"acme-ml-artifacts-dev{ledger.suffix}", 950.0),
    ):
        ledger.charge(_daily_storage(bucket, "AmazonS3", days, gb, 0.023, "StandardStorage"))
    for repo in ("fraud-xgb-serve", "nlp-summarizer-serve", "dataprep"):
        repository = ecr_repository_arn(ACCT, REGION, f"{repo}{ledger.suffix}")
        ledger.charge(_daily_storage(repository, "AmazonECR", days, 12, 0.10, "ECRStorage"))
    for group in ("/aws/sagemaker/Endpoints/fraud-xgb-prod", "/aws/sagemaker/TrainingJobs"):
        log_group = log_group_arn(ACCT, REGION, f"{group}{ledger.suffix}")
        ledger.charge(_daily_storage(log_group, "AmazonCloudWatch", days, 40, 0.03, "PutLogEvents"))


def _daily_storage(resource: str, service: str, days: Millis, gb: float, rate: float, operation: str) -> Charge:
    """``gb`` stored all month, billed a day at a time in GB-months."""
    return Charge(
        acct=ACCT,
        region=REGION,
        resource_id=resource,
        usage="TimedStorage-ByteHrs",
        service=service,
        start_ms=days,
        quantity=np.full(len(days), gb / 30.4),
        unit="GB-Mo",
        list_rate=rate,
        owners=only(NOBODY),
        operation=operation,
        duration_ms=DAY_MS,
    )


def _add_storage_metadata(ledger: Ledger) -> None:
    """What the extractor reads about the same storage: artifact sizes, images, log groups."""
    sfx = ledger.suffix
    modified = utc(ledger.t0 - DAY_MS)
    ledger.metadata(
        "s3_artifacts",
        ACCT,
        REGION,
        bucket="acme-ml-artifacts-prod",
        key_or_prefix=f"mme/tabular{sfx}/",
        is_prefix_total=True,
        object_count=3,
        size_bytes=3 * 180_000_000,
        last_modified_at=modified,
    )
    for model in MODELS:
        ledger.metadata(
            "s3_artifacts",
            ACCT,
            REGION,
            bucket="acme-ml-artifacts-prod",
            key_or_prefix=f"{model}{sfx}/model.tar.gz",
            is_prefix_total=False,
            object_count=1,
            size_bytes=int(ledger.rng.integers(50, 4000)) * 1_000_000,
            last_modified_at=modified,
        )
        ledger.metadata(
            "ecr_images",
            ACCT,
            REGION,
            repository_name=f"{model}-serve{sfx}",
            repository_arn=ecr_repository_arn(ACCT, REGION, f"{model}-serve{sfx}"),
            image_digest="sha256:" + short_hash(model, "img", sfx, n=64),
            image_tags=["1"],
            image_uri=ecr_uri(ACCT, REGION, f"{model}-serve{sfx}:1"),
            size_bytes=int(ledger.rng.integers(2, 9)) * 1_000_000_000,
            pushed_at=utc(ledger.t0 - 60 * DAY_MS),
        )
    for group in LOG_GROUPS:
        ledger.metadata(
            "log_groups",
            ACCT,
            REGION,
            log_group_name=group + sfx,
            log_group_arn=log_group_arn(ACCT, REGION, f"{group}{sfx}"),
            stored_bytes=int(ledger.rng.integers(1, 60)) * 1_000_000_000,
            retention_days=30,
            created_at=utc(ledger.t0 - 300 * DAY_MS),
        )
