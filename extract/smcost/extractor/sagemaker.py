"""The SageMaker resource kinds (REFERENCE.md §4 for which call returns which field).

Search returns whole records with their tags, 100 a page, so every searchable kind uses it;
the others page a List call and add Describe only where the summary lacks a landed field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from smcost.extractor.kinds import (
    INCREMENTAL,
    Computed,
    Custom,
    Describe,
    Detail,
    Kind,
    Listing,
    Record,
    RefHook,
    Refs,
    Row,
    Search,
    UnitContext,
    dig,
    first_container,
    tag_map,
    utc,
)

# --------------------------------------------------------------------------------------------
# References handed to the CloudWatch, S3 and ECR kinds
# --------------------------------------------------------------------------------------------


def _publish_columns(**ref_columns: str | tuple[str, ...]) -> RefHook:
    """A ref hook publishing each value of the named columns under each ref name
    (``images="training_image"``, ``artifacts=("output_s3_uri", "input_s3_uris")``); a list
    column publishes each of its elements."""

    def hook(ctx: UnitContext, row: Row) -> None:
        for name, columns in ref_columns.items():
            for column in (columns,) if isinstance(columns, str) else columns:
                value = row.get(column)
                for one in value if isinstance(value, list) else [value]:
                    ctx.publish(name, one)

    return hook


def training_output_prefix(output_s3_uri: str | None, training_job_name: str | None) -> str | None:
    """Where a training job writes: SageMaker puts everything of a job under
    ``<S3OutputPath>/<TrainingJobName>/`` (output/model.tar.gz, debug-output/, profiler-output/), so
    that folder, not the output path many jobs share, is the job's own. dbt's
    int_sagemaker_storage_references derives the same prefix."""
    if not output_s3_uri or not training_job_name:
        return None
    return f"{output_s3_uri.rstrip('/')}/{training_job_name}/"


def _training_job_refs(ctx: UnitContext, row: Row) -> None:
    ctx.publish("images", row.get("training_image"))
    ctx.publish("artifacts", training_output_prefix(row.get("output_s3_uri"), row.get("training_job_name")))
    for column in ("model_artifact_s3_uri", "checkpoint_s3_uri", "input_s3_uris"):
        value = row.get(column)
        for one in value if isinstance(value, list) else [value]:
            ctx.publish("artifacts", one)


def _model_fresh_refs(ctx: UnitContext, row: Row) -> None:
    ctx.publish("images", row.get("image_uri"))
    if row.get("container_mode") != "MultiModel":  # multi-model prefixes: every run (below)
        ctx.publish("artifacts", row.get("model_data_url"))


def _model_known_refs(ctx: UnitContext, row: Row) -> None:
    # Every multi-model prefix, every run: models are added under a prefix without any API event.
    if row.get("container_mode") == "MultiModel" and row.get("model_data_url"):
        ctx.publish("mme_models", (row["model_name"], row["model_data_url"]))


def _config_refs(ctx: UnitContext, row: Row) -> None:
    ctx.publish("config_variants", (row["endpoint_config_name"], row["variant_name"], row.get("model_name")))
    if row.get("serverless_memory_mb") is not None:  # no instances of its own: no instance metrics
        ctx.publish("serverless_variants", (row["endpoint_config_name"], row["variant_name"]))


def _inference_component_refs(ctx: UnitContext, row: Row) -> None:
    # Components deleted before the metrics window starts have no hours to read.
    seen_at = row.get("extracted_at")
    if row.get("inference_component_status") != "Deleted" or (seen_at and seen_at >= ctx.window[0]):
        ctx.publish(
            "inference_components",
            (row["inference_component_name"], row.get("endpoint_name"), row.get("variant_name")),
        )


# --------------------------------------------------------------------------------------------
# Computed columns (every other column is read from its API path in schemas.py)
# --------------------------------------------------------------------------------------------


def _specifications(record: Record) -> list[Record]:
    """A component's specifications: ``Specifications`` (one per instance type, on a heterogeneous
    endpoint) when it was created with several, else its one ``Specification``."""
    return record.get("Specifications") or ([record["Specification"]] if record.get("Specification") else [])


def _by_instance_type(field_path: str) -> Computed:
    """InstanceType -> a field of each of a component's per-instance-type Specifications (None when
    it has one specification for every type: the plain columns hold it)."""

    def computed(record: Record) -> dict[str, Any] | None:
        specs = record.get("Specifications") or []
        values = {s["InstanceType"]: dig(s, field_path) for s in specs if s.get("InstanceType")}
        return {k: v for k, v in values.items() if v is not None} or None

    return computed


def _copies_by_instance_type(record: Record) -> dict[str, int] | None:
    placements = dig(record, "RuntimeConfig.PlacementStatus") or []
    return {p["InstanceType"]: int(p.get("CurrentCopyCount", 0)) for p in placements if p.get("InstanceType")} or None


def _base_component(record: Record) -> str | None:
    return next(
        (s["BaseInferenceComponentName"] for s in _specifications(record) if s.get("BaseInferenceComponentName")), None
    )


def _instance_pools(record: Record) -> dict[str, int] | None:
    pools = dig(record, "_item.InstancePools") or []
    return {p["InstanceType"]: int(p.get("Priority", 1)) for p in pools if p.get("InstanceType")} or None


def _instance_count(record: Record) -> int | None:
    groups = dig(record, "ResourceConfig.InstanceGroups")
    if groups:
        return sum(int(g.get("InstanceCount", 0)) for g in groups)
    # A flexible job (InstancePreferences) has no InstanceCount: it runs, and bills, what was selected.
    count: int | None = dig(record, "ResourceConfig.InstanceCount")
    return count if count is not None else dig(record, "ResourceConfig.SelectedInstanceCount")


# DescribeTrainingJob's MlflowConfig (AIMlflowConfig in some API versions, the same members) and
# MlflowDetails: the exact link to the job's MLflow run (docs/lineage.md). Search's TrainingJob shape
# lacks both, hence the Detail below.
def _mlflow(member: str) -> Computed:
    def read(record: Record) -> Any:
        return dig(record, f"MlflowConfig.{member}") or dig(record, f"AIMlflowConfig.{member}")

    return read


_MLFLOW_COLUMNS = ("mlflow_resource_arn", "mlflow_experiment_name", "mlflow_run_name", "mlflow_run_id")
_TERMINAL = ("Completed", "Failed", "Stopped")


def _mlflow_settled(row: Row) -> bool:
    """A finished job whose MLflow link was landed: describing it again cannot change it. A finished
    job with none is described again only if Search re-reads it (it changed), which is rare."""
    return row.get("training_job_status") in _TERMINAL and any(row.get(c) for c in _MLFLOW_COLUMNS)


# The tag keys (lowercased) that already name a job's owner. A job carrying one is attributed by its
# tags whatever its MLflow run says, so only the others are worth a DescribeTrainingJob call.
_OWNER_TAG_KEYS = frozenset({"ml:team", "team", "ml:model", "model"})


def _lacks_owner_tags(record: Record) -> bool:
    return not any(str(t.get("Key", "")).lower() in _OWNER_TAG_KEYS for t in record.get("Tags") or [])


_TRAINING_JOB_DETAIL = Detail(
    Describe("describe_training_job", ("TrainingJobName",)),
    key=("training_job_arn", "TrainingJobArn"),
    carry=_MLFLOW_COLUMNS,
    settled=_mlflow_settled,
    settled_columns=("training_job_status",),
    wanted=_lacks_owner_tags,
)


def _instance_groups(record: Record) -> list[dict[str, Any]] | None:
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


def _each(items: str, path: str) -> Computed:
    """A list column: ``path`` of every element of the record's ``items`` list that has it."""

    def values(record: Record) -> list[Any]:
        return [value for item in dig(record, items) or [] if (value := dig(item, path)) is not None]

    return values


