"""What runs now, for ``smcost audit``: in-progress jobs and in-service resources, with their tags.

These kinds are read with ``Extraction.collect`` and never landed, so each declares its columns'
API paths itself (``Kind.api_columns``). Every row has the same columns: ``resource_type``,
``name``, ``arn``, ``status``, ``created_at``, ``instances`` (``[(instance_type, count)]``, what bills
by the hour), ``note`` and ``tags``. Their IAM actions join the extractor's in extract/iam-policy.json.

Where a call returns whole records with their tags (``Search``: training jobs, endpoints), a page
of 100 costs one call; the other kinds page a ``List*`` call filtered by status and read each
resource's tags with ``ListTags`` (plus a ``Describe*`` where the summary lacks the instances).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from smcost.extractor.aws import is_not_found
from smcost.extractor.kinds import (
    BUILT_ARN,
    Custom,
    Describe,
    Kind,
    Listing,
    Record,
    Row,
    Search,
    UnitContext,
    dig,
    utc,
)

Instances = list[tuple[str, int]]


def _columns(name: str, arn: str, status: str) -> dict[str, str]:
    return {"name": name, "arn": arn, "status": status, "created_at": "CreationTime"}


def _constant(value: Any) -> Any:
    return lambda record: value


def _one(path: str) -> Any:
    def instances(record: Record) -> Instances:
        instance_type = dig(record, path)
        return [(instance_type, 1)] if instance_type else []

    return instances


def _training_instances(record: Record) -> Instances:
    groups = dig(record, "ResourceConfig.InstanceGroups")
    if groups:
        return [(g["InstanceType"], int(g.get("InstanceCount", 0))) for g in groups if g.get("InstanceType")]
    instance_type = dig(record, "ResourceConfig.InstanceType")
    return [(instance_type, int(dig(record, "ResourceConfig.InstanceCount") or 1))] if instance_type else []


def _sized(type_path: str, count_path: str) -> Any:
    def instances(record: Record) -> Instances:
        instance_type = dig(record, type_path)
        return [(instance_type, int(dig(record, count_path) or 1))] if instance_type else []

    return instances


def _cluster_instances(record: Record) -> Instances:
    return [
        (g["InstanceType"], int(g.get("CurrentCount", g.get("TargetCount", 0)) or 0))
        for g in record.get("InstanceGroups") or []
        if g.get("InstanceType")
    ]


def _app_owner(record: Record) -> str:
    return str(record.get("UserProfileName") or record.get("SpaceName") or "")


def _app_name(record: Record) -> str:
    return f"{record['DomainId']}/{_app_owner(record)}/{record['AppType']}/{record['AppName']}"


def _app_arn(ctx: UnitContext, record: Record) -> str:
    """ListApps returns no ARN: it is built (as DescribeApp would return it) instead of a call per app."""
    return (
        f"arn:{ctx.partition}:sagemaker:{ctx.region}:{ctx.account_id}:app/"
        f"{record['DomainId']}/{_app_owner(record)}/{str(record['AppType']).lower()}/{record['AppName']}"
    )


def in_service_endpoints(ctx: UnitContext) -> Iterator[Row]:
    """Search(Endpoint, EndpointStatus = InService): the endpoints with their tags and each variant's
    current instance count, 100 a page; DescribeEndpointConfig once per config for the instance types."""
    configs: dict[str, dict[str, Record]] = {}
    expression = {"Filters": [{"Name": "EndpointStatus", "Operator": "Equals", "Value": "InService"}]}
    for page in ctx.pages("search", "Results", Resource="Endpoint", SearchExpression=expression, MaxResults=100):
        for result in page:
            record = result.get("Endpoint") or {}
            if record.get("EndpointStatus") != "InService":
                continue
            config_name = record.get("EndpointConfigName") or ""
            if config_name not in configs:
                configs[config_name] = _config_variants(ctx, config_name)
            variants = configs[config_name]
            instances: Instances = []
            serverless = []
            current = {v.get("VariantName"): v for v in record.get("ProductionVariants") or []}
            for name, variant in variants.items():
                if variant.get("ServerlessConfig"):
                    serverless.append(name)
                    continue
                live = current.get(name, {})
                count = live.get("CurrentInstanceCount", variant.get("InitialInstanceCount", 0))
                instances.append((variant["InstanceType"], int(count or 0)))
            note = f"serverless variant(s) {', '.join(serverless)} bill per request" if serverless else ""
            if not variants:
                note = f"endpoint config {config_name} could not be read: instances unknown"
            yield {
                "resource_type": "endpoint",
                "name": record.get("EndpointName"),
                "arn": record.get("EndpointArn"),
                "status": record.get("EndpointStatus"),
                "created_at": utc(record.get("CreationTime")),
                "instances": instances,
                "note": note,
                "tags": {t["Key"]: t.get("Value", "") for t in record.get("Tags") or []},
            }


def _config_variants(ctx: UnitContext, config_name: str) -> dict[str, Record]:
    try:
        config = ctx.call("describe_endpoint_config", EndpointConfigName=config_name)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        ctx.warn(f"endpoint config {config_name} no longer exists: its endpoints' instances are unknown")
        return {}
    return {
        v["VariantName"]: v
        for v in config.get("ProductionVariants") or []
        if v.get("InstanceType") or v.get("ServerlessConfig")
    }


def _kind(dataset: str, reader: Any, columns: dict[str, str]) -> Kind:
    return Kind(dataset, reader, api_columns=columns)


def _in_service(summary: Record, field: str) -> bool:
    return summary.get(field) == "InService"


KINDS = [
    _kind(
        "live_training_jobs",
        Search(
            "TrainingJob",
            "TrainingJob",
            where={"TrainingJobStatus": "InProgress"},
            computed={
                "resource_type": _constant("training-job"),
                "instances": _training_instances,
                "note": lambda r: (
                    "managed spot: billed below the on-demand price" if r.get("EnableManagedSpotTraining") else ""
                ),
            },
        ),
        _columns("TrainingJobName", "TrainingJobArn", "TrainingJobStatus"),
    ),
    _kind(
        "live_tuning_jobs",
        Listing(
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            arn="HyperParameterTuningJobArn",
            params={"StatusEquals": "InProgress"},
            computed={
                "resource_type": _constant("hyper-parameter-tuning-job"),
                "instances": _constant([]),
                "note": _constant("its training jobs bill, and are listed themselves"),
            },
        ),
        _columns("HyperParameterTuningJobName", "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus"),
    ),
    _kind(
        "live_processing_jobs",
        Listing(  # the summary lacks the instances
            "list_processing_jobs",
            "ProcessingJobSummaries",
            describe=Describe("describe_processing_job", ("ProcessingJobName",)),
            arn="ProcessingJobArn",
            params={"StatusEquals": "InProgress"},
            computed={
                "resource_type": _constant("processing-job"),
                "instances": _sized(
                    "ProcessingResources.ClusterConfig.InstanceType", "ProcessingResources.ClusterConfig.InstanceCount"
                ),
                "note": _constant(""),
            },
        ),
        _columns("ProcessingJobName", "ProcessingJobArn", "ProcessingJobStatus"),
    ),
    _kind(
        "live_transform_jobs",
        Listing(  # the summary lacks the instances
            "list_transform_jobs",
            "TransformJobSummaries",
            describe=Describe("describe_transform_job", ("TransformJobName",)),
            arn="TransformJobArn",
            params={"StatusEquals": "InProgress"},
            computed={
                "resource_type": _constant("transform-job"),
                "instances": _sized("TransformResources.InstanceType", "TransformResources.InstanceCount"),
                "note": _constant(""),
            },
        ),
        _columns("TransformJobName", "TransformJobArn", "TransformJobStatus"),
    ),
    _kind(
        "live_endpoints",
        Custom(
            in_service_endpoints,
            ("sagemaker:search", "sagemaker:describe_endpoint_config"),
            "Search(Endpoint, EndpointStatus = InService), 100 with their tags a page; "
            "DescribeEndpointConfig once per config",
        ),
        {},
    ),
    _kind(
        "live_notebook_instances",
        Listing(  # the summary has the instance type
            "list_notebook_instances",
            "NotebookInstances",
            arn="NotebookInstanceArn",
            params={"StatusEquals": "InService"},
            computed={
                "resource_type": _constant("notebook-instance"),
                "instances": _one("InstanceType"),
                "note": _constant(""),
            },
        ),
        _columns("NotebookInstanceName", "NotebookInstanceArn", "NotebookInstanceStatus"),
    ),
    _kind(
        "live_studio_apps",
        Listing(  # ListApps takes no status filter, and returns no ARN
            "list_apps",
            "Apps",
            arn=_app_arn,
            keep=lambda s: _in_service(s, "Status"),
            computed={
                "resource_type": _constant("app"),
                "name": _app_name,
                "instances": _one("ResourceSpec.InstanceType"),
                "note": _constant(""),
            },
        ),
        {"arn": BUILT_ARN, "status": "Status", "created_at": "CreationTime"},
    ),
    _kind(
        "live_clusters",
        Listing(  # HyperPod; ListClusters takes no status filter, its summary lacks the instance groups
            "list_clusters",
            "ClusterSummaries",
            describe=Describe("describe_cluster", ("ClusterName",)),
            arn="ClusterArn",
            keep=lambda s: _in_service(s, "ClusterStatus"),
            computed={
                "resource_type": _constant("cluster"),
                "instances": _cluster_instances,
                "note": _constant(""),
            },
        ),
        _columns("ClusterName", "ClusterArn", "ClusterStatus"),
    ),
]
