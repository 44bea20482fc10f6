"""Make moto's server answer the way AWS does where the extractor depends on it (REFERENCE §5).

moto runs in this process (ThreadedMotoServer), so its backends can be adjusted in place:

- ``Search`` ignores MaxResults, NextToken and SortBy, returning every record in one page. AWS
  returns at most MaxResults (100) sorted records and a NextToken. ``install()`` wraps moto's
  Search so paging and incremental stops are exercised, and so the benchmark counts real pages;
  a SearchExpression of plain ``Equals`` filters (``TrainingJobStatus = InProgress``, what
  `smcost audit` sends) is applied before paging, as AWS applies it.
- ECR ``DescribeImages`` over a whole repository (no imageIds) ignores maxResults and nextToken,
  returning every image in one page. AWS returns at most maxResults (100 by default, 1,000 at
  most) and a nextToken; ``install()`` pages moto's answer the same way.
- Fields moto never fills (BillableTimeInSeconds, WarmPoolStatus, ProcessingResources, trial
  component Source/Parents, distinct start/end times, log group bytes) are set on the backend
  objects by the scenario; ``sagemaker()`` and friends hand them out. An S3 object's LastModified
  is always the time of its PutObject: ``s3_object()`` hands out the object to date it earlier.
- moto does fill, and the scenario relies on it: InputDataConfig (S3 and FileSystem channels),
  CheckpointConfig and OutputDataConfig in Search's training jobs; ProcessingInputs and
  ProcessingOutputConfig in DescribeProcessingJob; TransformInput and TransformOutput in
  DescribeTransformJob; HomeEfsFileSystemId in DescribeDomain (``<domain name>-efs-id``; ListDomains
  omits it, as AWS does); StorageClass in ListObjectsV2.

Nothing here touches the extractor: it talks HTTP to the server as it would to AWS.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.ecr.responses import ECRResponse
from moto.logs.models import logs_backends
from moto.s3.models import FakeKey, s3_backends
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

ACCOUNT = "123456789012"

_SEARCHABLE = {  # Search resource -> (backend attribute, result key)
    "TrainingJob": ("training_jobs", "TrainingJob"),
    "Endpoint": ("endpoints", "Endpoint"),
    "Experiment": ("experiments", "Experiment"),
    "ExperimentTrial": ("trials", "Trial"),
    "ExperimentTrialComponent": ("trial_components", "TrialComponent"),
}
_AWS_DEFAULT_SEARCH_PAGE = 10
_original_search = SageMakerResponse.search


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _equals_filters(expression: dict | None) -> list[tuple[str, str]] | None:
    """The (property, value) pairs of a SearchExpression made only of top-level Equals filters on
    plain properties (what `smcost audit` sends); None for any other expression."""
    if expression is None:
        return []
    filters = expression.get("Filters") or []
    if set(expression) != {"Filters"} or any(f.get("Operator") != "Equals" or "." in f["Name"] for f in filters):
        return None
    return [(f["Name"], f["Value"]) for f in filters]


def _search_like_aws(self: SageMakerResponse) -> ActionResult:
    resource = self._get_param("Resource")
    filters = _equals_filters(self._get_param("SearchExpression"))
    if filters is None or resource not in _SEARCHABLE:
        return _original_search(self)
    attribute, result_key = _SEARCHABLE[resource]
    items = [
        item
        for item in getattr(self.sagemaker_backend, attribute).values()
        if all(getattr(item, _snake(name), None) == value for name, value in filters)
    ]
    sort_by = self._get_param("SortBy")
    if sort_by:
        items.sort(
            key=lambda item: getattr(item, _snake(sort_by)),
            reverse=self._get_param("SortOrder", "Descending") == "Descending",
        )
    start = int(self._get_param("NextToken") or 0)
    size = self._get_int_param("MaxResults") or _AWS_DEFAULT_SEARCH_PAGE
    # Records built as moto's own Search builds them, for this page only.
    page = [{result_key: item.gen_response_object()} for item in items[start : start + size]]
    response: dict[str, Any] = {"Results": page}
    if start + size < len(items):
        response["NextToken"] = str(start + size)
    return ActionResult(response)


_AWS_DEFAULT_IMAGE_PAGE = 100
_original_describe_images = ECRResponse.describe_images


def _describe_images_like_aws(self: ECRResponse) -> ActionResult:
    answer = _original_describe_images(self)
    if self._get_param("imageIds"):  # named images: one answer, as AWS gives it
        return answer
    details = answer.result["imageDetails"]  # type: ignore[index]
    start = int(self._get_param("nextToken") or 0)
    size = self._get_int_param("maxResults") or _AWS_DEFAULT_IMAGE_PAGE
    response: dict[str, Any] = {"imageDetails": details[start : start + size]}
    if start + size < len(details):
        response["nextToken"] = str(start + size)
    return ActionResult(response)


def install() -> None:
    SageMakerResponse.search = _search_like_aws
    ECRResponse.describe_images = _describe_images_like_aws


def sagemaker(region: str = "us-east-1", account: str = ACCOUNT):
    return sagemaker_backends[account][region]


def logs(region: str = "us-east-1", account: str = ACCOUNT):
    return logs_backends[account][region]


def s3_object(bucket: str, key: str, account: str = ACCOUNT) -> FakeKey:
    """The stored object, e.g. to set ``last_modified`` (naive UTC), which PutObject always sets to now."""
    stored: FakeKey = s3_backends[account]["aws"].get_bucket(bucket).keys[key]
    return stored