def _model_data_url(record: Record) -> Any:
    return first_container(record, "ModelDataUrl") or dig(
        first_container(record, "ModelDataSource"), "S3DataSource.S3Uri"
    )


def _space_owner(record: Record) -> Any:
    # DescribeSpace says OwnershipSettings, ListSpaces OwnershipSettingsSummary.
    return dig(record, "OwnershipSettings.OwnerUserProfileName") or dig(
        record, "OwnershipSettingsSummary.OwnerUserProfileName"
    )


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
    incarnations: dict[tuple[str, datetime | None], list[Row]] = defaultdict(list)
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


def _advance(history: list[Row], record: Record, now: datetime) -> list[Row]:
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
    closed = {
        **tail,
        "config_active_to": switched_at,
        "endpoint_deleted_at": None,
        "endpoint_status": status,
        "extracted_at": now,
    }
    return [*earlier, closed, {**live, "config_active_from": switched_at}]


# --------------------------------------------------------------------------------------------
# The declarations
# --------------------------------------------------------------------------------------------

KINDS = [
    Kind(
        "training_jobs",
        Search(
            "TrainingJob",
            "TrainingJob",
            computed={
                "instance_count": _instance_count,
                "instance_groups": _instance_groups,
                "input_s3_uris": _each("InputDataConfig", "DataSource.S3DataSource.S3Uri"),
                "input_file_system_ids": _each("InputDataConfig", "DataSource.FileSystemDataSource.FileSystemId"),
                "instance_preference_types": _each("ResourceConfig.InstancePreferences", "InstanceType"),
                "mlflow_resource_arn": _mlflow("MlflowResourceArn"),
                "mlflow_experiment_name": _mlflow("MlflowExperimentName"),
                "mlflow_run_name": _mlflow("MlflowRunName"),
                "mlflow_run_id": lambda record: dig(record, "MlflowDetails.MlflowRunId"),
            },
            refs=Refs(fresh=_training_job_refs),
            detail=_TRAINING_JOB_DETAIL,
        ),
        history=INCREMENTAL,
    ),
    Kind(
        "tuning_jobs",
        # Its children link up through TuningJobArn on training_jobs.
        Listing(
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            arn="HyperParameterTuningJobArn",
            incremental=True,
        ),
        history=INCREMENTAL,
    ),
    Kind(
        "processing_jobs",
        Listing(
            "list_processing_jobs",
            "ProcessingJobSummaries",
            describe=Describe("describe_processing_job", ("ProcessingJobName",)),
            arn="ProcessingJobArn",
            incremental=True,
            computed={
                "input_s3_uris": _each("ProcessingInputs", "S3Input.S3Uri"),
                "output_s3_uris": _each("ProcessingOutputConfig.Outputs", "S3Output.S3Uri"),
            },
            refs=Refs(fresh=_publish_columns(images="image_uri", artifacts=("input_s3_uris", "output_s3_uris"))),
        ),
        history=INCREMENTAL,
    ),
    Kind(
        "transform_jobs",
        Listing(
            "list_transform_jobs",
            "TransformJobSummaries",
            describe=Describe("describe_transform_job", ("TransformJobName",)),
            arn="TransformJobArn",
            incremental=True,
            refs=Refs(fresh=_publish_columns(artifacts=("input_s3_uri", "output_s3_uri"))),
        ),
        history=INCREMENTAL,
    ),
    Kind(
        "endpoints",
        Custom(
            endpoint_history,
            ("sagemaker:search",),
            "Search(Endpoint), merged with the landed history: one row per config each endpoint used",
        ),
    ),
    Kind(
        "endpoint_configs",
        Listing(
            "list_endpoint_configs",
            "EndpointConfigs",
            describe=Describe("describe_endpoint_config", ("EndpointConfigName",)),
            arn="EndpointConfigArn",
            immutable=("endpoint_config_name", "created_at"),
            explode="ProductionVariants",
            computed={"is_async": lambda r: bool(r.get("AsyncInferenceConfig")), "instance_pools": _instance_pools},
            refs=Refs(
                known=_config_refs,
                known_columns=("endpoint_config_name", "variant_name", "model_name", "serverless_memory_mb"),
            ),
        ),
    ),
    Kind(
        "models",
        Listing(
            "list_models",
            "Models",
            describe=Describe("describe_model", ("ModelName",)),
            arn="ModelArn",
            immutable=("model_arn", "created_at"),
            computed={
                "image_uri": lambda r: first_container(r, "Image"),
                "model_data_url": _model_data_url,
                "container_mode": lambda r: first_container(r, "Mode") or "SingleModel",
            },
            refs=Refs(
                fresh=_model_fresh_refs,
                known=_model_known_refs,
                known_columns=("model_name", "container_mode", "model_data_url"),
            ),
        ),
    ),
    Kind(
        "inference_components",
        Listing(
            "list_inference_components",
            "InferenceComponents",
            describe=Describe("describe_inference_component", ("InferenceComponentName",)),
            arn="InferenceComponentArn",
            computed={
                "base_inference_component_name": _base_component,
                "copies_by_instance_type": _copies_by_instance_type,
                "accelerator_devices_by_instance_type": _by_instance_type(
                    "ComputeResourceRequirements.NumberOfAcceleratorDevicesRequired"
                ),
                "cpu_cores_by_instance_type": _by_instance_type("ComputeResourceRequirements.NumberOfCpuCoresRequired"),
                "accelerator_partition_by_instance_type": _by_instance_type(
                    "ComputeResourceRequirements.AcceleratorPartitionType"
                ),
            },
            refs=Refs(
                known=_inference_component_refs,
                known_columns=(
                    "inference_component_name",
                    "endpoint_name",
                    "variant_name",
                    "inference_component_status",
                    "extracted_at",
                ),
            ),
        ),
        status_column="inference_component_status",
    ),
    Kind(
        "notebook_instances",
        Listing(  # the summary lacks RoleArn
            "list_notebook_instances",
            "NotebookInstances",
            describe=Describe("describe_notebook_instance", ("NotebookInstanceName",)),
            arn="NotebookInstanceArn",
        ),
        status_column="notebook_instance_status",
    ),
    Kind(
        "studio_domains",
        Listing(  # the summary lacks HomeEfsFileSystemId
            "list_domains",
            "Domains",
            describe=Describe("describe_domain", ("DomainId",)),
            arn="DomainArn",
        ),
    ),
    Kind(
        "studio_user_profiles",
        Listing(  # the summary lacks the ARN and the execution role
            "list_user_profiles",
            "UserProfiles",
            describe=Describe("describe_user_profile", ("DomainId", "UserProfileName")),
            arn="UserProfileArn",
        ),
    ),
    Kind(
        "studio_spaces",
        Listing(  # the summary lacks the ARN
            "list_spaces",
            "Spaces",
            describe=Describe("describe_space", ("DomainId", "SpaceName")),
            arn="SpaceArn",
            computed={"owner_user_profile_name": _space_owner},
        ),
    ),
    Kind(
        "studio_apps",
        Listing(  # the summary lacks the ARN; an app belongs to a user profile or to a space
            "list_apps",
            "Apps",
            describe=Describe("describe_app", ("DomainId", "AppType", "AppName", "UserProfileName", "SpaceName")),
            arn="AppArn",
        ),
        status_column="app_status",
    ),
    Kind("experiments", Search("Experiment", "Experiment"), history=INCREMENTAL),
    Kind("trials", Search("ExperimentTrial", "Trial"), history=INCREMENTAL),
    Kind(
        "trial_components",
        Search("ExperimentTrialComponent", "TrialComponent", explode="Parents"),
        history=INCREMENTAL,
    ),
]
