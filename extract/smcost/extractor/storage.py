"""What SageMaker work leaves behind and pays for by the byte: S3 artifacts, ECR images, log groups.

These kinds read only the references the SageMaker kinds published in this run (a new training
job's artifact, a new model's image), so a nightly run costs calls for what is new, not for
everything that ever ran. Multi-model prefixes are re-listed every run: models are added under
them without any SageMaker API event. ``--full`` re-checks everything.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from botocore.exceptions import ClientError

from smcost.extractor.kinds import Custom, Kind, Record, Row, UnitContext, utc

S3_URI = re.compile(r"^s3://([^/]+)/(.*)$")
ECR_URI = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
S3_DENIED = {"AccessDenied", "AllAccessDisabled", "NoSuchBucket", "PermanentRedirect"}
ECR_BATCH = 100  # DescribeImages imageIds limit
ImageId = tuple[tuple[str, str], ...]  # a DescribeImages imageId ({imageTag} or {imageDigest}), hashable


def _skip_bucket(ctx: UnitContext, bucket: str, exc: ClientError, skipped: set[str]) -> None:
    # Models often point at buckets this account does not own (JumpStart, other teams): their
    # bytes are not on this bill. Recorded in the manifest, not fatal for the other artifacts.
    if bucket not in skipped:
        skipped.add(bucket)
        ctx.warn(f"s3://{bucket}: {exc.response['Error']['Code']}; its artifact sizes were not read")


def s3_artifacts(ctx: UnitContext) -> Iterator[Row]:
    skipped: set[str] = set()
    for uri in sorted(ctx.upstream("artifacts")):
        match = S3_URI.match(uri)
        if not match or match[1] in skipped:
            continue
        bucket, key = match[1], match[2]
        try:
            # ListObjectsV2 needs only s3:ListBucket: the extractor never gets read access to data.
            response = ctx.call("list_objects_v2", service="s3", Bucket=bucket, Prefix=key, MaxKeys=1)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in S3_DENIED:
                raise
            _skip_bucket(ctx, bucket, exc, skipped)
            continue
        found = [o for o in response.get("Contents") or [] if o["Key"] == key]
        if not found:
            ctx.gone((bucket, key))
            continue
        yield {
            "bucket": bucket,
            "key_or_prefix": key,
            "is_prefix_total": False,
            "object_count": 1,
            "size_bytes": found[0]["Size"],
            "last_modified_at": utc(found[0]["LastModified"]),
        }

    for prefix_uri in sorted({url for _, url in ctx.upstream("mme_models")}):
        match = S3_URI.match(prefix_uri)
        if not match or match[1] in skipped:
            continue
        bucket, prefix = match[1], match[2]
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        count = size = 0
        newest: datetime | None = None
        try:
            for page in ctx.pages(
                "list_objects_v2",
                "Contents",
                service="s3",
                token=("ContinuationToken", "NextContinuationToken"),
                Bucket=bucket,
                Prefix=prefix,
            ):
                for obj in page:
                    if obj["Key"].endswith("/"):
                        continue
                    count += 1
                    size += obj["Size"]
                    modified = utc(obj["LastModified"])
                    if modified is not None and (newest is None or modified > newest):
                        newest = modified
                    # The TargetModel a caller sends is the object's path under the prefix.
                    ctx.publish("mme_targets", (prefix_uri, obj["Key"][len(prefix) :]))
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in S3_DENIED:
                raise
            _skip_bucket(ctx, bucket, exc, skipped)
            continue
        yield {
            "bucket": bucket,
            "key_or_prefix": prefix,
            "is_prefix_total": True,
            "object_count": count,
            "size_bytes": size,
            "last_modified_at": newest,
        }


def ecr_images(ctx: UnitContext) -> Iterator[Row]:
    """Images in this account's registry, in this region (others' images are not on this bill)."""
    wanted: dict[str, dict[ImageId, str]] = defaultdict(dict)  # repository -> image id -> URI
    for uri in ctx.upstream("images"):
        match = ECR_URI.match(uri or "")
        if not match or match["registry"] != ctx.account_id or match["region"] != ctx.region:
            continue
        request = {"imageDigest": match["digest"]} if match["digest"] else {"imageTag": match["tag"] or "latest"}
        wanted[match["repository"]][tuple(sorted(request.items()))] = uri

    arn_prefix = f"arn:{ctx.partition}:ecr:{ctx.region}:{ctx.account_id}:repository/"
    for repository, images in sorted(wanted.items()):
        seen_digests: set[str] = set()
        ids = sorted(images)
        for start in range(0, len(ids), ECR_BATCH):
            for detail, image_id in _describe_images(ctx, repository, ids[start : start + ECR_BATCH]):
                digest = detail["imageDigest"]
                if digest in seen_digests:  # one row per digest, whichever URI named it first
                    continue
                seen_digests.add(digest)
                yield {
                    "repository_name": repository,
                    "repository_arn": arn_prefix + repository,
                    "image_digest": digest,
                    "image_tags": detail.get("imageTags") or [],
                    "image_uri": images[image_id],
                    "size_bytes": detail.get("imageSizeInBytes"),
                    "pushed_at": utc(detail.get("imagePushedAt")),
                }


def _describe_images(ctx: UnitContext, repository: str, ids: list[ImageId]) -> Iterator[tuple[Record, ImageId]]:
    """DescribeImages for up to 100 images; one missing image fails a whole batch, so retry singly."""
    by_request = {tuple(sorted(i.items())): i for i in (dict(t) for t in ids)}
    try:
        response = ctx.call(
            "describe_images", service="ecr", repositoryName=repository, imageIds=list(by_request.values())
        )
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "RepositoryNotFoundException":
            ctx.warn(f"ECR repository {repository} no longer exists")
            return
        if code != "ImageNotFoundException":
            raise
        if len(ids) == 1:
            return
        for one in ids:
            yield from _describe_images(ctx, repository, [one])
        return
    for detail in response.get("imageDetails") or []:
        yield detail, _matching_id(detail, ids)


def _matching_id(detail: Record, ids: list[ImageId]) -> ImageId:
    for image_id in ids:
        fields = dict(image_id)
        tags = detail.get("imageTags") or []
        if fields.get("imageDigest") == detail["imageDigest"] or fields.get("imageTag") in tags:
            return image_id
    return ids[0]


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
            "ListObjectsV2: one call per artifact new jobs and models reference; every multi-model prefix in full",
        ),
        needs=("training_jobs", "models"),
        service="s3",
        strict_needs=False,
    ),
    Kind(
        "ecr_images",
        Custom(
            ecr_images,
            ("ecr:describe_images",),
            "DescribeImages, 100 a call: images in this account's registry that new jobs and models use",
        ),
        needs=("training_jobs", "processing_jobs", "models"),
        service="ecr",
        strict_needs=False,
    ),
]
