"""What SageMaker work leaves behind and pays for by the byte: S3 artifacts, ECR images, log groups.

These kinds read only the references the SageMaker kinds published in this run (a new training
job's artifact, output, checkpoint and input channels, a new model's image), so a nightly run
costs calls for what is new, not for everything that ever ran. Multi-model prefixes are re-listed
every run: models are added under them without any SageMaker API event. ``--full`` re-checks
everything. What one read covers (an S3 prefix, an ECR repository) it reads whole, and its rows
replace all the ones landed for it before (``Kind.replaces``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from smcost.extractor.kinds import Custom, Kind, Record, Row, UnitContext, utc

S3_URI = re.compile(r"^s3://([^/]+)/?(.*)$")
ECR_URI = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
S3_DENIED = {"AccessDenied", "AllAccessDisabled", "NoSuchBucket", "PermanentRedirect"}
ECR_PAGE = 1000  # DescribeImages maxResults limit
Totals = dict[tuple[str, str, datetime], list[int]]  # (prefix, storage class, day) -> [objects, bytes]


# --------------------------------------------------------------------------------------------
# S3: every referenced prefix, per storage class and day, each object counted once
# --------------------------------------------------------------------------------------------


def outermost(prefixes: Iterable[str]) -> list[str]:
    """The prefixes no other one contains, sorted (listing them lists every object under any)."""
    kept: list[str] = []
    # Sorted, a prefix comes right before the ones it contains (everything between starts with it).
    for prefix in sorted(set(prefixes)):
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return kept


def listing_plan(new: set[str], known: set[str]) -> tuple[list[str], set[str]]:
    """(the prefixes of one bucket to list, the referenced prefixes their objects are totalled under).

    ``new`` are the prefixes referenced in this run, ``known`` the ones already landed. A new
    prefix nested in (or around) a known one changes which prefix its objects belong to, so every
    landed prefix under an outermost prefix that is listed is totalled again: rows never overlap.
    """
    every = new | known
    tops = outermost(every)

    def top(prefix: str) -> str:  # the outermost prefix containing this one
        return tops[bisect_right(tops, prefix) - 1]

    listed = sorted({top(p) for p in new})
    return listed, {p for p in every if top(p) in listed}


def utc_day(moment: datetime) -> datetime:
    """UTC midnight of the day of ``moment`` (naive, as the schemas store timestamps)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return datetime(moment.year, moment.month, moment.day)


def tally(objects: Iterable[Record], prefixes: set[str]) -> Totals:
    """Objects totalled per (longest referenced prefix containing the key, StorageClass, UTC day).

    Every object must be under one of ``prefixes`` (the listing of an outermost one).
    """
    lengths = sorted({len(p) for p in prefixes}, reverse=True)
    totals: Totals = {}
    for obj in objects:
        key = obj["Key"]
        prefix = next(key[:n] for n in lengths if key[:n] in prefixes)
        total = totals.setdefault((prefix, obj.get("StorageClass") or "STANDARD", utc_day(obj["LastModified"])), [0, 0])
        total[0] += 1
        total[1] += obj["Size"]
    return totals


def _objects(
    ctx: UnitContext, bucket: str, listed: list[str], multi_model: dict[str, set[str]], targets: set[tuple[str, str]]
) -> Iterator[Record]:
    """The objects under each listed prefix, folder markers left out; the multi-model targets noted."""
    for listed_prefix in listed:
        # ListObjectsV2 needs only s3:ListBucket: the extractor never gets read access to data.
        for page in ctx.pages(
            "list_objects_v2",
            "Contents",
            service="s3",
            token=("ContinuationToken", "NextContinuationToken"),
            Bucket=bucket,
            Prefix=listed_prefix,
        ):
            for obj in page:
                key = obj["Key"]
                if key.endswith("/"):
                    continue
                for prefix, uris in multi_model.items():
                    if key.startswith(prefix):  # the TargetModel a caller sends: the path under the prefix
                        targets.update((uri, key[len(prefix) :]) for uri in uris)
                yield obj


