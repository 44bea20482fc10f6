"""S3 usage and ECR images across runs: what a re-read replaces, what nested prefixes share, paging.

The aggregation itself (which prefix an object belongs to, its UTC day) is also checked as a
function, without AWS: moto dates every object at its PutObject, so only days set on its backend
objects (moto_gaps.s3_object) reach it over HTTP.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from moto.ecr.models import ecr_backends

from extractor import moto_gaps
from extractor.extract_scenario import ACCOUNT, BUCKET, ECR, REGION, hour, s3_channel, set_job_times, training_job
from extractor.harness import landed
from smcost.extractor.storage import listing_plan, outermost, tally

TODAY = datetime.now(timezone.utc).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)


def _usage(out) -> dict[tuple[str, str, datetime], tuple[int, int]]:
    return {
        (r["key_or_prefix"], r["storage_class"], r["last_modified_day"]): (r["object_count"], r["size_bytes"])
        for r in landed(out, "s3_artifacts")
    }


def _job(aws, name: str, *channels: str, hours_ago: int = 48) -> None:
    training_job(
        aws.client("sagemaker"),
        name,
        inputs=[s3_channel(f"c{i}", f"s3://{BUCKET}/{c}") for i, c in enumerate(channels)],
    )
    set_job_times(moto_gaps.sagemaker().training_jobs[name], hour(hours_ago), 10)


def _put(aws, objects: dict[str, tuple[int, str]]) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key, (size, storage_class) in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * size, StorageClass=storage_class)


# --------------------------------------------------------------------------------------------
# The aggregation, as functions
# --------------------------------------------------------------------------------------------


def test_objects_are_totalled_under_the_longest_referenced_prefix_per_storage_class_and_utc_day():
    paris = timezone(timedelta(hours=2))
    objects = [
        {"Key": "data/a.csv", "Size": 1, "StorageClass": "STANDARD", "LastModified": datetime(2024, 6, 2, 1, 0, tzinfo=paris)},
        {"Key": "data/b.csv", "Size": 2, "StorageClass": "STANDARD", "LastModified": datetime(2024, 6, 1, 23, 0, tzinfo=timezone.utc)},
        {"Key": "data/c.csv", "Size": 4, "StorageClass": "STANDARD", "LastModified": datetime(2024, 6, 2, 0, 0, tzinfo=timezone.utc)},
        {"Key": "data/fraud/d.csv", "Size": 8, "StorageClass": "GLACIER", "LastModified": datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)},
        {"Key": "data/fraud/e.csv", "Size": 16, "LastModified": datetime(2024, 6, 2, 13, 0, tzinfo=timezone.utc)},
    ]  # fmt: skip
    june = lambda day: datetime(2024, 6, day)  # noqa: E731
    assert tally(objects, {"data/", "data/fraud/", "data/fraud/e"}) == {
        ("data/", "STANDARD", june(1)): [2, 3],  # 01:00 in Paris is 23:00 UTC the day before
        ("data/", "STANDARD", june(2)): [1, 4],
        ("data/fraud/", "GLACIER", june(2)): [1, 8],
        ("data/fraud/e", "STANDARD", june(2)): [1, 16],  # no StorageClass in the listing: STANDARD
    }


def test_a_bucket_is_listed_by_its_outermost_prefixes_and_landed_prefixes_nested_around_new_ones():
    assert outermost(["data/fraud/", "data/", "data-2/", "mme/", "data/fraud/x"]) == ["data-2/", "data/", "mme/"]
    # A new prefix inside a landed one: the landed one is listed again, its nested ones re-totalled.
    listed, totalled = listing_plan({"data/fraud/"}, {"data/", "data/old/", "models/"})
    assert (listed, totalled) == (["data/"], {"data/", "data/fraud/", "data/old/"})
    # A new prefix around landed ones: listed once, the landed ones inside it re-totalled too.
    listed, totalled = listing_plan({"a/", "b"}, {"a/x/", "b/y", "c/"})
    assert (listed, totalled) == (["a/", "b"], {"a/", "a/x/", "b", "b/y"})


# --------------------------------------------------------------------------------------------
# Across runs, over HTTP
# --------------------------------------------------------------------------------------------


def test_a_prefix_listed_again_replaces_all_its_rows_so_storage_classes_and_days_gone_disappear(aws, extract):
    _job(aws, "train", "data/", "empty-later/")
    _put(
        aws,
        {
            "data/a.csv": (10, "STANDARD"),
            "data/b.csv": (20, "STANDARD_IA"),
            "data/c.csv": (40, "STANDARD"),
            "empty-later/x.csv": (80, "STANDARD"),
        },
    )
    moto_gaps.s3_object(BUCKET, "data/c.csv").last_modified = TODAY - timedelta(days=3)
    extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-01")
    assert _usage(extract.out) == {
        ("data/", "STANDARD", TODAY): (1, 10),
        ("data/", "STANDARD_IA", TODAY): (1, 20),
        ("data/", "STANDARD", TODAY - timedelta(days=3)): (1, 40),
        ("empty-later/", "STANDARD", TODAY): (1, 80),
    }

    s3 = aws.client("s3")
    for key in ("data/b.csv", "data/c.csv", "empty-later/x.csv"):
        s3.delete_object(Bucket=BUCKET, Key=key)
    extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-02", "--full")
    assert _usage(extract.out) == {("data/", "STANDARD", TODAY): (1, 10)}


def test_a_prefix_not_referenced_again_keeps_its_rows(aws, extract):
    _job(aws, "old", "data/")
    _put(aws, {"data/a.csv": (10, "STANDARD")})
    extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-01")
    second = extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-02")  # the job did not change
    assert "s3:ListObjectsV2" not in second.manifest["api_calls"]
    assert _usage(extract.out) == {("data/", "STANDARD", TODAY): (1, 10)}


def test_a_new_prefix_nested_in_a_landed_one_takes_its_objects_from_it_so_rows_never_overlap(aws, extract):
    _job(aws, "old", "data/")
    _put(aws, {"data/shared.csv": (10, "STANDARD"), "data/fraud/part-0.csv": (20, "STANDARD")})
    extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-01")
    assert _usage(extract.out) == {("data/", "STANDARD", TODAY): (2, 30)}

    _job(aws, "new", "data/fraud/", hours_ago=0)  # only this job is read again
    second = extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-02")
    # data/ once for both (and the new job's output path, training)
    assert second.manifest["api_calls"]["s3:ListObjectsV2"] == 2
    assert _usage(extract.out) == {
        ("data/", "STANDARD", TODAY): (1, 10),
        ("data/fraud/", "STANDARD", TODAY): (1, 20),
    }


def test_a_denied_bucket_is_warned_once_and_its_landed_rows_are_kept(aws, extract):
    _job(aws, "train", "data/", "more/")
    _put(aws, {"data/a.csv": (10, "STANDARD"), "more/b.csv": (20, "STANDARD")})
    extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-01", "--full")
    aws.faults.add("AccessDenied", service="s3", status=403)
    second = extract("--datasets", "s3_artifacts", "--extract-date", "2024-06-02", "--full")
    warnings = [w for u in second.manifest["units"] for w in u.get("warnings", [])]
    assert warnings == [f"s3://{BUCKET}: AccessDenied; its sizes were not read"]
    assert second.manifest["api_calls"]["s3:ListObjectsV2"] == 1
    assert _usage(extract.out) == {("data/", "STANDARD", TODAY): (1, 10), ("more/", "STANDARD", TODAY): (1, 20)}


# --------------------------------------------------------------------------------------------
# ECR
# --------------------------------------------------------------------------------------------


def _push(repository: str, count: int, tag: str = "build") -> list[str]:
    """``count`` images pushed on moto's backend (in process: thousands in a second); their digests."""
    backend = ecr_backends[ACCOUNT][REGION]
    digests = []
    for i in range(count):
        layer = {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 1,
            "digest": f"sha256:{i:064x}",
        }
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": layer["digest"]},
            "layers": [layer],  # moto's digest is the layers'
        }  # fmt: skip
        digests.append(backend.put_image(repository, json.dumps(manifest), f"{tag}-{i}").image_digest)
    return digests


