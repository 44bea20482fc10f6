"""CloudWatch beside SageMaker: the /aws/sagemaker/ log groups (chatty endpoint logs, the shared
training and processing groups), the multi-model endpoint's per-model custom metric, and alarms.

A log group ingests bytes daily and stores what it ingested over its retention (compressed); the
landed ``log_groups`` row carries the stored bytes on the day the extractor ran, as the bill does.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from smcost.demo.account import REGIONS, account_id, arn, log_group_arn
from smcost.demo.clock import DAY_MS, Floats, Millis, to_ms, utc
from smcost.demo.ledger import Charge, Ledger, Owner, Share, only
from smcost.demo.usage import GIB, Split, Usage, gb_months

INGESTION, STORAGE = 0.50, 0.03  # $ per GB ingested, per GB-month stored (us-east-1)
RETENTION_DAYS = 30
COMPRESSION = 0.15  # stored bytes per ingested byte
# Endpoint log groups: (account, region, endpoint, GB ingested a day).
ENDPOINT_LOGS = (
    ("prod", "us-east-1", "fraud-xgb-prod", 6.0),
    ("prod", "us-east-1", "tabular-mme-prod", 2.5),
    ("prod", "us-east-1", "genai-ic-prod", 6.0),
    ("prod", "us-east-1", "recsys-prod", 1.5),
    ("prod", "us-east-1", "vision-ocr-async", 0.8),
    ("prod", "eu-west-1", "search-ranker-prod", 34.0),
)
# Shared job log groups: (account, group, ARN kind of the jobs writing to it, GB a day).
JOB_LOGS = (
    ("dev", "/aws/sagemaker/TrainingJobs", "training-job", 5.0),
    ("prod", "/aws/sagemaker/TrainingJobs", "training-job", 1.5),
    ("dev", "/aws/sagemaker/ProcessingJobs", "processing-job", 1.2),
)
# Alarms on endpoints: (account, region, alarm, endpoint name, model, team), $0.10 per alarm-month.
ALARMS = (
    ("prod", "us-east-1", "fraud-xgb-prod-p99-latency", "fraud-xgb", "fraud"),
    ("prod", "us-east-1", "fraud-xgb-prod-5xx", "fraud-xgb", "fraud"),
    ("prod", "eu-west-1", "search-ranker-prod-p99-latency", "search-ranker", "search"),
    ("prod", "eu-west-1", "search-ranker-prod-5xx", "search-ranker", "search"),
    ("prod", "eu-west-1", "search-ranker-prod-cpu", "search-ranker", "search"),
    ("prod", "us-east-1", "genai-ic-prod-gpu-memory", "nlp-summarizer", "nlp"),
)
MME_METRICS = 6  # three target models x (Invocations, ModelLatency) in SMCost/MultiModel


def add_cloudwatch(ledger: Ledger, usage: Usage) -> None:
    days = ledger.days(ledger.t0, ledger.t1)
    sfx = ledger.suffix
    created: dict[str, datetime] = {}  # the first incarnation of each endpoint name created its group
    for row in ledger.meta["endpoints"]:
        name, at = str(row["endpoint_name"]), row["endpoint_created_at"]
        assert isinstance(at, datetime)
        created[name] = min(at, created.get(name, at))
    for acct, region, endpoint, gb in ENDPOINT_LOGS:
        name = f"{endpoint}{sfx}"
        split = usage.endpoint_split(arn(acct, region, "endpoint", name))
        group = f"/aws/sagemaker/Endpoints/{name}"
        _add_log_group(ledger, usage, acct, region, group, gb, days, split, created[name])
    for acct, group, kind, gb in JOB_LOGS:
        prefix = f"arn:aws:sagemaker:us-east-1:{account_id(acct)}:{kind}/"
        split = usage.split(usage.jobs_in(acct, "us-east-1", prefix))
        _add_log_group(ledger, usage, acct, "us-east-1", f"{group}{sfx}", gb, days, split, None)
    _add_alarms(ledger, days)
    _add_multi_model_metric(ledger, usage, days)


def _add_log_group(
    ledger: Ledger,
    usage: Usage,
    acct: str,
    region: str,
    group: str,
    gb_per_day: float,
    days: Millis,
    split: list[dict[Owner, float]],
    created: datetime | None,
) -> None:
    """Daily ingestion and storage of a log group, both split like its owners' usage in the month."""
    rng = ledger.rng
    first = ledger.t0 if created is None else max(ledger.t0, _day_of(created))
    history = np.arange(first - RETENTION_DAYS * DAY_MS, ledger.t1, DAY_MS, dtype=np.int64)
    ingested = np.round(gb_per_day * GIB * rng.uniform(0.6, 1.4, len(history)))
    if created is not None:
        ingested[history < _day_of(created)] = 0.0
    stored = np.round(np.convolve(ingested * COMPRESSION, np.ones(RETENTION_DAYS))[: len(history)])
    live = history >= first
    at, ingested, stored = history[live], ingested[live], stored[live]
    month = usage.month_of(at)
    rows = Split(len(at))
    rows.add_monthly(split, month, np.ones(len(at)))
    owners = rows.owners()
    resource = log_group_arn(acct, region, group)
    multiplier = REGIONS[region][2]
    for usage_type, quantity, unit, rate in (
        ("DataProcessing-Bytes", ingested / GIB, "GB", INGESTION * multiplier),
        ("TimedStorage-ByteHrs", gb_months(stored, np.asarray(ledger.months), month), "GB-Mo", STORAGE * multiplier),
    ):
        ledger.charge(_daily(acct, region, resource, usage_type, at, quantity, unit, rate, owners))
    ledger.metadata(
        "log_groups",
        acct,
        region,
        log_group_name=group,
        log_group_arn=resource,
        stored_bytes=int(stored[-1]),
        retention_days=RETENTION_DAYS,
        created_at=utc(first - 300 * DAY_MS) if created is None else created,
    )


