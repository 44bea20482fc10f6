"""Not SageMaker, but part of a model's fully-loaded cost: S3, ECR and CloudWatch (their own
modules), the Studio domain's EFS home volume, an FSx for Lustre volume fine-tunes mount, data
transfer and a NAT gateway; and one thing that only looks like SageMaker: a plain EC2 g5 instance.

They are booked last, from what the cases before them booked: a neighbour is split across the
SageMaker resources that reference it by their usage (``usage.Usage``), so its true owners are
exactly what the landed metadata and the bill reveal, and nothing when they reveal nothing.
"""

from __future__ import annotations

import numpy as np

from smcost.demo.account import account_id, file_system_arn, file_system_id, short_hash
from smcost.demo.clock import DAY_MS, Floats, Millis
from smcost.demo.cloudwatch import add_cloudwatch
from smcost.demo.container_images import add_ecr
from smcost.demo.ledger import NOBODY, Charge, Ledger, Owner, Share, only, outside_scope
from smcost.demo.s3_storage import add_s3
from smcost.demo.usage import GIB, Split, Usage, gb_months

REGION = "us-east-1"
EFS_RATE, FSX_RATE = 0.30, 0.145  # $ per GB-month: EFS Standard, FSx for Lustre persistent SSD 125 MB/s/TiB
FSX_GIB = 1200  # provisioned: FSx bills the capacity, not what is used
# Identifiers the link rules in seeds/neighbour_link_rules.csv match (hex, as AWS makes them up).
FRAUD_VPC, NLP_NAT = "vpc-0fea7", "nat-0a11ce"


def add_neighbours(ledger: Ledger) -> None:
    """Everything beside SageMaker, split by the usage the cases booked before."""
    usage = Usage(ledger)
    add_s3(ledger, usage)
    add_ecr(ledger, usage)
    add_cloudwatch(ledger, usage)
    days = ledger.days(ledger.t0, ledger.t1)
    _add_studio_home_volume(ledger, usage, days)
    _add_lustre_volume(ledger, usage, days)
    _add_network(ledger, days)
    # A plain EC2 g5 instance: same GPU family as SageMaker's ml.g5, but not SageMaker.
    hours = ledger.hours(ledger.t0, ledger.t1)
    ledger.charge(
        Charge(
            acct="prod",
            region=REGION,
            resource_id=f"i-0{short_hash('ec2', ledger.suffix, n=16)}",
            usage="BoxUsage:g5.2xlarge",
            service="AmazonEC2",
            start_ms=hours,
            quantity=np.ones(len(hours)),
            unit="Hrs",
            list_rate=1.212,
            owners=outside_scope(),
            bill_tags={"ml:team": "vision"},
        )
    )


def _add_studio_home_volume(ledger: Ledger, usage: Usage, days: Millis) -> None:
    """The domain's EFS home directories, split across its Studio apps by their hours."""
    for domain in ledger.meta["studio_domains"]:
        apps = [str(a["app_arn"]) for a in ledger.meta["studio_apps"] if a["domain_id"] == domain["domain_id"]]
        size = np.round(np.linspace(240, 420, len(days)) * GIB * ledger.rng.uniform(0.98, 1.02, len(days)))
        resource = file_system_arn("dev", REGION, "elasticfilesystem", str(domain["home_efs_file_system_id"]))
        ledger.charge(_storage(ledger, usage, "dev", resource, "AmazonEFS", days, size, EFS_RATE, usage.split(apps)))


def _add_lustre_volume(ledger: Ledger, usage: Usage, days: Millis) -> None:
    """The FSx for Lustre volume the fine-tunes mount, split across the jobs mounting it by their hours."""
    fs_id = file_system_id("fsx", ledger.suffix)
    jobs = [
        str(j["training_job_arn"])
        for j in ledger.meta["training_jobs"]
        if isinstance(j["input_file_system_ids"], list) and fs_id in j["input_file_system_ids"]
    ]
    size = np.full(len(days), float(FSX_GIB * GIB))
    resource = file_system_arn("dev", REGION, "fsx", fs_id)
    ledger.charge(
        _storage(
            ledger,
            usage,
            "dev",
            resource,
            "AmazonFSx",
            days,
            size,
            FSX_RATE,
            usage.split(jobs),
            usage_type="Lustre-PersistentSSD-125-Storage",
        )
    )


