"""S3 beside SageMaker: the features buckets (TB-scale training data, one dataset read by four models),
the artifacts buckets (every run's model, outputs and checkpoints, the deployed and multi-model
artifacts), a labelling bucket the extractor may not list, and a data lake nothing SageMaker reads.

What lands (``s3_artifacts``) is what the extractor would list under every S3 URI the landed jobs,
transforms and models reference, per storage class and day last modified; the bill stores, per
bucket, class and day, exactly those bytes (from their day on) plus the bytes under no SageMaker
prefix (a BI export folder, scratch space), which no one can be shown to own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from smcost.demo.account import ACCOUNTS, MODELS, UNLISTED_BUCKET, features_bucket
from smcost.demo.clock import DAY_MS, Floats, Millis, to_ms, utc
from smcost.demo.ledger import Charge, Ledger, Owner, Share, only, outside_scope
from smcost.demo.usage import GIB, Split, Usage, gb_months

REGION = "us-east-1"
TIB = 1024 * GIB
STORAGE = {  # storage class -> (usage type, $ per GB-month)
    "STANDARD": ("TimedStorage-ByteHrs", 0.023),
    "STANDARD_IA": ("TimedStorage-SIA-ByteHrs", 0.0125),
}
REQUESTS = {"Requests-Tier1": 0.000005, "Requests-Tier2": 0.0000004}  # PUT/COPY/POST/LIST, GET: $ per request
# What one run writes, in GB: the model artifact, its checkpoints (null: the job does not checkpoint),
# and the rest of its output (profiler and debugger output, evaluation reports).
RUN_GB = {
    "fraud-xgb": (0.2, 2.0),
    "fraud-gnn": (1.5, 3.0),
    "search-ranker": (2.0, 4.0),
    "query-embedder": (3.0, 4.0),
    "recsys-two-tower": (6.0, 6.0),
    "recsys-reranker": (1.5, 2.0),
    "vision-classifier": (1.0, 3.0),
    "vision-ocr": (0.8, 2.0),
    "churn-predictor": (0.05, 1.0),
    "ltv-model": (0.05, 1.0),
    "price-forecaster": (0.1, 1.0),
    "nlp-summarizer": (26.0, 8.0),  # the big fine-tune: a 26 GB model ...
    "nlp-sentiment": (1.3, 2.0),
    "support-llm": (15.0, 3.0),  # the story's LLM fine-tunes (story.py): a 15 GB model ...
}
CHECKPOINT_GB = {
    "support-llm": 90.0,  # ... and 90 GB of checkpoints a run
    "nlp-summarizer": 110.0,
    "recsys-two-tower": 25.0,
    "query-embedder": 12.0,
}  # ... and 110 GB of checkpoints
DEFAULT_CHECKPOINT_GB = 6.0
# The datasets in each account's features bucket, TiB at the start of the window (they grow daily).
DATASET_TIB = {
    "prod": {
        "clickstream/v3/": 16.0,
        "transactions/v5/": 3.0,
        "images/catalogue-2026/": 0.8,
        "documents/scans/": 1.5,
        "customers/daily/": 0.6,
        "corpus/news-2026/": 2.5,
        "corpus/reviews/": 0.2,
        "queries/2026/": 0.3,
    },
    "dev": {
        "clickstream/v3/": 8.0,
        "transactions/v5/": 1.5,
        "images/catalogue-2026/": 0.4,
        "customers/daily/": 0.3,
        "corpus/news-2026/": 1.5,
        "corpus/reviews/": 0.1,
        "queries/2026/": 0.2,
        "corpus/support-tickets/": 0.6,
    },
}
OTHER_TIB = {  # bytes under no SageMaker prefix, per bucket kind and account
    ("features", "prod"): 15.0,
    ("features", "dev"): 4.0,
    ("artifacts", "prod"): 0.5,
    ("artifacts", "dev"): 1.5,
}
INPUT_TIB = {"raw": 0.5, "scoring": 0.3}  # processing's raw exports, batch scoring input, per model
LABELLING_TIB = 2.5
DATA_LAKE_TIB = 120.0


@dataclass
class Prefix:
    """A referenced S3 URI: its objects (per storage class and day last modified) and who references it."""

    key: str
    resources: list[str] = field(default_factory=list)
    objects: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))

    def put(self, storage_class: str, day_ms: int, size: float, count: float) -> None:
        cell = self.objects[(storage_class, day_ms // DAY_MS * DAY_MS)]
        cell[0] += count
        cell[1] += size


@dataclass
class Bucket:
    name: str
    acct: str
    prefixes: dict[str, Prefix] = field(default_factory=dict)
    other: Prefix = field(default_factory=lambda: Prefix(""))  # the bytes under no SageMaker prefix

    def prefix(self, key: str) -> Prefix:
        return self.prefixes.setdefault(key, Prefix(key))


class Buckets:
    """The buckets SageMaker work references, filled from the landed metadata."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.buckets: dict[str, Bucket] = {}

    def at(self, uri: str) -> Prefix:
        """A referenced URI's prefix."""
        bucket, key = _split_uri(uri)
        return self.buckets[bucket].prefixes[key]

    def reference(self, uri: object, acct: str, resource: str) -> None:
        if not uri:
            return
        bucket, key = _split_uri(str(uri))
        prefix = self.buckets.setdefault(bucket, Bucket(bucket, acct)).prefix(key)
        if resource not in prefix.resources:
            prefix.resources.append(resource)