def test_every_image_of_a_used_repository_lands_once_over_pages_and_only_referenced_ones_carry_a_uri(aws, extract):
    aws.client("ecr").create_repository(repositoryName="train")
    digests = _push("train", 1001)
    by_digest = f"{ECR}/train@{digests[5]}"
    _job(aws, "by-tag")
    backend = moto_gaps.sagemaker()
    backend.training_jobs["by-tag"].algorithm_specification["TrainingImage"] = f"{ECR}/train:build-1000"
    _job(aws, "by-digest")
    backend.training_jobs["by-digest"].algorithm_specification["TrainingImage"] = by_digest

    run = extract("--datasets", "ecr_images")
    (unit,) = [u for u in run.manifest["units"] if u["dataset"] == "ecr_images"]
    assert unit["api_calls"] == {"ecr:DescribeImages": 2}  # 1,000 a page
    rows = landed(extract.out, "ecr_images")
    images = {r["image_digest"]: r for r in rows}
    assert len(rows) == len(images) == len(set(digests)) == 1001 and set(images) == set(digests)
    assert {d: r["image_uri"] for d, r in images.items() if r["image_uri"]} == {
        digests[1000]: f"{ECR}/train:build-1000",
        digests[5]: by_digest,
    }


def test_images_deleted_since_and_repositories_gone_are_not_kept(aws, extract):
    ecr = aws.client("ecr")
    for repository in ("train", "gone"):
        ecr.create_repository(repositoryName=repository)
        _push(repository, 2)
    _job(aws, "a")
    _job(aws, "b")
    backend = moto_gaps.sagemaker()
    backend.training_jobs["a"].algorithm_specification["TrainingImage"] = f"{ECR}/train:build-0"
    backend.training_jobs["b"].algorithm_specification["TrainingImage"] = f"{ECR}/gone:build-0"
    extract("--datasets", "ecr_images", "--extract-date", "2024-06-01")
    assert sorted((r["repository_name"], r["image_tags"]) for r in landed(extract.out, "ecr_images")) == [
        ("gone", ["build-0"]),
        ("gone", ["build-1"]),
        ("train", ["build-0"]),
        ("train", ["build-1"]),
    ]

    ecr.batch_delete_image(repositoryName="train", imageIds=[{"imageTag": "build-1"}])
    ecr.delete_repository(repositoryName="gone", force=True)
    second = extract("--datasets", "ecr_images", "--extract-date", "2024-06-02", "--full")
    warnings = [w for u in second.manifest["units"] for w in u.get("warnings", [])]
    assert warnings == ["ECR repository gone no longer exists"]
    assert [(r["repository_name"], r["image_tags"]) for r in landed(extract.out, "ecr_images")] == [
        ("train", ["build-0"])
    ]