def _storage(
    ledger: Ledger,
    usage: Usage,
    acct: str,
    resource: str,
    service: str,
    days: Millis,
    size: Floats,
    rate: float,
    split: list[dict[Owner, float]],
    *,
    usage_type: str = "TimedStorage-ByteHrs",
) -> Charge:
    month = usage.month_of(days)
    rows = Split(len(days))
    rows.add_monthly(split, month, np.ones(len(days)))
    return Charge(
        acct=acct,
        region=REGION,
        resource_id=resource,
        usage=usage_type,
        service=service,
        start_ms=days,
        quantity=gb_months(size, np.asarray(ledger.months), month),
        unit="GB-Mo",
        list_rate=rate,
        owners=rows.owners(),
        operation="Storage",
        duration_ms=DAY_MS,
    )


def _add_network(ledger: Ledger, days: Millis) -> None:
    """Data transfer billed apart from what moved it: tagged (search-ranker's responses out of
    Ireland), linked by a rule (the fraud VPC's cross-AZ traffic), or neither; and the nlp team's
    NAT gateway (a rule), whose bytes are model downloads."""
    rng, sfx = ledger.rng, ledger.suffix
    prod, dev = account_id("prod"), account_id("dev")
    rows: list[tuple[str, str, str, str, str, float, float, list[Share], dict[str, str]]] = [
        (
            "prod",
            "eu-west-1",
            "AWSDataTransfer",
            f"arn:aws:ec2:eu-west-1:{prod}:network-interface/eni-0{short_hash('eni-search', sfx, n=16)}",
            "DataTransfer-Out-Bytes",
            0.09,
            110.0,
            only(Owner("search-ranker", "search", None, "production", "bill_tag")),
            {"ml:team": "search", "ml:model": "search-ranker"},
        ),
        (
            "prod",
            REGION,
            "AWSDataTransfer",
            f"arn:aws:ec2:{REGION}:{prod}:vpc/{FRAUD_VPC}{short_hash('vpc-fraud', sfx, n=12)}",
            "DataTransfer-Regional-Bytes",
            0.01,
            200.0,
            only(Owner(None, "fraud", None, "production", "rule")),
            {},
        ),
        (
            "dev",
            REGION,
            "AWSDataTransfer",
            f"arn:aws:ec2:{REGION}:{dev}:network-interface/eni-0{short_hash('eni-dev', sfx, n=16)}",
            "DataTransfer-Out-Bytes",
            0.09,
            45.0,
            only(NOBODY),
            {},
        ),
        (
            "dev",
            REGION,
            "AmazonEC2",
            f"arn:aws:ec2:{REGION}:{dev}:natgateway/{NLP_NAT}{short_hash('nat-nlp', sfx, n=12)}",
            "NatGateway-Bytes",
            0.045,
            60.0,
            only(Owner(None, "nlp", None, "development", "rule")),
            {},
        ),
    ]
    for acct, region, service, resource, usage_type, rate, gb, owners, tags in rows:
        ledger.charge(
            Charge(
                acct=acct,
                region=region,
                resource_id=resource,
                usage=usage_type,
                service=service,
                start_ms=days,
                quantity=gb * rng.uniform(0.6, 1.4, len(days)),
                unit="GB",
                list_rate=rate,
                owners=owners,
                bill_tags=tags,
                operation="NatGateway" if service == "AmazonEC2" else "DataTransfer",
                duration_ms=DAY_MS,
            )
        )
    nat = rows[-1]
    ledger.charge(
        Charge(
            acct="dev",
            region=REGION,
            resource_id=nat[3],
            usage="NatGateway-Hours",
            service="AmazonEC2",
            start_ms=days,
            quantity=np.full(len(days), 24.0),
            unit="Hrs",
            list_rate=0.045,
            owners=nat[7],
            operation="NatGateway",
            duration_ms=DAY_MS,
        )
    )