def add_s3(ledger: Ledger, usage: Usage) -> None:
    """The buckets' storage, requests and transfer, the landed listing, and the data lake."""
    buckets = _referenced(ledger, usage)
    _fill(ledger, buckets)
    days = ledger.days(ledger.t0, ledger.t1)
    for bucket in buckets.buckets.values():
        if bucket.name.startswith(UNLISTED_BUCKET):
            _bill_unlisted(ledger, bucket, days)
            continue
        _land(ledger, bucket)
        _bill_bucket(ledger, usage, bucket, days)
    # A data lake: S3 beside SageMaker that no SageMaker work references.
    lake = np.full(len(days), DATA_LAKE_TIB * TIB) * np.linspace(1.0, 1.04, len(days))
    ledger.charge(_storage(ledger, f"acme-data-lake{ledger.suffix}", "prod", "STANDARD", days, lake, outside_scope()))


def _referenced(ledger: Ledger, usage: Usage) -> Buckets:
    """Every S3 URI a landed job, transform or model references, with who references it."""
    buckets = Buckets(ledger)
    acct_of = {acct_id: key for key, (acct_id, _, _) in ACCOUNTS.items()}
    columns = {  # dataset -> its ARN column, and the columns holding S3 URIs
        "training_jobs": (
            "training_job_arn",
            ("input_s3_uris", "output_s3_uri", "model_artifact_s3_uri", "checkpoint_s3_uri"),
        ),
        "processing_jobs": ("processing_job_arn", ("input_s3_uris", "output_s3_uris")),
        "transform_jobs": ("transform_job_arn", ("input_s3_uri", "output_s3_uri")),
        "models": ("model_arn", ("model_data_url",)),
    }
    for dataset, (arn_column, uri_columns) in columns.items():
        for row in ledger.meta[dataset]:
            acct, arn = acct_of[str(row["account_id"])], str(row[arn_column])
            for column in uri_columns:
                value = row[column]
                for uri in value if isinstance(value, list) else [value]:
                    buckets.reference(uri, acct, arn)
            if dataset == "models":
                usage.add_owner(arn, model_owner(row))
    return buckets


def model_owner(row: dict[str, object]) -> Owner:
    """A SageMaker model's owner as its tags show it; untagged, its true owner (the model its name
    carries) is nobody's to know."""
    tags = row["tags"] if isinstance(row["tags"], dict) else {}
    if tags.get("ml:model") and tags.get("ml:team"):
        return Owner(tags["ml:model"], tags["ml:team"], None, tags.get("ml:environment"), "metadata")
    model = next((m for m in MODELS if str(row["model_name"]).startswith(f"{m}-")), None)
    team = MODELS[model][0] if model else tags.get("ml:team")
    env = next(e for acct_id, _, e in ACCOUNTS.values() if acct_id == row["account_id"])
    return Owner(model, team, None, env, "none")


