"""The SageMaker resource kinds (REFERENCE.md §4 for which call returns which field).

Search returns whole records with their tags, 100 a page, so every searchable kind uses it;
the others page a List call and add Describe only where the summary lacks a landed field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from smcost.extractor.kinds import (
    INCREMENTAL,
    Describe,
    Kind,
    Refs,
    Row,
    dig,
    first_container,
    listing,
    search,
    tag_map,
    utc,
    with_item,
)

if TYPE_CHECKING:
    from smcost.extractor.engine import UnitContext


# --------------------------------------------------------------------------------------------
# References handed to the CloudWatch, S3 and ECR kinds
# --------------------------------------------------------------------------------------------

def _publish_columns(**ref_columns: str):
    """A ref hook publishing row[column] under each ref name (``images="training_image"``)."""

    def hook(ctx: UnitContext, row: Row) -> None:
        for name, column in ref_columns.items():
            ctx.publish(name, row.get(column))

    return hook


def _model_fresh_refs(ctx: UnitContext, row: Row) -> None:
    ctx.publish("images", row.get("image_uri"))
    url = row.get("model_data_url")
    if row.get("container_mode") != "MultiModel" and url and not url.endswith("/"):
        ctx.publish("artifacts", url)


def _model_known_refs(ctx: UnitContext, row: Row) -> None:
    # Every multi-model prefix, every run: models are added under a prefix without any API event.
    if row.get("container_mode") == "MultiModel" and row.get("model_data_url"):
        ctx.publish("mme_models", (row["model_name"], row["model_data_url"]))


def _config_refs(ctx: UnitContext, row: Row) -> None:
    ctx.publish("config_variants", (row["endpoint_config_name"], row["variant_name"], row.get("model_name")))


def _inference_component_refs(ctx: UnitContext, row: Row) -> None:
    # Components deleted before the metrics window starts have no hours to read.
    seen_at = row.get("extracted_at")
    if row.get("inference_component_status") != "Deleted" or (seen_at and seen_at >= ctx.window[0]):
        ctx.publish(
            "inference_components",
            (row["inference_component_name"], row.get("endpoint_name"), row.get("variant_name")),
        )


# --------------------------------------------------------------------------------------------
# Column maps
# --------------------------------------------------------------------------------------------

def _instance_count(record: dict) -> int | None:
    groups = dig(record, "ResourceConfig.InstanceGroups")
    if groups:
        return sum(g.get("InstanceCount", 0) for g in groups)
    return dig(record, "ResourceConfig.InstanceCount")


def _instance_groups(record: dict) -> list[dict] | None:
    groups = dig(record, "ResourceConfig.InstanceGroups")
    if not groups:
        return None
    return [
        {
            "instance_group_name": g.get("InstanceGroupName"),
            "instance_type": g.get("InstanceType"),
            "instance_count": g.get("InstanceCount"),
        }
        for g in groups
    ]


TRAINING_JOB = {
    "training_job_arn": "TrainingJobArn",
    "training_job_name": "TrainingJobName",
    "training_job_status": "TrainingJobStatus",
    "created_at": "CreationTime",
    "last_modified_at": "LastModifiedTime",
    "training_start_at": "TrainingStartTime",
    "training_end_at": "TrainingEndTime",
    "role_arn": "RoleArn",
    "instance_type": "ResourceConfig.InstanceType",
    "instance_count": _instance_count,
    "instance_groups": _instance_groups,
    "training_seconds": "TrainingTimeInSeconds",
    "billable_seconds": "BillableTimeInSeconds",
    "is_managed_spot": "EnableManagedSpotTraining",
    "warm_pool_retained_billable_seconds": "WarmPoolStatus.ResourceRetainedBillableTimeInSeconds",
    "tuning_job_arn": "TuningJobArn",
    "experiment_name": "ExperimentConfig.ExperimentName",
    "trial_name": "ExperimentConfig.TrialName",
    "run_name": "ExperimentConfig.RunName",
    "model_artifact_s3_uri": "ModelArtifacts.S3ModelArtifacts",
    "training_image": "AlgorithmSpecification.TrainingImage",
}

TUNING_JOB = {
    "tuning_job_arn": "HyperParameterTuningJobArn",
    "tuning_job_name": "HyperParameterTuningJobName",
    "tuning_job_status": "HyperParameterTuningJobStatus",
    "created_at": "CreationTime",
    "ended_at": "HyperParameterTuningEndTime",
    "strategy": "Strategy",
    "max_training_jobs": "ResourceLimits.MaxNumberOfTrainingJobs",
}

PROCESSING_JOB = {
    "processing_job_arn": "ProcessingJobArn",
    "processing_job_name": "ProcessingJobName",
    "processing_job_status": "ProcessingJobStatus",
    "created_at": "CreationTime",
    "processing_start_at": "ProcessingStartTime",
    "processing_end_at": "ProcessingEndTime",
    "role_arn": "RoleArn",
    "instance_type": "ProcessingResources.ClusterConfig.InstanceType",
    "instance_count": "ProcessingResources.ClusterConfig.InstanceCount",
    "image_uri": "AppSpecification.ImageUri",
    "experiment_name": "ExperimentConfig.ExperimentName",
    "trial_name": "ExperimentConfig.TrialName",
    "training_job_arn": "TrainingJobArn",
    "monitoring_schedule_arn": "MonitoringScheduleArn",
}

TRANSFORM_JOB = {
    "transform_job_arn": "TransformJobArn",
    "transform_job_name": "TransformJobName",
    "transform_job_status": "TransformJobStatus",
    "created_at": "CreationTime",
    "transform_start_at": "TransformStartTime",
    "transform_end_at": "TransformEndTime",
    "model_name": "ModelName",
    "instance_type": "TransformResources.InstanceType",
    "instance_count": "TransformResources.InstanceCount",
    "experiment_name": "ExperimentConfig.ExperimentName",
    "trial_name": "ExperimentConfig.TrialName",
}

ENDPOINT_CONFIG = {
    "endpoint_config_arn": "EndpointConfigArn",
    "endpoint_config_name": "EndpointConfigName",
    "created_at": "CreationTime",
    "variant_name": "_item.VariantName",
    "model_name": "_item.ModelName",
    "instance_type": "_item.InstanceType",
    "initial_instance_count": "_item.InitialInstanceCount",
    "initial_variant_weight": "_item.InitialVariantWeight",
    "serverless_memory_mb": "_item.ServerlessConfig.MemorySizeInMB",
    "serverless_max_concurrency": "_item.ServerlessConfig.MaxConcurrency",
    "is_async": lambda r: bool(r.get("AsyncInferenceConfig")),
}

MODEL = {
    "model_arn": "ModelArn",
    "model_name": "ModelName",
    "created_at": "CreationTime",
    "execution_role_arn": "ExecutionRoleArn",
    "image_uri": lambda r: first_container(r, "Image"),
    "model_data_url": lambda r: first_container(r, "ModelDataUrl")
    or dig(first_container(r, "ModelDataSource"), "S3DataSource.S3Uri"),
    "container_mode": lambda r: first_container(r, "Mode") or "SingleModel",
}

INFERENCE_COMPONENT = {
    "inference_component_arn": "InferenceComponentArn",
    "inference_component_name": "InferenceComponentName",
    "inference_component_status": "InferenceComponentStatus",
    "endpoint_name": "EndpointName",
    "variant_name": "VariantName",
    "model_name": "Specification.ModelName",
    "created_at": "CreationTime",
    "last_modified_at": "LastModifiedTime",
    "current_copy_count": "RuntimeConfig.CurrentCopyCount",
    "cpu_cores_required": "Specification.ComputeResourceRequirements.NumberOfCpuCoresRequired",
    "accelerator_devices_required": "Specification.ComputeResourceRequirements.NumberOfAcceleratorDevicesRequired",
    "memory_required_mb": "Specification.ComputeResourceRequirements.MinMemoryRequiredInMb",
}

NOTEBOOK_INSTANCE = {
    "notebook_instance_arn": "NotebookInstanceArn",
    "notebook_instance_name": "NotebookInstanceName",
    "notebook_instance_status": "NotebookInstanceStatus",
    "instance_type": "InstanceType",
    "created_at": "CreationTime",
    "last_modified_at": "LastModifiedTime",
    "role_arn": "RoleArn",
}

STUDIO_DOMAIN = {
    "domain_id": "DomainId",
    "domain_arn": "DomainArn",
    "domain_name": "DomainName",
    "created_at": "CreationTime",
}

STUDIO_USER_PROFILE = {
    "domain_id": "DomainId",
    "user_profile_name": "UserProfileName",
    "user_profile_arn": "UserProfileArn",
    "execution_role_arn": "UserSettings.ExecutionRole",
    "created_at": "CreationTime",
}

STUDIO_SPACE = {
    "domain_id": "DomainId",
    "space_name": "SpaceName",
    "space_arn": "SpaceArn",
    "owner_user_profile_name": lambda r: dig(r, "OwnershipSettings.OwnerUserProfileName")
    or dig(r, "OwnershipSettingsSummary.OwnerUserProfileName"),
    "created_at": "CreationTime",
}

STUDIO_APP = {
    "app_arn": "AppArn",
    "domain_id": "DomainId",
    "user_profile_name": "UserProfileName",
    "space_name": "SpaceName",
    "app_type": "AppType",
    "app_name": "AppName",
    "app_status": "Status",
    "instance_type": "ResourceSpec.InstanceType",
    "created_at": "CreationTime",
}

EXPERIMENT = {"experiment_arn": "ExperimentArn", "experiment_name": "ExperimentName", "created_at": "CreationTime"}

TRIAL = {
    "trial_arn": "TrialArn",
    "trial_name": "TrialName",
    "experiment_name": "ExperimentName",
    "created_at": "CreationTime",
}

TRIAL_COMPONENT = {
    "trial_component_arn": "TrialComponentArn",
    "trial_component_name": "TrialComponentName",
    "trial_name": "_item.TrialName",
    "experiment_name": "_item.ExperimentName",
    "source_arn": "Source.SourceArn",
    "source_type": "Source.SourceType",
    "created_at": "CreationTime",
}


def _app_describe_params(summary: dict) -> dict:
    keys = ("DomainId", "AppType", "AppName", "UserProfileName", "SpaceName")
    return {k: summary[k] for k in keys if summary.get(k)}


# --------------------------------------------------------------------------------------------
# Endpoint history
# --------------------------------------------------------------------------------------------

def endpoint_history(ctx: UnitContext) -> Iterator[Row]:
    """Endpoints, one row per incarnation x config in force, merged with the previous history.

    The API only knows the present: which config an endpoint uses now. Each run compares that with
    the last landed history of this account and region: same config -> the open row stays open;
    a new config -> the open row closes and a new one opens; an endpoint no longer listed -> its
    open row closes as Deleted at the moment it was last seen.
    """
    now = ctx.until
    incarnations: dict[tuple, list[Row]] = defaultdict(list)
    for row in ctx.previous():
        incarnations[(row["endpoint_arn"], row["endpoint_created_at"])].append(row)

    rows: list[Row] = []
    for page in ctx.pages("search", "Results", Resource="Endpoint", MaxResults=100):
        for result in page:
            record = result.get("Endpoint") or {}
            history = incarnations.pop((record["EndpointArn"], utc(record["CreationTime"])), [])
            rows += _advance(sorted(history, key=lambda r: r["config_active_from"]), record, now)
            for variant in record.get("ProductionVariants") or []:
                ctx.publish("endpoint_variants", (record["EndpointName"], variant["VariantName"]))

    for history in incarnations.values():  # not listed any more: deleted since the last run
        history.sort(key=lambda r: r["config_active_from"])
        tail = history[-1]
        if tail["endpoint_deleted_at"] is None:
            last_seen = tail["config_active_to"] or tail["extracted_at"]
            history[-1] = {
                **tail,
                "endpoint_status": "Deleted",
                "endpoint_deleted_at": last_seen,
                "config_active_to": last_seen,
                "extracted_at": now,
            }
        rows += history

    start, end = ctx.window
    for row in rows:
        if row["config_active_from"] < end and (row["config_active_to"] or now) >= start:
            ctx.publish("endpoint_configs_in_window", (row["endpoint_name"], row["endpoint_config_name"]))
    return iter(rows)


def _advance(history: list[Row], record: dict, now) -> list[Row]:
    created = utc(record["CreationTime"])
    live = {
        "endpoint_arn": record["EndpointArn"],
        "endpoint_name": record["EndpointName"],
        "endpoint_status": record.get("EndpointStatus"),
        "endpoint_created_at": created,
        "endpoint_deleted_at": None,
        "endpoint_config_name": record.get("EndpointConfigName"),
        "config_active_to": None,
        "tags": tag_map(record.get("Tags")),
        "extracted_at": now,
    }
    if not history:
        return [{**live, "config_active_from": created}]
    *earlier, tail = history
    if tail["endpoint_config_name"] == live["endpoint_config_name"]:
        return [*earlier, {**live, "config_active_from": tail["config_active_from"]}]
    # The switch happened after the old config was last seen, and no later than LastModifiedTime.
    last_seen = tail["config_active_to"] or tail["extracted_at"]
    switched_at = min(max(utc(record.get("LastModifiedTime")) or now, last_seen), now)
    status = live["endpoint_status"] if tail["endpoint_status"] == "Deleted" else tail["endpoint_status"]
    closed = {**tail, "config_active_to": switched_at, "endpoint_deleted_at": None, "endpoint_status": status,
              "extracted_at": now}
    return [*earlier, closed, {**live, "config_active_from": switched_at}]


# --------------------------------------------------------------------------------------------
# The declarations
# --------------------------------------------------------------------------------------------

KINDS = [
    Kind(
        "training_jobs",
        search(
            "TrainingJob", "TrainingJob", TRAINING_JOB,
            refs=Refs(fresh=_publish_columns(images="training_image", artifacts="model_artifact_s3_uri")),
        ),
        reads="Search(TrainingJob) 100/page, newest first, down to the watermark",
        history=INCREMENTAL,
    ),
    Kind(
        "tuning_jobs",
        listing(
            "list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries", TUNING_JOB,
            arn="HyperParameterTuningJobArn", incremental=True,
        ),
        reads="ListHyperParameterTuningJobs + ListTags (children: TuningJobArn on training_jobs)",
        history=INCREMENTAL,
    ),
    Kind(
        "processing_jobs",
        listing(
            "list_processing_jobs", "ProcessingJobSummaries", PROCESSING_JOB,
            describe=Describe("describe_processing_job", lambda s: {"ProcessingJobName": s["ProcessingJobName"]}),
            arn="ProcessingJobArn", incremental=True,
            refs=Refs(fresh=_publish_columns(images="image_uri")),
        ),
        reads="ListProcessingJobs + DescribeProcessingJob + ListTags, changed since the watermark",
        history=INCREMENTAL,
    ),
    Kind(
        "transform_jobs",
        listing(
            "list_transform_jobs", "TransformJobSummaries", TRANSFORM_JOB,
            describe=Describe("describe_transform_job", lambda s: {"TransformJobName": s["TransformJobName"]}),
            arn="TransformJobArn", incremental=True,
        ),
        reads="ListTransformJobs + DescribeTransformJob + ListTags, changed since the watermark",
        history=INCREMENTAL,
    ),
    Kind(
        "endpoints",
        endpoint_history,
        reads="Search(Endpoint), merged with the landed history",
    ),
    Kind(
        "endpoint_configs",
        listing(
            "list_endpoint_configs", "EndpointConfigs", ENDPOINT_CONFIG,
            describe=Describe("describe_endpoint_config", lambda s: {"EndpointConfigName": s["EndpointConfigName"]}),
            arn="EndpointConfigArn",
            immutable=(
                lambda s: (s["EndpointConfigName"], utc(s["CreationTime"])), ("endpoint_config_name", "created_at")
            ),
            explode=lambda r: with_item(r, "ProductionVariants"),
            refs=Refs(known=_config_refs, known_columns=("endpoint_config_name", "variant_name", "model_name")),
        ),
        reads="ListEndpointConfigs + DescribeEndpointConfig + ListTags for configs not seen before",
    ),
    Kind(
        "models",
        listing(
            "list_models", "Models", MODEL,
            describe=Describe("describe_model", lambda s: {"ModelName": s["ModelName"]}),
            arn="ModelArn",
            immutable=(lambda s: (s["ModelArn"], utc(s["CreationTime"])), ("model_arn", "created_at")),
            refs=Refs(fresh=_model_fresh_refs, known=_model_known_refs,
                      known_columns=("model_name", "container_mode", "model_data_url")),
        ),
        reads="ListModels + DescribeModel + ListTags for models not seen before",
    ),
    Kind(
        "inference_components",
        listing(
            "list_inference_components", "InferenceComponents", INFERENCE_COMPONENT,
            describe=Describe(
                "describe_inference_component", lambda s: {"InferenceComponentName": s["InferenceComponentName"]}
            ),
            arn="InferenceComponentArn",
            refs=Refs(known=_inference_component_refs, known_columns=(
                "inference_component_name", "endpoint_name", "variant_name", "inference_component_status",
                "extracted_at",
            )),
        ),
        reads="ListInferenceComponents + DescribeInferenceComponent + ListTags",
        status_column="inference_component_status",
    ),
    Kind(
        "notebook_instances",
        listing(
            "list_notebook_instances", "NotebookInstances", NOTEBOOK_INSTANCE,
            describe=Describe(
                "describe_notebook_instance", lambda s: {"NotebookInstanceName": s["NotebookInstanceName"]}
            ),
            arn="NotebookInstanceArn",
        ),
        reads="ListNotebookInstances + DescribeNotebookInstance (RoleArn) + ListTags",
        status_column="notebook_instance_status",
    ),
    Kind(
        "studio_domains",
        listing("list_domains", "Domains", STUDIO_DOMAIN, arn="DomainArn"),
        reads="ListDomains + ListTags",
    ),
    Kind(
        "studio_user_profiles",
        listing(
            "list_user_profiles", "UserProfiles", STUDIO_USER_PROFILE,
            describe=Describe(
                "describe_user_profile",
                lambda s: {"DomainId": s["DomainId"], "UserProfileName": s["UserProfileName"]},
            ),
            arn="UserProfileArn",
        ),
        reads="ListUserProfiles + DescribeUserProfile (ARN, execution role) + ListTags",
    ),
    Kind(
        "studio_spaces",
        listing(
            "list_spaces", "Spaces", STUDIO_SPACE,
            describe=Describe("describe_space", lambda s: {"DomainId": s["DomainId"], "SpaceName": s["SpaceName"]}),
            arn="SpaceArn",
        ),
        reads="ListSpaces + DescribeSpace (ARN) + ListTags",
    ),
    Kind(
        "studio_apps",
        listing(
            "list_apps", "Apps", STUDIO_APP,
            describe=Describe("describe_app", _app_describe_params),
            arn="AppArn",
        ),
        reads="ListApps + DescribeApp (ARN) + ListTags",
        status_column="app_status",
    ),
    Kind(
        "experiments",
        search("Experiment", "Experiment", EXPERIMENT),
        reads="Search(Experiment), newest first, down to the watermark",
        history=INCREMENTAL,
    ),
    Kind(
        "trials",
        search("ExperimentTrial", "Trial", TRIAL),
        reads="Search(ExperimentTrial), newest first, down to the watermark",
        history=INCREMENTAL,
    ),
    Kind(
        "trial_components",
        search(
            "ExperimentTrialComponent", "TrialComponent", TRIAL_COMPONENT,
            explode=lambda r: with_item(r, "Parents"),
        ),
        reads="Search(ExperimentTrialComponent) with Parents and Source, down to the watermark",
        history=INCREMENTAL,
    ),
]