def _day_of(moment: datetime) -> int:
    return to_ms(moment) // DAY_MS * DAY_MS


def _add_alarms(ledger: Ledger, days: Millis) -> None:
    """Alarms carry their owner's tags in the bill."""
    month = np.searchsorted(ledger.months, days, side="right") - 1
    months = np.asarray(ledger.months)
    per_day = 24 / ((months[month + 1] - months[month]) / 3_600_000)
    for acct, region, alarm, model, team in ALARMS:
        owner = Owner(model, team, None, "production", "bill_tag")
        tags = {"ml:model": model, "ml:team": team, "ml:environment": "production"}
        ledger.charge(
            Charge(
                acct=acct,
                region=region,
                resource_id=f"arn:aws:cloudwatch:{region}:{account_id(acct)}:alarm:{alarm}{ledger.suffix}",
                service="AmazonCloudWatch",
                duration_ms=DAY_MS,
                usage="CW:AlarmMonitorUsage",
                start_ms=days,
                quantity=per_day,
                unit="Alarms",
                list_rate=0.10,
                owners=only(owner),
                bill_tags=tags,
                operation="MetricAlarm",
            )
        )


def _add_multi_model_metric(ledger: Ledger, usage: Usage, days: Millis) -> None:
    """The per-model custom metric of the multi-model endpoint: no resource id, no tags; a link rule
    names the endpoint, so it splits like the endpoint's logs."""
    endpoint = f"tabular-mme-prod{ledger.suffix}"
    month = usage.month_of(days)
    months = np.asarray(ledger.months)
    rows = Split(len(days))
    rule = [
        # An owner the endpoint's own split cannot know (an unmapped model) stays unknowable here.
        {
            Owner(o.model, o.team, o.experiment, o.environment, "rule" if o.is_knowable else "none"): w
            for o, w in m.items()
        }
        for m in usage.endpoint_split(arn("prod", "us-east-1", "endpoint", endpoint))
    ]
    rows.add_monthly(rule, month, np.ones(len(days)))
    ledger.charge(
        Charge(
            acct="prod",
            region="us-east-1",
            resource_id=None,
            service="AmazonCloudWatch",
            duration_ms=DAY_MS,
            usage="CW:MetricMonitorUsage",
            start_ms=days,
            quantity=MME_METRICS * 24 / ((months[month + 1] - months[month]) / 3_600_000),
            unit="Metrics",
            list_rate=0.30,
            owners=rows.owners(),
            operation="MetricStorage:SMCost/MultiModel",
            description=f"$0.30 per metric-month: custom metrics SMCost/MultiModel of {endpoint}",
        )
    )


def _daily(
    acct: str,
    region: str,
    resource: str,
    usage_type: str,
    days: Millis,
    quantity: Floats,
    unit: str,
    rate: float,
    owners: list[Share],
) -> Charge:
    return Charge(
        acct=acct,
        region=region,
        resource_id=resource,
        usage=usage_type,
        service="AmazonCloudWatch",
        start_ms=days,
        quantity=quantity,
        unit=unit,
        list_rate=rate,
        owners=owners,
        operation="PutLogEvents" if usage_type.startswith("DataProcessing") else "HourlyStorageMetering",
        duration_ms=DAY_MS,
    )