def _fill(ledger: Ledger, buckets: Buckets) -> None:
    """What is stored under each referenced URI: what each run wrote on the day it ended, the
    datasets (history, then a daily increment), the deployed artifacts; and the other bytes."""
    rng, t0 = ledger.rng, ledger.t0
    for row in ledger.meta["training_jobs"]:
        end = _ms(row["training_end_at"])
        model = _split_uri(str(row["output_s3_uri"]))[1].rstrip("/")
        artifact_gb, extra_gb = RUN_GB[model]
        noise = float(rng.uniform(0.8, 1.2))
        buckets.at(str(row["model_artifact_s3_uri"])).put("STANDARD", end, artifact_gb * noise * GIB, 1)
        buckets.at(str(row["output_s3_uri"])).put("STANDARD", end, extra_gb * noise * GIB, 14)
        if row["checkpoint_s3_uri"]:
            gb = CHECKPOINT_GB.get(model, DEFAULT_CHECKPOINT_GB) * noise
            buckets.at(str(row["checkpoint_s3_uri"])).put("STANDARD", end, gb * GIB, 4 + int(gb // 2))
    for row in ledger.meta["processing_jobs"]:
        for uri in row["output_s3_uris"]:  # type: ignore[attr-defined]
            buckets.at(uri).put("STANDARD", _ms(row["processing_end_at"]), float(rng.uniform(20, 80)) * GIB, 64)
    for row in ledger.meta["transform_jobs"]:
        end = _ms(row["transform_end_at"])
        buckets.at(str(row["output_s3_uri"])).put("STANDARD", end, float(rng.uniform(5, 15)) * GIB, 32)
    for bucket in buckets.buckets.values():
        for prefix in bucket.prefixes.values():
            _fill_inputs(ledger, bucket, prefix)
        if bucket.name.startswith(("acme-ml-features", "acme-ml-artifacts")):
            kind = "features" if bucket.name.startswith("acme-ml-features") else "artifacts"
            _history(ledger, bucket.other, OTHER_TIB[(kind, bucket.acct)] * TIB, objects_per_gib=2.0)
    for row in ledger.meta["models"]:
        url = str(row["model_data_url"])
        if not url.endswith("/"):  # a multi-model prefix holds only its entries' artifacts
            buckets.at(url).put("STANDARD", t0 - 40 * DAY_MS, float(rng.uniform(0.5, 4.0)) * GIB, 1)


def _fill_inputs(ledger: Ledger, bucket: Bucket, prefix: Prefix) -> None:
    """The data an input URI holds: a dataset of the features bucket, raw exports, scoring input."""
    top = prefix.key.split("/", 1)[0]
    if bucket.name.startswith(UNLISTED_BUCKET):
        _history(ledger, prefix, LABELLING_TIB * TIB)
    elif bucket.name.startswith("acme-ml-features") and prefix.key in DATASET_TIB[bucket.acct]:
        _history(ledger, prefix, DATASET_TIB[bucket.acct][prefix.key] * TIB)
    elif bucket.name.startswith("acme-ml-features") and top in INPUT_TIB:
        _history(ledger, prefix, INPUT_TIB[top] * TIB)


def _history(ledger: Ledger, prefix: Prefix, start_bytes: float, *, objects_per_gib: float = 4.0) -> None:
    """``start_bytes`` written over the year before the window (the first nine months moved to
    STANDARD_IA long before it), then a daily increment of 0.25%."""
    t0 = ledger.t0
    monthly = start_bytes / 12
    for k in range(12, 0, -1):
        day = t0 - k * 30 * DAY_MS
        storage_class = "STANDARD_IA" if k > 3 else "STANDARD"
        size = monthly * float(ledger.rng.uniform(0.9, 1.1))
        prefix.put(storage_class, day, size, round(size / GIB * objects_per_gib))
    for day in ledger.days(t0, ledger.t1).tolist():
        size = start_bytes * 0.0025 * float(ledger.rng.uniform(0.7, 1.3))
        prefix.put("STANDARD", day, size, round(size / GIB * objects_per_gib))


def _land(ledger: Ledger, bucket: Bucket) -> None:
    """The extractor's listing: one row per referenced URI, storage class and day last modified."""
    for prefix in bucket.prefixes.values():
        for (storage_class, day), (count, size) in sorted(prefix.objects.items()):
            if size <= 0:
                continue
            ledger.metadata(
                "s3_artifacts",
                bucket.acct,
                REGION,
                bucket=bucket.name,
                key_or_prefix=prefix.key,
                storage_class=storage_class,
                last_modified_day=utc(day),
                object_count=int(count),
                size_bytes=int(size),
            )


def stored(prefix: Prefix, days: Millis, storage_class: str | None, column: int = 1) -> Floats:
    """Bytes (or objects, column 0) of the prefix stored each day: everything modified on or before it."""
    added = np.zeros(len(days))
    for (cls, day), cell in prefix.objects.items():
        if storage_class is None or cls == storage_class:
            added[max(0, int(np.searchsorted(days, day, side="left")))] += int(cell[1]) if column == 1 else int(cell[0])
    result: Floats = np.cumsum(added)
    return result


def _bill_bucket(ledger: Ledger, usage: Usage, bucket: Bucket, days: Millis) -> None:
    """Storage per class and day split by the prefixes' bytes; requests by the SageMaker share of
    the bytes, then across the prefixes by objects; each prefix across its resources by hours."""
    month = usage.month_of(days)
    per_prefix = {key: usage.split(p.resources) for key, p in bucket.prefixes.items() if p.resources}
    for storage_class in STORAGE:
        by_prefix = {key: stored(bucket.prefixes[key], days, storage_class) for key in per_prefix}
        total = sum(by_prefix.values(), stored(bucket.other, days, storage_class))
        keep = total > 0
        if not keep.any():
            continue
        split = Split(int(keep.sum()))
        for key, size in by_prefix.items():
            split.add_monthly(per_prefix[key], month[keep], size[keep] / total[keep])
        ledger.charge(
            _storage(ledger, bucket.name, bucket.acct, storage_class, days[keep], total[keep], split.owners())
        )
    size_all = {key: stored(bucket.prefixes[key], days, None) for key in per_prefix}
    objects = {key: stored(bucket.prefixes[key], days, None, column=0) for key in per_prefix}
    total_all = sum(size_all.values(), stored(bucket.other, days, None))
    sagemaker = sum(size_all.values(), np.zeros(len(days))) / total_all
    all_objects = sum(objects.values(), np.zeros(len(days)))
    split = Split(len(days))
    for key in per_prefix:
        split.add_monthly(per_prefix[key], month, sagemaker * objects[key] / np.where(all_objects > 0, all_objects, 1))
    owners = split.owners()
    scale = total_all / TIB
    for usage_type, rate in REQUESTS.items():
        per_tib = 4_000.0 if usage_type == "Requests-Tier1" else 180_000.0
        count = np.round(scale * per_tib * ledger.rng.uniform(0.6, 1.4, len(days)))
        ledger.charge(_daily(ledger, bucket.name, bucket.acct, usage_type, days, count, "Requests", rate, owners))
    if bucket.name.startswith(features_bucket("prod", ledger.suffix)):
        # Replication of the features to the DR region: split like storage, by the bytes.
        split = Split(len(days))
        for key, size in size_all.items():
            split.add_monthly(per_prefix[key], month, size / total_all)
        gb = 180.0 * ledger.rng.uniform(0.7, 1.3, len(days))
        ledger.charge(
            _daily(ledger, bucket.name, bucket.acct, "USW2-AWS-Out-Bytes", days, gb, "GB", 0.02, split.owners())
        )


def _bill_unlisted(ledger: Ledger, bucket: Bucket, days: Millis) -> None:
    """A bucket a job reads whose objects the extractor could not list: its owner (the one model
    reading it) is true, but nothing lands that would show it."""
    owner = Owner("vision-ocr", "vision", None, "development", "none")
    size = sum((stored(p, days, "STANDARD") for p in bucket.prefixes.values()), np.zeros(len(days)))
    ledger.charge(_storage(ledger, bucket.name, bucket.acct, "STANDARD", days, size, only(owner)))


def _storage(
    ledger: Ledger, bucket: str, acct: str, storage_class: str, days: Millis, size: Floats, owners: list[Share]
) -> Charge:
    usage_type, rate = STORAGE[storage_class]
    quantity = gb_months(size, np.asarray(ledger.months), np.searchsorted(ledger.months, days, side="right") - 1)
    return _daily(ledger, bucket, acct, usage_type, days, quantity, "GB-Mo", rate, owners, operation="StandardStorage")


def _daily(
    ledger: Ledger,
    bucket: str,
    acct: str,
    usage_type: str,
    days: Millis,
    quantity: Floats,
    unit: str,
    rate: float,
    owners: list[Share],
    *,
    operation: str = "",
) -> Charge:
    operations = {"Requests-Tier1": "PutObject", "Requests-Tier2": "GetObject", "USW2-AWS-Out-Bytes": "GetObject"}
    return Charge(
        acct=acct,
        region=REGION,
        resource_id=bucket,
        usage=usage_type,
        service="AmazonS3",
        start_ms=days,
        quantity=quantity,
        unit=unit,
        list_rate=rate,
        owners=owners,
        operation=operation or operations[usage_type],
        duration_ms=DAY_MS,
    )


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bucket, key


def _ms(moment: object) -> int:
    assert isinstance(moment, datetime)
    return to_ms(moment)