def s3_artifacts(ctx: UnitContext) -> Iterator[Row]:
    new: dict[str, set[str]] = defaultdict(set)  # bucket -> prefixes referenced in this run
    multi_model: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # -> prefix -> URIs
    for uri in ctx.upstream("artifacts"):
        if match := S3_URI.match(uri):
            new[match[1]].add(match[2])
    for _, uri in ctx.upstream("mme_models"):
        if match := S3_URI.match(uri):
            prefix = match[2] if not match[2] or match[2].endswith("/") else match[2] + "/"
            new[match[1]].add(prefix)
            multi_model[match[1]][prefix].add(uri)
    known: dict[str, set[str]] = defaultdict(set)
    if new:
        for row in ctx.previous(("bucket", "key_or_prefix")):
            if row["bucket"] in new:
                known[row["bucket"]].add(row["key_or_prefix"])

    for bucket in sorted(new):
        listed, prefixes = listing_plan(new[bucket], known[bucket])
        targets: set[tuple[str, str]] = set()
        try:
            totals = tally(_objects(ctx, bucket, listed, multi_model[bucket], targets), prefixes)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in S3_DENIED:
                raise
            # Models often point at buckets this account does not own (JumpStart, other teams): their
            # bytes are not on this bill. Recorded in the manifest; the bucket's landed rows are kept.
            ctx.warn(f"s3://{bucket}: {exc.response['Error']['Code']}; its sizes were not read")
            continue
        for prefix in prefixes:  # listed in full: its previous rows are replaced by these
            ctx.gone((bucket, prefix))
        for target in targets:
            ctx.publish("mme_targets", target)
        for (prefix, storage_class, day), (count, size) in sorted(totals.items()):
            yield {
                "bucket": bucket,
                "key_or_prefix": prefix,
                "storage_class": storage_class,
                "last_modified_day": day,
                "object_count": count,
                "size_bytes": size,
            }


# --------------------------------------------------------------------------------------------
# ECR: every image of each repository SageMaker work uses
# --------------------------------------------------------------------------------------------


def ecr_images(ctx: UnitContext) -> Iterator[Row]:
    """Every image of the repositories in this account's registry, in this region, that jobs and
    models use (others' images are not on this bill); ``image_uri`` says which URI referenced it."""
    by_digest: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # repository -> -> URIs
    by_tag: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for uri in ctx.upstream("images"):
        match = ECR_URI.match(uri or "")
        if not match or match["registry"] != ctx.account_id or match["region"] != ctx.region:
            continue
        if match["digest"]:  # repository:tag@digest pulls the digest
            by_digest[match["repository"]][match["digest"]].add(uri)
        else:
            by_tag[match["repository"]][match["tag"] or "latest"].add(uri)

    arn_prefix = f"arn:{ctx.partition}:ecr:{ctx.region}:{ctx.account_id}:repository/"
    for repository in sorted({*by_digest, *by_tag}):
        digests, tags = by_digest[repository], by_tag[repository]
        try:
            for page in ctx.pages(
                "describe_images",
                "imageDetails",
                service="ecr",
                token=("nextToken", "nextToken"),
                repositoryName=repository,
                maxResults=ECR_PAGE,
            ):
                for detail in page:
                    image_tags = detail.get("imageTags") or []
                    uris = digests.get(detail["imageDigest"], set()).union(*(tags.get(t, ()) for t in image_tags))
                    yield {
                        "repository_name": repository,
                        "repository_arn": arn_prefix + repository,
                        "image_digest": detail["imageDigest"],
                        "image_tags": image_tags,
                        "image_uri": min(uris, default=None),
                        "size_bytes": detail.get("imageSizeInBytes"),
                        "pushed_at": utc(detail.get("imagePushedAt")),
                    }
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryNotFoundException":
                raise
            ctx.warn(f"ECR repository {repository} no longer exists")
        ctx.gone((repository,))  # listed in full (or gone): images deleted since are not kept


def log_groups(ctx: UnitContext) -> Iterator[Row]:
    for page in ctx.pages(
        "describe_log_groups",
        "logGroups",
        service="logs",
        token=("nextToken", "nextToken"),
        logGroupNamePrefix="/aws/sagemaker/",
        limit=50,
    ):
        for group in page:
            yield {
                "log_group_name": group["logGroupName"],
                "log_group_arn": group.get("logGroupArn") or group.get("arn", "").removesuffix(":*"),
                "stored_bytes": group.get("storedBytes"),
                "retention_days": group.get("retentionInDays"),
                "created_at": utc(group.get("creationTime")),
            }


KINDS = [
    Kind(
        "log_groups",
        Custom(log_groups, ("logs:describe_log_groups",), "DescribeLogGroups(/aws/sagemaker/), 50 a page"),
        service="logs",
        drop_vanished=True,
    ),
    Kind(
        "s3_artifacts",
        Custom(
            s3_artifacts,
            ("s3:list_objects_v2",),
            "ListObjectsV2, 1,000 objects a page, once per bucket and outermost S3 prefix that new jobs and "
            "models reference (or a landed prefix nested in or around one); every multi-model prefix",
        ),
        needs=("training_jobs", "processing_jobs", "transform_jobs", "models"),
        service="s3",
        strict_needs=False,
        replaces=("bucket", "key_or_prefix"),
    ),
    Kind(
        "ecr_images",
        Custom(
            ecr_images,
            ("ecr:describe_images",),
            "DescribeImages, 1,000 a page: every image of the repositories in this account's registry that "
            "new jobs and models use",
        ),
        needs=("training_jobs", "processing_jobs", "models"),
        service="ecr",
        strict_needs=False,
        replaces=("repository_name",),
    ),
]
