"""ECR beside SageMaker: every repository a landed job, processing job or model pulls from, with all
its images (the referenced one, older releases nothing references, a release candidate pushed in
the window), billed a day at a time for the bytes of the images pushed by then."""

from __future__ import annotations

import hashlib

import numpy as np

from smcost.demo.account import ecr_repository_arn
from smcost.demo.clock import DAY_MS, Millis, utc
from smcost.demo.ledger import Charge, Ledger
from smcost.demo.usage import GIB, Split, Usage, gb_months

RATE = 0.10  # $ per GB-month
IMAGE_GB = {"serve": (3.0, 8.0), "train": (9.0, 16.0), "dataprep": (2.5, 3.5)}
BIG_IMAGES = {"nlp-summarizer-serve": 18.0}  # an LLM serving container


def add_ecr(ledger: Ledger, usage: Usage) -> None:
    """Each referenced repository's images landed, and its storage billed and split by image bytes."""
    acct_of = {"111122223333": "prod", "444455556666": "dev"}
    refs: dict[str, list[str]] = {}  # image URI -> the resources referencing it
    for dataset, arn_column, uri_column in (
        ("training_jobs", "training_job_arn", "training_image"),
        ("processing_jobs", "processing_job_arn", "image_uri"),
        ("models", "model_arn", "image_uri"),
    ):
        for row in ledger.meta[dataset]:
            if row[uri_column]:
                refs.setdefault(str(row[uri_column]), []).append(str(row[arn_column]))
    repositories: dict[tuple[str, str, str], list[str]] = {}  # (account, region, name) -> referenced URIs
    for uri in refs:
        host, path = uri.split("/", 1)
        acct_id, _, _, region = host.split(".")[:4]
        name = path.split(":", 1)[0]
        repositories.setdefault((acct_of[acct_id], region, name), []).append(uri)
    days = ledger.days(ledger.t0, ledger.t1)
    for (acct, region, name), uris in sorted(repositories.items()):
        _add_repository(ledger, usage, acct, region, name, {u: refs[u] for u in uris}, days)


def _add_repository(
    ledger: Ledger, usage: Usage, acct: str, region: str, name: str, refs: dict[str, list[str]], days: Millis
) -> None:
    rng = ledger.rng
    kind = next((k for k in IMAGE_GB if name.removesuffix(ledger.suffix).endswith(k)), "serve")
    lo, hi = IMAGE_GB[kind]
    base = name.removesuffix(ledger.suffix)
    repository_arn = ecr_repository_arn(acct, region, name)
    images: list[tuple[str | None, list[str], int, int]] = []  # (uri, tags, bytes, pushed day)
    for uri in refs:
        gb = BIG_IMAGES.get(base, float(rng.uniform(lo, hi)))
        images.append((uri, [uri.rsplit(":", 1)[1]], int(gb * GIB), ledger.t0 - int(rng.integers(20, 90)) * DAY_MS))
    for k in range(int(rng.integers(2, 6))):  # older builds nothing references any more
        gb = BIG_IMAGES.get(base, float(rng.uniform(lo, hi))) * float(rng.uniform(0.8, 1.0))
        images.append((None, [f"0.{k + 1}"] if k % 2 else [], int(gb * GIB), ledger.t0 - (100 + 30 * k) * DAY_MS))
    if kind == "serve" and rng.random() < 0.5:  # a release candidate pushed in the window, not deployed
        day = int(days[int(rng.integers(0, len(days)))])
        images.append((None, ["2-rc1"], int(BIG_IMAGES.get(base, float(rng.uniform(lo, hi))) * GIB), day))
    sizes = np.zeros((len(images), len(days)))
    for i, (image_uri, tags, size, pushed) in enumerate(images):
        # The release pipeline pushes at midnight UTC: an image is stored all of its first day.
        sizes[i, np.searchsorted(days, pushed, side="left") :] = size
        ledger.metadata(
            "ecr_images",
            acct,
            region,
            repository_name=name,
            repository_arn=repository_arn,
            image_digest="sha256:" + hashlib.sha256(f"{name}|{i}|{size}".encode()).hexdigest(),
            image_tags=tags,
            image_uri=image_uri,
            size_bytes=size,
            pushed_at=utc(pushed),
        )
    total = sizes.sum(axis=0)
    keep = total > 0
    month = usage.month_of(days[keep])
    split = Split(int(keep.sum()))
    for i, (referenced, _, _, _) in enumerate(images):
        if referenced is not None:
            split.add_monthly(usage.split(refs[referenced]), month, sizes[i, keep] / total[keep])
    ledger.charge(
        Charge(
            acct=acct,
            region=region,
            resource_id=repository_arn,
            usage="TimedStorage-ByteHrs",
            service="AmazonECR",
            start_ms=days[keep],
            quantity=gb_months(total[keep], np.asarray(ledger.months), month),
            unit="GB-Mo",
            list_rate=RATE,
            owners=split.owners(),
            operation="ECRStorage",
            duration_ms=DAY_MS,
        )
    )
