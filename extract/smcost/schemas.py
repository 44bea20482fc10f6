"""The one definition of every dataset this project reads or writes.

Everything that touches a landed file goes through this module: the demo generator, the
extractor, the dbt source YAML (``smcost docs sources`` renders it from here) and the Athena DDL.
Change a column here and every consumer follows.

Conventions
- Timestamps are ``timestamp[ms]`` without a zone and always UTC (what AWS Data Exports writes,
  and what compares cleanly on both Athena and DuckDB).
- Every SageMaker metadata dataset starts with ``account_id, region, extracted_at`` and is
  partitioned on disk by ``extract_date=YYYY-MM-DD``; tags travel as ``map<string,string>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("ms")
STR = pa.string()
F64 = pa.float64()
I64 = pa.int64()
BOOL = pa.bool_()
TAGS = pa.map_(pa.string(), pa.string())
# x_Discounts: discount kind -> amount (AWS's Glue DDL for the FOCUS 1.2 export, REFERENCE.md §7).
AMOUNTS = pa.map_(pa.string(), pa.float64())


def _field(name: str, type_: pa.DataType, doc: str | None = None, *, api: str | None = None) -> pa.Field:
    """A column and its doc. ``api`` is the path in the API record the extractor reads it from
    (dotted: ``ResourceConfig.InstanceType``; ``ProductionVariants[].VariantName`` for an element of
    a list the kind lands one row per element of); the doc defaults to that path."""
    if doc is None:
        if api is None:
            raise ValueError(f"column {name}: give a doc, an api path, or both")
        doc = f"{api}."
    return pa.field(name, type_, metadata={"doc": doc, **({"api": api} if api else {})})


def doc_of(field: pa.Field) -> str:
    doc: bytes = (field.metadata or {}).get(b"doc", b"")
    return doc.decode()


def api_of(field: pa.Field) -> str | None:
    """The API response path a column is read from, if it is read as is (see ``_field``)."""
    value: bytes | None = (field.metadata or {}).get(b"api")
    return value.decode() if value else None


def _doc_only(field: pa.Field) -> pa.Field:
    # API paths are the extractor's business, not the files': kept off the landed Arrow schema, so a
    # file's bytes do not change when the API path behind a column does.
    return field.with_metadata({"doc": doc_of(field)})


# --------------------------------------------------------------------------------------------
# FOCUS exports as AWS Data Exports writes them (REFERENCE.md §2)
# --------------------------------------------------------------------------------------------

# (name, type, introduced in FOCUS version). Order = the FOCUS spec's alphabetical order.
_FOCUS_COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("AvailabilityZone", STR, "1.0"),
    ("BilledCost", F64, "1.0"),
    ("BillingAccountId", STR, "1.0"),
    ("BillingAccountName", STR, "1.0"),
    ("BillingAccountType", STR, "1.2"),
    ("BillingCurrency", STR, "1.0"),
    ("BillingPeriodEnd", TS, "1.0"),
    ("BillingPeriodStart", TS, "1.0"),
    ("CapacityReservationId", STR, "1.1"),
    ("CapacityReservationStatus", STR, "1.1"),
    ("ChargeCategory", STR, "1.0"),
    ("ChargeClass", STR, "1.0"),
    ("ChargeDescription", STR, "1.0"),
    ("ChargeFrequency", STR, "1.0"),
    ("ChargePeriodEnd", TS, "1.0"),
    ("ChargePeriodStart", TS, "1.0"),
    ("CommitmentDiscountCategory", STR, "1.0"),
    ("CommitmentDiscountId", STR, "1.0"),
    ("CommitmentDiscountName", STR, "1.0"),
    ("CommitmentDiscountQuantity", F64, "1.1"),
    ("CommitmentDiscountStatus", STR, "1.0"),
    ("CommitmentDiscountType", STR, "1.0"),
    ("CommitmentDiscountUnit", STR, "1.1"),
    ("ConsumedQuantity", F64, "1.0"),
    ("ConsumedUnit", STR, "1.0"),
    ("ContractedCost", F64, "1.0"),
    ("ContractedUnitPrice", F64, "1.0"),
    ("EffectiveCost", F64, "1.0"),
    ("InvoiceId", STR, "1.2"),
    ("InvoiceIssuerName", STR, "1.0"),
    ("ListCost", F64, "1.0"),
    ("ListUnitPrice", F64, "1.0"),
    ("PricingCategory", STR, "1.0"),
    ("PricingCurrency", STR, "1.2"),
    ("PricingCurrencyContractedUnitPrice", F64, "1.2"),
    ("PricingCurrencyEffectiveCost", F64, "1.2"),
    ("PricingCurrencyListUnitPrice", F64, "1.2"),
    ("PricingQuantity", F64, "1.0"),
    ("PricingUnit", STR, "1.0"),
    ("ProviderName", STR, "1.0"),
    ("PublisherName", STR, "1.0"),
    ("RegionId", STR, "1.0"),
    ("RegionName", STR, "1.0"),
    ("ResourceId", STR, "1.0"),
    ("ResourceName", STR, "1.0"),
    ("ResourceType", STR, "1.0"),
    ("ServiceCategory", STR, "1.0"),
    ("ServiceName", STR, "1.0"),
    ("ServiceSubcategory", STR, "1.1"),
    ("SkuId", STR, "1.0"),
    ("SkuMeter", STR, "1.1"),
    # A map in AWS's Parquet, as its Glue DDL types it; older files (and other tools) carry JSON text:
    # staging never reads it, so either loads.
    ("SkuPriceDetails", TAGS, "1.1"),
    ("SkuPriceId", STR, "1.0"),
    ("SubAccountId", STR, "1.0"),
    ("SubAccountName", STR, "1.0"),
    ("SubAccountType", STR, "1.2"),
    ("Tags", TAGS, "1.0"),
]

# What each export column means (FOCUS spec 1.0-1.2, AWS Data Exports user guide): the one place they
# are written down; the FOCUS source YAML (`smcost docs focus-sources`) is rendered from it.
FOCUS_COLUMN_DOCS: dict[str, str] = {
    "AvailabilityZone": "Provider-assigned availability zone of the resource, e.g. us-east-1a.",
    "BilledCost": "Cost as invoiced, after discounts; Savings-Plan-covered usage is 0 here (its cost is in EffectiveCost).",
    "BillingAccountId": "Payer account the invoice is issued to.",
    "BillingAccountName": "Name of the payer account.",
    "BillingAccountType": "Provider label for the billing account kind.",
    "BillingCurrency": "Currency of the cost columns (e.g. USD).",
    "BillingPeriodEnd": "Exclusive end of the billing period (UTC).",
    "BillingPeriodStart": "Inclusive start of the billing period (UTC): the month a charge is invoiced in.",
    "CapacityReservationId": "Capacity reservation the charge used, if any.",
    "CapacityReservationStatus": "Used | Unused capacity reservation.",
    "ChargeCategory": "Usage | Purchase | Tax | Credit | Adjustment.",
    "ChargeClass": "Correction for rows restating an earlier period, else null.",
    "ChargeDescription": "Provider's description of the charge.",
    "ChargeFrequency": "One-Time | Recurring | Usage-Based.",
    "ChargePeriodEnd": "Exclusive end of the period the charge covers (UTC).",
    "ChargePeriodStart": "Inclusive start of the period the charge covers (UTC; hourly for SageMaker usage).",
    "CommitmentDiscountCategory": "Spend | Usage: how the commitment (Savings Plan, RI) is measured.",
    "CommitmentDiscountId": "The commitment (e.g. Savings Plan ARN) that covered the charge.",
    "CommitmentDiscountName": "Name of that commitment.",
    "CommitmentDiscountQuantity": "Amount of the commitment the charge used or left unused.",
    "CommitmentDiscountStatus": "Used | Unused: whether the commitment's share was consumed.",
    "CommitmentDiscountType": "Provider's commitment type, e.g. Savings Plan.",
    "CommitmentDiscountUnit": "Unit of CommitmentDiscountQuantity.",
    "ConsumedQuantity": "Amount consumed, in ConsumedUnit (e.g. instance-hours).",
    "ConsumedUnit": "Unit of ConsumedQuantity, e.g. Hrs, GB-Mo, Requests.",
    "ContractedCost": "Cost at negotiated (contracted) prices, before commitments.",
    "ContractedUnitPrice": "Negotiated unit price.",
    "EffectiveCost": "Amortised cost after commitments: Savings-Plan-covered usage carries its share here.",
    "InvoiceId": "Invoice the charge appears on.",
    "InvoiceIssuerName": "Who issues the invoice (AWS, or a reseller).",
    "ListCost": "Cost at public on-demand prices.",
    "ListUnitPrice": "Public on-demand unit price.",
    "PricingCategory": "Standard | Dynamic (spot) | Committed (covered by a commitment) | Other.",
    "PricingCurrency": "Currency the prices are set in.",
    "PricingCurrencyContractedUnitPrice": "Contracted unit price in PricingCurrency.",
    "PricingCurrencyEffectiveCost": "EffectiveCost in PricingCurrency.",
    "PricingCurrencyListUnitPrice": "List unit price in PricingCurrency.",
    "PricingQuantity": "Amount priced, in PricingUnit.",
    "PricingUnit": "Unit the price is quoted in.",
    "ProviderName": "Who provides the service (AWS).",
    "PublisherName": "Who publishes the service (AWS, or a Marketplace seller).",
    "RegionId": "Region code, e.g. us-east-1.",
    "RegionName": "Region name, e.g. US East (N. Virginia).",
    "ResourceId": "The resource charged; for SageMaker the resource ARN, for S3 the bucket name.",
    "ResourceName": "Display name of the resource.",
    "ResourceType": "Provider's resource type.",
    "ServiceCategory": "FOCUS service category; SageMaker is AI and Machine Learning.",
    "ServiceName": "Service display name, e.g. Amazon SageMaker.",
    "ServiceSubcategory": "FOCUS service subcategory.",
    "SkuId": "The SKU (product) charged.",
    "SkuMeter": "What the SKU meters; on AWS's FOCUS 1.2 export the usage type, e.g. USE1-Train:ml.p3.2xlarge.",
    "SkuPriceDetails": "Key/value details of the SKU price (map<string,string> in AWS Parquet; JSON text elsewhere).",
    "SkuPriceId": "The SKU price (rate) applied.",
    "SubAccountId": "Member (linked) account the charge belongs to.",
    "SubAccountName": "Name of that account.",
    "SubAccountType": "Provider label for the sub-account kind.",
    "Tags": "Activated cost-allocation tags (map<string,string> in AWS Parquet; JSON text in other tools).",
    "x_CostCategories": "AWS cost categories of the charge (1.0 export; in Tags in 1.2).",
    "x_Discounts": "AWS discounts applied to the charge: discount kind -> amount (map<string,double>).",
    "x_Operation": "AWS operation, e.g. RunInstance, CreateEndpoint.",
    "x_ServiceCode": "AWS service code, e.g. AmazonSageMaker, MachineLearningSavingsPlans, AmazonS3.",
    "x_UsageType": "AWS usage type (1.0 export; SkuMeter in 1.2), e.g. USE1-Train:ml.p3.2xlarge.",
}

# AWS columns appended by Data Exports, per export table.
_AWS_COLUMNS = {
    "1.0": [
        ("x_CostCategories", TAGS),
        ("x_Discounts", AMOUNTS),
        ("x_Operation", STR),
        ("x_ServiceCode", STR),
        ("x_UsageType", STR),
    ],
    "1.2": [("x_Discounts", AMOUNTS), ("x_Operation", STR), ("x_ServiceCode", STR)],
}


def focus_schema(version: str) -> pa.Schema:
    """The Parquet schema of AWS's ``FOCUS_1_0_AWS`` (48 columns) or ``FOCUS_1_2_AWS`` (60)."""
    if version not in _AWS_COLUMNS:
        raise ValueError(f"unknown FOCUS version {version!r}: use 1.0 or 1.2")
    # 1.2 is a superset of 1.1; the AWS 1.0 table has only the 1.0 columns.
    allowed = {"1.0"} if version == "1.0" else {"1.0", "1.1", "1.2"}
    fields = [pa.field(name, t) for name, t, since in _FOCUS_COLUMNS if since in allowed]
    fields += [pa.field(name, t) for name, t in _AWS_COLUMNS[version]]
    return pa.schema(fields)


# Allowed values the FOCUS spec fixes (REFERENCE.md §2); tests check generated files against them.
FOCUS_ALLOWED_VALUES: dict[str, set[str | None]] = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"Correction", None},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"Standard", "Dynamic", "Committed", "Other", None},
    "CommitmentDiscountCategory": {"Spend", "Usage", None},
    "CommitmentDiscountStatus": {"Used", "Unused", None},
}

# The usage-type column: renamed between the two exports.
USAGE_TYPE_COLUMN = {"1.0": "x_UsageType", "1.2": "SkuMeter"}


# --------------------------------------------------------------------------------------------
# SageMaker metadata datasets (landed by `smcost extract`, also written by `smcost demo`)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A landed dataset: its name (folder and dbt source table), grain, key and Arrow schema."""

    name: str
    description: str
    key: tuple[str, ...]
    schema: pa.Schema
    # A snapshot dataset: each extraction lands the whole current set, and staging reads the newest
    # one only (macros/latest_snapshot.sql). False for datasets whose partitions each hold what one
    # run read (CloudWatch hours), which staging accumulates across partitions.
    is_snapshot: bool = True
    # The resource name staging also carries lowercased (<name_column>_lower): SageMaker lowercases
    # names in ARNs and the bill, so joins compare lowercase.
    name_column: str | None = None
    # Key columns that may be null (a CloudWatch dimension the metric lacks, a trial component in no
    # trial); every other key column is tested not_null in staging.
    nullable_key: tuple[str, ...] = ()
    # (column, API response path) for the columns read as they are (``_field(..., api=...)``); the
    # extractor's kinds compute the others.
    api_paths: tuple[tuple[str, str], ...] = ()

    @property
    def api_columns(self) -> dict[str, str]:
        """Column -> API response path, for the columns the extractor reads as they are."""
        return dict(self.api_paths)

    @property
    def staging_model(self) -> str:
        return f"stg_sagemaker__{self.name}"

    @property
    def staging_key(self) -> tuple[str, ...]:
        """The staging model's grain. An ARN names its account and region; other keys (names, ids)
        are unique only within one account and region, so those lead the key."""
        return self.key if self.key[0].endswith("_arn") else ("account_id", "region", *self.key)

    @property
    def staging_columns(self) -> tuple[str, ...]:
        """The staging model's columns: the landed ones, then the lowercased name."""
        return (*self.schema.names, *([f"{self.name_column}_lower"] if self.name_column else []))

    @property
    def partition_column(self) -> str:
        return "extract_date"


_COMMON = [
    _field("account_id", STR, "AWS account (12 digits) the resource lives in."),
    _field("region", STR, "AWS region code, e.g. us-east-1."),
    _field("extracted_at", TS, "When the extractor read this row (UTC)."),
]
_TAGS = _field("tags", TAGS, "Resource tags from the SageMaker API (ListTags or Search), all keys.")
_EXPERIMENT = [
    _field(
        "experiment_name",
        STR,
        "ExperimentConfig.ExperimentName, if the job ran in one.",
        api="ExperimentConfig.ExperimentName",
    ),
    _field("trial_name", STR, api="ExperimentConfig.TrialName"),
]


def _dataset(
    name: str,
    description: str,
    key: tuple[str, ...],
    fields: list[pa.Field],
    *,
    is_snapshot: bool = True,
    name_column: str | None = None,
    nullable_key: tuple[str, ...] = (),
) -> Dataset:
    api_paths = tuple((f.name, path) for f in fields if (path := api_of(f)) is not None)
    schema = pa.schema([_doc_only(f) for f in _COMMON + fields])
    return Dataset(name, description, key, schema, is_snapshot, name_column, nullable_key, api_paths)


DATASETS: dict[str, Dataset] = {
    ds.name: ds
    for ds in [
        _dataset(
            "training_jobs",
            "One row per training job incarnation (Search Resource=TrainingJob, tags included): a name "
            "reused after DeleteTrainingJob has the same ARN, so the key adds CreationTime.",
            ("training_job_arn", "created_at"),
            [
                _field("training_job_arn", STR, api="TrainingJobArn"),
                _field("training_job_name", STR, api="TrainingJobName"),
                _field(
                    "training_job_status",
                    STR,
                    "InProgress | Completed | Failed | Stopping | Stopped.",
                    api="TrainingJobStatus",
                ),
                _field("created_at", TS, api="CreationTime"),
                _field(
                    "last_modified_at", TS, "LastModifiedTime (drives incremental extraction).", api="LastModifiedTime"
                ),
                _field("training_start_at", TS, "TrainingStartTime: billing starts here.", api="TrainingStartTime"),
                _field("training_end_at", TS, "TrainingEndTime: billing ends here.", api="TrainingEndTime"),
                _field("role_arn", STR, "IAM role the job ran under.", api="RoleArn"),
                _field(
                    "instance_type",
                    STR,
                    "ResourceConfig.InstanceType (null for instance-group jobs).",
                    api="ResourceConfig.InstanceType",
                ),
                _field("instance_count", I64, "ResourceConfig.InstanceCount (sum over groups for heterogeneous jobs)."),
                _field(
                    "instance_groups",
                    pa.list_(
                        pa.struct(
                            [
                                pa.field("instance_group_name", STR),
                                pa.field("instance_type", STR),
                                pa.field("instance_count", I64),
                            ]
                        )
                    ),
                    "ResourceConfig.InstanceGroups[] of heterogeneous clusters.",
                ),
                _field("training_seconds", I64, "TrainingTimeInSeconds (wall clock).", api="TrainingTimeInSeconds"),
                _field(
                    "billable_seconds",
                    I64,
                    "BillableTimeInSeconds (per instance; < training_seconds on spot).",
                    api="BillableTimeInSeconds",
                ),
                _field("is_managed_spot", BOOL, api="EnableManagedSpotTraining"),
                _field(
                    "warm_pool_retained_billable_seconds",
                    I64,
                    api="WarmPoolStatus.ResourceRetainedBillableTimeInSeconds",
                ),
                _field(
                    "tuning_job_arn", STR, "Parent hyperparameter tuning job, for HPO children.", api="TuningJobArn"
                ),
                *_EXPERIMENT,
                _field("run_name", STR, api="ExperimentConfig.RunName"),
                _field("model_artifact_s3_uri", STR, api="ModelArtifacts.S3ModelArtifacts"),
                _field(
                    "input_s3_uris",
                    pa.list_(STR),
                    "InputDataConfig[].DataSource.S3DataSource.S3Uri: the channels the job reads from S3.",
                ),
                _field(
                    "input_file_system_ids",
                    pa.list_(STR),
                    "InputDataConfig[].DataSource.FileSystemDataSource.FileSystemId: FSx for Lustre / EFS "
                    "channels the job mounts.",
                ),
                _field("output_s3_uri", STR, "OutputDataConfig.S3OutputPath.", api="OutputDataConfig.S3OutputPath"),
                _field(
                    "checkpoint_s3_uri",
                    STR,
                    "CheckpointConfig.S3Uri (null: no checkpointing).",
                    api="CheckpointConfig.S3Uri",
                ),
                _field(
                    "training_image",
                    STR,
                    "AlgorithmSpecification.TrainingImage (ECR URI).",
                    api="AlgorithmSpecification.TrainingImage",
                ),
                # DescribeTrainingJob's MlflowConfig/MlflowDetails (AIMlflowConfig has the same three
                # members): the exact link to the MLflow run (docs/lineage.md). Search's TrainingJob
                # shape lacks them: the kind describes the jobs without owner tags (extractor/sagemaker.py).
                _field("mlflow_resource_arn", STR, "MlflowConfig.MlflowResourceArn: the MLflow server or app."),
                _field("mlflow_experiment_name", STR, "MlflowConfig.MlflowExperimentName."),
                _field("mlflow_run_name", STR, "MlflowConfig.MlflowRunName."),
                _field("mlflow_run_id", STR, "MlflowDetails.MlflowRunId: the run SageMaker logged to."),
                _field(
                    "instance_preference_types",
                    pa.list_(STR),
                    "ResourceConfig.InstancePreferences[].InstanceType: the instance types a flexible job "
                    "accepts, in order of preference (empty: a fixed instance type).",
                ),
                _field(
                    "selected_instance_type",
                    STR,
                    "ResourceConfig.SelectedInstanceType: the type SageMaker chose from the preferences; the "
                    "job is billed on it.",
                    api="ResourceConfig.SelectedInstanceType",
                ),
                _field(
                    "selected_instance_count",
                    I64,
                    "ResourceConfig.SelectedInstanceCount: the instance count of the chosen preference.",
                    api="ResourceConfig.SelectedInstanceCount",
                ),
                _field(
                    "training_plan_arn",
                    STR,
                    "ResourceConfig.TrainingPlanArn: the training plan whose reserved capacity the job ran on.",
                    api="ResourceConfig.TrainingPlanArn",
                ),
                _TAGS,
            ],
            name_column="training_job_name",
        ),
        _dataset(
            "tuning_jobs",
            "One row per hyperparameter tuning job.",
            ("tuning_job_arn",),
            [
                _field("tuning_job_arn", STR, api="HyperParameterTuningJobArn"),
                _field("tuning_job_name", STR, api="HyperParameterTuningJobName"),
                _field("tuning_job_status", STR, api="HyperParameterTuningJobStatus"),
                _field("created_at", TS, api="CreationTime"),
                _field("ended_at", TS, api="HyperParameterTuningEndTime"),
                _field("strategy", STR, "Bayesian | Random | Hyperband | Grid.", api="Strategy"),
                _field("max_training_jobs", I64, api="ResourceLimits.MaxNumberOfTrainingJobs"),
                _TAGS,
            ],
            name_column="tuning_job_name",
        ),
        _dataset(
            "training_plans",
            "One row per training plan (ListTrainingPlans + ListTags): reserved capacity bought for a "
            "window with an upfront fee, used by the training jobs (and endpoints, HyperPod clusters, "
            "Studio apps) that name it.",
            ("training_plan_arn",),
            [
                _field("training_plan_arn", STR, api="TrainingPlanArn"),
                _field("training_plan_name", STR, api="TrainingPlanName"),
                _field(
                    "training_plan_status",
                    STR,
                    "Pending | Active | Scheduled | Expired | Failed.",
                    api="Status",
                ),
                _field("started_at", TS, "StartTime: the reserved capacity's window opens.", api="StartTime"),
                _field("ended_at", TS, "EndTime: the window closes.", api="EndTime"),
                _field("duration_hours", I64, api="DurationHours"),
                _field("duration_minutes", I64, api="DurationMinutes"),
                _field(
                    "upfront_fee",
                    STR,
                    "UpfrontFee as the API returns it (a decimal string), in currency_code.",
                    api="UpfrontFee",
                ),
                _field("currency_code", STR, api="CurrencyCode"),
                _field(
                    "total_instance_count", I64, "TotalInstanceCount: instances reserved.", api="TotalInstanceCount"
                ),
                _field("in_use_instance_count", I64, api="InUseInstanceCount"),
                _field(
                    "target_resources",
                    pa.list_(STR),
                    "TargetResources: training-job | hyperpod-cluster | endpoint | studio-apps.",
                ),
                _field(
                    "reserved_instance_types",
                    pa.list_(STR),
                    "ReservedCapacitySummaries[].InstanceType: the instance types reserved.",
                ),
                _TAGS,
            ],
            name_column="training_plan_name",
        ),
        _dataset(
            "processing_jobs",
            "One row per processing job incarnation (ListProcessingJobs + DescribeProcessingJob + ListTags); "
            "the key adds CreationTime, as for training jobs.",
            ("processing_job_arn", "created_at"),
            [
                _field("processing_job_arn", STR, api="ProcessingJobArn"),
                _field("processing_job_name", STR, api="ProcessingJobName"),
                _field("processing_job_status", STR, api="ProcessingJobStatus"),
                _field("created_at", TS, api="CreationTime"),
                _field("processing_start_at", TS, api="ProcessingStartTime"),
                _field("processing_end_at", TS, api="ProcessingEndTime"),
                _field("role_arn", STR, "RoleArn (often a data-prep role, not the training role).", api="RoleArn"),
                _field("instance_type", STR, api="ProcessingResources.ClusterConfig.InstanceType"),
                _field("instance_count", I64, api="ProcessingResources.ClusterConfig.InstanceCount"),
                _field("image_uri", STR, api="AppSpecification.ImageUri"),
                _field("input_s3_uris", pa.list_(STR), "ProcessingInputs[].S3Input.S3Uri."),
                _field("output_s3_uris", pa.list_(STR), "ProcessingOutputConfig.Outputs[].S3Output.S3Uri."),
                *_EXPERIMENT,
                _field(
                    "training_job_arn", STR, "TrainingJobArn, for Debugger/Profiler rule jobs.", api="TrainingJobArn"
                ),
                _field(
                    "monitoring_schedule_arn",
                    STR,
                    "MonitoringScheduleArn, for model-monitor jobs.",
                    api="MonitoringScheduleArn",
                ),
                _TAGS,
            ],
            name_column="processing_job_name",
        ),
        _dataset(
            "transform_jobs",
            "One row per batch transform job incarnation (the key adds CreationTime, as for training jobs).",
            ("transform_job_arn", "created_at"),
            [
                _field("transform_job_arn", STR, api="TransformJobArn"),
                _field("transform_job_name", STR, api="TransformJobName"),
                _field("transform_job_status", STR, api="TransformJobStatus"),
                _field("created_at", TS, api="CreationTime"),
                _field("transform_start_at", TS, api="TransformStartTime"),
                _field("transform_end_at", TS, api="TransformEndTime"),
                _field("model_name", STR, "ModelName the job ran.", api="ModelName"),
                _field("instance_type", STR, api="TransformResources.InstanceType"),
                _field("instance_count", I64, api="TransformResources.InstanceCount"),
                _field("input_s3_uri", STR, api="TransformInput.DataSource.S3DataSource.S3Uri"),
                _field("output_s3_uri", STR, api="TransformOutput.S3OutputPath"),
                *_EXPERIMENT,
                _TAGS,
            ],
            name_column="transform_job_name",
        ),
        _dataset(
            "endpoints",
            "Endpoint history: one row per endpoint incarnation and endpoint config it used, with "
            "the interval that config was in force. Kept across runs because replaced configs and "
            "deleted endpoints disappear from the API.",
            # A config can come back (A -> B -> A): each interval it was in force is its own row.
            ("endpoint_arn", "endpoint_created_at", "endpoint_config_name", "config_active_from"),
            [
                _field("endpoint_arn", STR, "EndpointArn (the same string when a name is reused)."),
                _field("endpoint_name", STR, "EndpointName."),
                _field("endpoint_status", STR, "EndpointStatus at extraction; Deleted once gone."),
                _field("endpoint_created_at", TS, "CreationTime of this incarnation."),
                _field(
                    "endpoint_deleted_at",
                    TS,
                    "When the endpoint was last seen before it vanished (null while it exists).",
                ),
                _field("endpoint_config_name", STR, "EndpointConfigName in force."),
                _field("config_active_from", TS, "Start of the interval this config was in force."),
                _field("config_active_to", TS, "End of that interval (null = still in force)."),
                _TAGS,
            ],
            name_column="endpoint_name",
        ),
        _dataset(
            "endpoint_configs",
            "One row per endpoint config and production variant (DescribeEndpointConfig).",
            ("endpoint_config_name", "variant_name", "created_at"),
            [
                _field("endpoint_config_arn", STR, api="EndpointConfigArn"),
                _field("endpoint_config_name", STR, api="EndpointConfigName"),
                _field("created_at", TS, api="CreationTime"),
                _field("variant_name", STR, api="ProductionVariants[].VariantName"),
                _field(
                    "model_name",
                    STR,
                    "ProductionVariants[].ModelName (null for inference-component endpoints).",
                    api="ProductionVariants[].ModelName",
                ),
                _field(
                    "instance_type",
                    STR,
                    "ProductionVariants[].InstanceType (null for serverless).",
                    api="ProductionVariants[].InstanceType",
                ),
                _field("initial_instance_count", I64, api="ProductionVariants[].InitialInstanceCount"),
                _field("initial_variant_weight", F64, api="ProductionVariants[].InitialVariantWeight"),
                _field(
                    "serverless_memory_mb",
                    I64,
                    "ServerlessConfig.MemorySizeInMB.",
                    api="ProductionVariants[].ServerlessConfig.MemorySizeInMB",
                ),
                _field(
                    "serverless_max_concurrency",
                    I64,
                    "ServerlessConfig.MaxConcurrency.",
                    api="ProductionVariants[].ServerlessConfig.MaxConcurrency",
                ),
                _field("is_async", BOOL, "AsyncInferenceConfig present."),
                _field(
                    "instance_pools",
                    pa.map_(STR, I64),
                    "ProductionVariants[].InstancePools: instance type -> priority (1 first) of a "
                    "heterogeneous variant, whose InstanceType is then null; its charges name each type.",
                ),
                _TAGS,
            ],
            name_column="endpoint_config_name",
        ),
        _dataset(
            "models",
            "One row per model (DescribeModel).",
            ("model_arn", "created_at"),
            [
                _field("model_arn", STR, api="ModelArn"),
                _field("model_name", STR, api="ModelName"),
                _field("created_at", TS, api="CreationTime"),
                _field("execution_role_arn", STR, api="ExecutionRoleArn"),
                _field("image_uri", STR, "PrimaryContainer.Image (or the first container)."),
                _field("model_data_url", STR, "ModelDataUrl: an S3 object, or a prefix for multi-model containers."),
                _field("container_mode", STR, "SingleModel | MultiModel."),
                _TAGS,
            ],
            name_column="model_name",
        ),
        _dataset(
            "inference_components",
            "One row per inference component (DescribeInferenceComponent).",
            ("inference_component_arn", "created_at"),
            [
                _field("inference_component_arn", STR, api="InferenceComponentArn"),
                _field("inference_component_name", STR, api="InferenceComponentName"),
                _field("inference_component_status", STR, api="InferenceComponentStatus"),
                _field("endpoint_name", STR, "EndpointName it is placed on.", api="EndpointName"),
                _field("variant_name", STR, "VariantName it is placed on.", api="VariantName"),
                _field("model_name", STR, api="Specification.ModelName"),
                _field("created_at", TS, api="CreationTime"),
                _field("last_modified_at", TS, api="LastModifiedTime"),
                _field("current_copy_count", I64, api="RuntimeConfig.CurrentCopyCount"),
                _field(
                    "cpu_cores_required",
                    F64,
                    "ComputeResourceRequirements.NumberOfCpuCoresRequired.",
                    api="Specification.ComputeResourceRequirements.NumberOfCpuCoresRequired",
                ),
                _field(
                    "accelerator_devices_required",
                    F64,
                    "ComputeResourceRequirements.NumberOfAcceleratorDevicesRequired.",
                    api="Specification.ComputeResourceRequirements.NumberOfAcceleratorDevicesRequired",
                ),
                _field(
                    "memory_required_mb",
                    I64,
                    "ComputeResourceRequirements.MinMemoryRequiredInMb.",
                    api="Specification.ComputeResourceRequirements.MinMemoryRequiredInMb",
                ),
                _field(
                    "accelerator_partition_type",
                    STR,
                    "ComputeResourceRequirements.AcceleratorPartitionType: the MIG partition each copy "
                    "occupies (e.g. mig-1g.10gb), a fraction of one GPU; null on whole accelerators.",
                    api="Specification.ComputeResourceRequirements.AcceleratorPartitionType",
                ),
                _field(
                    "base_inference_component_name",
                    STR,
                    "Specification(s).BaseInferenceComponentName: set on an adapter component, which "
                    "runs in its base component's reservation and reserves nothing of its own.",
                ),
                _field(
                    "copies_by_instance_type",
                    pa.map_(STR, I64),
                    "RuntimeConfig.PlacementStatus: instance type -> copies placed on instances of that "
                    "type (several types on a heterogeneous endpoint's InstancePools).",
                ),
                _field(
                    "accelerator_devices_by_instance_type",
                    pa.map_(STR, F64),
                    "Specifications[] (one per instance type): InstanceType -> NumberOfAcceleratorDevicesRequired.",
                ),
                _field(
                    "cpu_cores_by_instance_type",
                    pa.map_(STR, F64),
                    "Specifications[]: InstanceType -> NumberOfCpuCoresRequired.",
                ),
                _field(
                    "accelerator_partition_by_instance_type",
                    pa.map_(STR, STR),
                    "Specifications[]: InstanceType -> AcceleratorPartitionType.",
                ),
                _TAGS,
            ],
            name_column="inference_component_name",
        ),
        _dataset(
            "notebook_instances",
            "One row per notebook instance.",
            ("notebook_instance_arn", "created_at"),
            [
                _field("notebook_instance_arn", STR, api="NotebookInstanceArn"),
                _field("notebook_instance_name", STR, api="NotebookInstanceName"),
                _field("notebook_instance_status", STR, api="NotebookInstanceStatus"),
                _field("instance_type", STR, api="InstanceType"),
                _field("created_at", TS, api="CreationTime"),
                _field("last_modified_at", TS, api="LastModifiedTime"),
                _field("role_arn", STR, api="RoleArn"),
                _TAGS,
            ],
            name_column="notebook_instance_name",
        ),
        _dataset(
            "studio_domains",
            "One row per SageMaker Studio domain.",
            ("domain_id",),
            [
                _field("domain_id", STR, "DomainId, e.g. d-abc123.", api="DomainId"),
                _field("domain_arn", STR, api="DomainArn"),
                _field("domain_name", STR, api="DomainName"),
                _field(
                    "home_efs_file_system_id",
                    STR,
                    "HomeEfsFileSystemId: the EFS volume holding the users' home directories.",
                    api="HomeEfsFileSystemId",
                ),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
        ),
        _dataset(
            "studio_user_profiles",
            "One row per Studio user profile.",
            ("domain_id", "user_profile_name"),
            [
                _field("domain_id", STR, api="DomainId"),
                _field("user_profile_name", STR, api="UserProfileName"),
                _field("user_profile_arn", STR, api="UserProfileArn"),
                _field("execution_role_arn", STR, api="UserSettings.ExecutionRole"),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
            name_column="user_profile_name",
        ),
        _dataset(
            "studio_spaces",
            "One row per Studio space.",
            ("domain_id", "space_name"),
            [
                _field("domain_id", STR, api="DomainId"),
                _field("space_name", STR, api="SpaceName"),
                _field("space_arn", STR, api="SpaceArn"),
                _field("owner_user_profile_name", STR, "OwnershipSettings.OwnerUserProfileName."),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
            name_column="space_name",
        ),
        _dataset(
            "studio_apps",
            "One row per Studio app (ListApps).",
            ("app_arn", "created_at"),
            [
                _field("app_arn", STR, "AppArn: app/<domain>/<profile-or-space>/<type>/<name>.", api="AppArn"),
                _field("domain_id", STR, api="DomainId"),
                _field("user_profile_name", STR, "UserProfileName (private apps).", api="UserProfileName"),
                _field("space_name", STR, "SpaceName (space apps).", api="SpaceName"),
                _field("app_type", STR, "JupyterLab | CodeEditor | KernelGateway | JupyterServer | ...", api="AppType"),
                _field("app_name", STR, api="AppName"),
                _field("app_status", STR, api="Status"),
                _field("instance_type", STR, api="ResourceSpec.InstanceType"),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
            name_column="app_name",
        ),
        _dataset(
            "experiments",
            "One row per experiment.",
            ("experiment_name",),
            [
                _field("experiment_arn", STR, api="ExperimentArn"),
                _field("experiment_name", STR, api="ExperimentName"),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
            name_column="experiment_name",
        ),
        _dataset(
            "trials",
            "One row per trial.",
            ("trial_name",),
            [
                _field("trial_arn", STR, api="TrialArn"),
                _field("trial_name", STR, api="TrialName"),
                _field("experiment_name", STR, "ExperimentName the trial belongs to.", api="ExperimentName"),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
            name_column="trial_name",
        ),
        _dataset(
            "trial_components",
            "One row per trial component and trial it is associated with.",
            ("trial_component_name", "trial_name"),
            [
                _field("trial_component_arn", STR, api="TrialComponentArn"),
                _field("trial_component_name", STR, api="TrialComponentName"),
                _field("trial_name", STR, "A trial it is associated with (Search Parents).", api="Parents[].TrialName"),
                _field("experiment_name", STR, "That trial's experiment.", api="Parents[].ExperimentName"),
                _field(
                    "source_arn",
                    STR,
                    "TrialComponentSource.SourceArn: the job that produced it.",
                    api="Source.SourceArn",
                ),
                _field("source_type", STR, "TrialComponentSource.SourceType.", api="Source.SourceType"),
                _field("created_at", TS, api="CreationTime"),
                _TAGS,
            ],
            name_column="trial_component_name",
            nullable_key=("trial_name",),
        ),
        _dataset(
            "pipelines",
            "One row per SageMaker pipeline (ListPipelines + ListTags): its tags are evidence for every "
            "job its executions launched.",
            ("pipeline_arn",),
            [
                _field("pipeline_arn", STR, api="PipelineArn"),
                _field("pipeline_name", STR, api="PipelineName"),
                _field("pipeline_display_name", STR, api="PipelineDisplayName"),
                _field("role_arn", STR, "RoleArn the pipeline's steps run under by default.", api="RoleArn"),
                _field("created_at", TS, api="CreationTime"),
                _field("last_modified_at", TS, api="LastModifiedTime"),
                _field("last_execution_at", TS, "LastExecutionTime.", api="LastExecutionTime"),
                _TAGS,
            ],
            name_column="pipeline_name",
        ),
        _dataset(
            "pipeline_executions",
            "One row per pipeline execution (ListPipelineExecutions + DescribePipelineExecution), read "
            "again while it runs and once more when its status changes.",
            ("pipeline_execution_arn",),
            [
                _field("pipeline_execution_arn", STR, "PipelineExecutionArn."),
                _field("pipeline_arn", STR, "PipelineArn."),
                _field("pipeline_name", STR, "PipelineName (the listing's)."),
                _field("execution_display_name", STR, "PipelineExecutionDisplayName."),
                _field(
                    "execution_status",
                    STR,
                    "PipelineExecutionStatus: Executing | Stopping | Stopped | Failed | Succeeded.",
                ),
                _field("failure_reason", STR, "FailureReason (null unless it failed)."),
                _field(
                    "experiment_name",
                    STR,
                    "PipelineExperimentConfig.ExperimentName: the experiment its jobs ran in (default: the pipeline's name).",
                ),
                _field(
                    "trial_name",
                    STR,
                    "PipelineExperimentConfig.TrialName: the trial its jobs ran in (default: the execution's id).",
                ),
                _field(
                    "source_execution_arn",
                    STR,
                    "SelectiveExecutionConfig.SourcePipelineExecutionArn: the execution a selective re-run repeats "
                    "steps of (null for a full run).",
                ),
                _field("created_at", TS, "CreationTime: when the execution started."),
                _field("last_modified_at", TS, "LastModifiedTime: for an ended execution, about when it ended."),
            ],
        ),
        _dataset(
            "pipeline_execution_steps",
            "One row per step attempt of a pipeline execution (ListPipelineExecutionSteps) and what it "
            "launched: the only record of which execution a training, processing or transform job belongs to.",
            ("pipeline_execution_arn", "step_name", "attempt"),
            [
                _field("pipeline_execution_arn", STR, "The execution the step ran in."),
                _field("step_name", STR, "StepName."),
                _field(
                    "attempt",
                    I64,
                    "AttemptCount (1 for the first try; a retry policy or RetryPipelineExecution adds one).",
                ),
                _field("step_display_name", STR, "StepDisplayName."),
                _field(
                    "step_type",
                    STR,
                    "What the step ran, the key of its Metadata: TrainingJob | ProcessingJob | TransformJob | TuningJob "
                    "| Model | RegisterModel | Condition | Lambda | ... (null before it started).",
                ),
                _field(
                    "step_status", STR, "StepStatus: Starting | Executing | Stopping | Stopped | Failed | Succeeded."
                ),
                _field("failure_reason", STR, "FailureReason (null unless it failed)."),
                _field(
                    "job_arn",
                    STR,
                    "Metadata.<step type>.Arn: the job or resource the step launched (null for a Condition).",
                ),
                _field(
                    "cache_source_execution_arn",
                    STR,
                    "CacheHitResult.SourcePipelineExecutionArn: a cached step launched nothing, it reused that run's output.",
                ),
                _field("started_at", TS, "StartTime."),
                _field("ended_at", TS, "EndTime."),
            ],
        ),
        _dataset(
            "endpoint_invocations",
            "Hourly CloudWatch invocation counts. One row per hour and dimension set: "
            "endpoint+variant (AWS/SageMaker), inference component (AWS/SageMaker), or "
            "endpoint+target model on multi-model endpoints (a custom metric, or counts your "
            "own request logs land in this same schema).",
            (
                "metric_dimension",
                "endpoint_name",
                "variant_name",
                "inference_component_name",
                "target_model",
                "metric_hour_at",
            ),
            [
                _field("metric_dimension", STR, "variant | inference_component | target_model."),
                _field("metric_namespace", STR, "CloudWatch namespace the counts came from (or 'request_logs')."),
                _field("endpoint_name", STR, "EndpointName dimension."),
                _field("variant_name", STR, "VariantName dimension."),
                _field("inference_component_name", STR, "InferenceComponentName dimension."),
                _field("target_model", STR, "Target model (model artifact path on a multi-model endpoint)."),
                _field("metric_hour_at", TS, "Start of the hour (UTC)."),
                _field("invocations", F64, "Sum of Invocations in the hour."),
                _field("model_latency_us", F64, "Average ModelLatency in the hour, microseconds (null if absent)."),
            ],
            is_snapshot=False,
            nullable_key=("endpoint_name", "variant_name", "inference_component_name", "target_model"),
        ),
        _dataset(
            "endpoint_utilization",
            "Hourly CloudWatch utilisation of real-time endpoint instances (namespace "
            "/aws/sagemaker/Endpoints, dimensions EndpointName + VariantName, statistic Maximum): how "
            "hard the busiest instance worked in the hour. An instance in service publishes these "
            "whether or not it is invoked, so an hour here proves the variant was up and metered; "
            "with no Invocations in that hour it was idle.",
            ("endpoint_name", "variant_name", "metric_hour_at"),
            [
                _field("endpoint_name", STR, "EndpointName dimension."),
                _field("variant_name", STR, "VariantName dimension."),
                _field("metric_hour_at", TS, "Start of the hour (UTC)."),
                _field(
                    "cpu_utilization_max",
                    F64,
                    "Maximum CPUUtilization in the hour: the sum over the instance's vCPUs, 0 to 100 x vCPUs percent.",
                ),
                _field("memory_utilization_max", F64, "Maximum MemoryUtilization in the hour, 0-100 percent."),
                _field(
                    "gpu_utilization_max",
                    F64,
                    "Maximum GPUUtilization in the hour: the sum over the instance's GPUs, 0 to 100 x GPUs "
                    "percent (null on instances without GPUs).",
                ),
                _field(
                    "gpu_memory_utilization_max",
                    F64,
                    "Maximum GPUMemoryUtilization in the hour, 0 to 100 x GPUs percent (null without GPUs).",
                ),
            ],
            is_snapshot=False,
        ),
        _dataset(
            "s3_artifacts",
            "What SageMaker work keeps in S3: the objects under every S3 URI a job, model or transform "
            "references (artifacts, outputs, checkpoints, input channels, multi-model prefixes), read "
            "as S3 does (a URI is a key prefix), totalled per storage class and the day the objects were "
            "last modified. An object under several referenced URIs is counted once, under the longest.",
            ("bucket", "key_or_prefix", "storage_class", "last_modified_day"),
            [
                _field("bucket", STR, "S3 bucket."),
                _field("key_or_prefix", STR, "The referenced key prefix (an object key, or a folder ending in '/')."),
                _field(
                    "storage_class", STR, "StorageClass of the objects: STANDARD, INTELLIGENT_TIERING, STANDARD_IA, ..."
                ),
                _field(
                    "last_modified_day",
                    TS,
                    "UTC midnight of the day the objects were last modified: from then on they are stored and billed.",
                ),
                _field("object_count", I64, "Objects counted."),
                _field("size_bytes", I64, "Bytes stored."),
            ],
        ),
        _dataset(
            "ecr_images",
            "Every image in the ECR repositories SageMaker work uses (DescribeImages over the whole "
            "repository): the images jobs and models reference, and the ones nothing references.",
            ("repository_name", "image_digest"),
            [
                _field("repository_name", STR, "ECR repository."),
                _field("repository_arn", STR, "arn:aws:ecr:<region>:<account>:repository/<name>."),
                _field("image_digest", STR, "sha256 digest."),
                _field("image_tags", pa.list_(STR), "Tags on the image."),
                _field("image_uri", STR, "The URI a SageMaker job or model referenced (null: nothing references it)."),
                _field("size_bytes", I64, "imageSizeInBytes."),
                _field("pushed_at", TS, "imagePushedAt."),
            ],
        ),
        _dataset(
            "log_groups",
            "CloudWatch log groups under /aws/sagemaker/ and the bytes they store.",
            ("log_group_name",),
            [
                _field("log_group_name", STR, "logGroupName."),
                _field("log_group_arn", STR, "arn (without the trailing :*)."),
                _field("stored_bytes", I64, "storedBytes."),
                _field("retention_days", I64, "retentionInDays (null = never expire)."),
                _field("created_at", TS, "creationTime."),
            ],
        ),
        _dataset(
            "clusters",
            "One row per SageMaker HyperPod cluster (ListClusters, DescribeCluster, ListTags); a deleted "
            "cluster's row is kept, marked Deleted.",
            ("cluster_arn",),
            [
                _field(
                    "cluster_arn",
                    STR,
                    "arn:aws:sagemaker:<region>:<account>:cluster/<cluster-id>: the ARN carries the ID, not "
                    "the name; HyperPod charges name it as their ResourceId.",
                    api="ClusterArn",
                ),
                _field(
                    "cluster_id",
                    STR,
                    "The 12-character cluster ID, the ARN's last part: what a charge's ResourceId names.",
                ),
                _field(
                    "cluster_name", STR, "ClusterName (reusable after DeleteCluster; the ID is not).", api="ClusterName"
                ),
                _field(
                    "cluster_status",
                    STR,
                    "Creating | InService | Updating | SystemUpdating | RollingBack | Deleting | Failed; "
                    "Deleted once ListClusters no longer returns it.",
                    api="ClusterStatus",
                ),
                _field("orchestrator", STR, "eks (Orchestrator.Eks) or slurm."),
                _field("created_at", TS, api="CreationTime"),
                _field(
                    "execution_role_arn",
                    STR,
                    "InstanceGroups[].ExecutionRole when every group runs under the same role, else null.",
                ),
                _field("instance_count", I64, "Sum of InstanceGroups[].CurrentCount: the instances running now."),
                _field(
                    "instance_groups",
                    pa.list_(
                        pa.struct(
                            [
                                pa.field("instance_group_name", STR),
                                pa.field("instance_type", STR),
                                pa.field("current_count", I64),
                                pa.field("target_count", I64),
                                pa.field("execution_role_arn", STR),
                                pa.field("training_plan_arn", STR),
                            ]
                        )
                    ),
                    "InstanceGroups[]: name, instance type, current and target count, execution role and "
                    "the training plan it runs on.",
                ),
                _TAGS,
            ],
            name_column="cluster_name",
        ),
        _dataset(
            "multi_model_targets",
            "The target models of each multi-model endpoint as each side names them: the artifact keys "
            "under its ModelDataUrl prefix (source s3_listing: what a caller's TargetModel carries) and "
            "the model-dimension values its per-model custom metric really has (source list_metrics: "
            "ListMetrics of --mme-metric-namespace for the endpoint, under each of "
            "--mme-model-dimensions; it sees metrics with data in the last two weeks). dbt maps each "
            "metric value to a model (int_sagemaker_multi_model_targets_mapped). A value once seen is kept.",
            ("endpoint_name", "source", "dimension_name", "target_value"),
            [
                _field("endpoint_name", STR, "The multi-model endpoint."),
                _field(
                    "source", STR, "s3_listing (an artifact key under the prefix) | list_metrics (a metric's value)."
                ),
                _field("metric_namespace", STR, "The custom metric's CloudWatch namespace (null for s3_listing)."),
                _field(
                    "dimension_name",
                    STR,
                    "The metric's model dimension, e.g. TargetModel or ModelName (null for s3_listing).",
                ),
                _field(
                    "target_value",
                    STR,
                    "The artifact key relative to the prefix (s3_listing), or the dimension's value as published.",
                ),
                _field("model_data_url", STR, "The endpoint's ModelDataUrl the key is under (null for list_metrics)."),
            ],
            name_column="endpoint_name",
            nullable_key=("dimension_name",),
        ),
    ]
}


# --------------------------------------------------------------------------------------------
# Experiment trackers (MLflow landed by `smcost extract --mlflow-tracking-uri`, W&B by `--wandb-entity
# --wandb-project`; the demo writes both): evidence for a job's model, experiment and team (docs/lineage.md). account_id
# and region are the SageMaker account and region whose jobs the tracker's runs belong to. Tags,
# params and config hold only the allow-listed keys (smcost.extractor.trackers.KeyFilter).
# --------------------------------------------------------------------------------------------

_TRACKER_TAGS = _field("tags", TAGS, "The allow-listed tags (default: the keys attribution reads, and names).")
_TRACKING_SERVER = _field(
    "tracking_server", STR, "The tracking server: its URI without credentials, or the SageMaker MLflow ARN."
)

DATASETS.update(
    {
        ds.name: ds
        for ds in [
            _dataset(
                "mlflow_experiments",
                "One row per MLflow experiment (experiments/search).",
                ("tracking_server", "experiment_id"),
                [
                    _TRACKING_SERVER,
                    _field("experiment_id", STR, "experiment_id."),
                    _field("experiment_name", STR, "name."),
                    _field("lifecycle_stage", STR, "active | deleted."),
                    _field("created_at", TS, "creation_time."),
                    _field("last_updated_at", TS, "last_update_time."),
                    _TRACKER_TAGS,
                ],
                name_column="experiment_name",
            ),
            _dataset(
                "mlflow_runs",
                "One row per MLflow run (runs/search), read incrementally: the runs started or ended "
                "since the previous run's watermark, and those still running; the rest carried forward.",
                ("tracking_server", "run_id"),
                [
                    _TRACKING_SERVER,
                    _field("run_id", STR, "info.run_id."),
                    _field("experiment_id", STR, "info.experiment_id."),
                    _field("run_name", STR, "info.run_name."),
                    _field("user_id", STR, "info.user_id (the mlflow.user tag): who ran it."),
                    _field("run_status", STR, "info.status: RUNNING | SCHEDULED | FINISHED | FAILED | KILLED."),
                    _field("lifecycle_stage", STR, "info.lifecycle_stage: active | deleted."),
                    _field("started_at", TS, "info.start_time."),
                    _field("ended_at", TS, "info.end_time (null while it runs)."),
                    _TRACKER_TAGS,
                    _field("params", TAGS, "The allow-listed params (default: only the keys attribution reads)."),
                ],
            ),
            _dataset(
                "mlflow_model_versions",
                "One row per registered model version (model-versions/search) and the run that produced it.",
                ("tracking_server", "registered_model_name", "model_version"),
                [
                    _TRACKING_SERVER,
                    _field("registered_model_name", STR, "name."),
                    _field("model_version", STR, "version."),
                    _field(
                        "source_run_id", STR, "run_id: the run that logged the model (null: registered from a path)."
                    ),
                    _field("version_status", STR, "status: PENDING_REGISTRATION | FAILED_REGISTRATION | READY."),
                    _field("created_at", TS, "creation_timestamp."),
                    _TRACKER_TAGS,
                ],
            ),
            _dataset(
                "wandb_runs",
                "One row per Weights & Biases run (wandb.Api().runs(entity/project)). W&B's SageMaker "
                "integration names the run group after the training job (one run per host).",
                ("entity", "project", "run_id"),
                [
                    _field("entity", STR, "W&B entity (user or team)."),
                    _field("project", STR, "W&B project: the experiment."),
                    _field("run_id", STR, "Run.id."),
                    _field("run_name", STR, "Run.name (display name)."),
                    _field("run_group", STR, "Run.group: the SageMaker training job name under the integration."),
                    _field("job_type", STR, "Run.job_type."),
                    _field("user_name", STR, "Run.user.username: who ran it."),
                    _field("run_state", STR, "Run.state: running | finished | crashed | failed | killed."),
                    _field("host", STR, "The host the run logged from (algo-1, algo-2, ... on SageMaker)."),
                    _field("started_at", TS, "Run.created_at."),
                    _field("ended_at", TS, "Run.heartbeat_at of a run no longer running, else null."),
                    _TRACKER_TAGS,
                    _field("config", TAGS, "The allow-listed config keys, values as strings."),
                ],
            ),
        ]
    }
)


# --------------------------------------------------------------------------------------------
# Demo ground truth (written only by `smcost demo`)
# --------------------------------------------------------------------------------------------

GROUND_TRUTH = Dataset(
    "ground_truth",
    "The true owner behind every SageMaker-scope and in-scope neighbour bill row of the demo account, "
    "one row per bill row and true owner (a shared endpoint hour has one row per model, a shared "
    "bucket day one per model plus the bytes no SageMaker work owns). Joins to the bill on "
    "(billing_period, sub_account_id, resource_id, charge_period_start, usage_type, charge_category, "
    "charge_class, pricing_category).",
    (
        "billing_period",
        "sub_account_id",
        "resource_id",
        "charge_period_start",
        "usage_type",
        "charge_category",
        "charge_class",
        "pricing_category",
        "model",
    ),
    pa.schema(
        [
            _field("billing_period", STR, "YYYY-MM of BillingPeriodStart."),
            _field("sub_account_id", STR, "SubAccountId."),
            _field("resource_id", STR, "ResourceId (null for credits, tax, fees)."),
            _field("service_code", STR, "x_ServiceCode: AmazonSageMaker and the Savings Plan, or a neighbour service."),
            _field("charge_period_start", TS, "ChargePeriodStart."),
            _field("usage_type", STR, "SkuMeter / x_UsageType."),
            _field("charge_category", STR, "ChargeCategory."),
            _field("charge_class", STR, "ChargeClass."),
            _field("pricing_category", STR, "PricingCategory."),
            _field("model", STR, "True model (or __idle__ for idle endpoint capacity)."),
            _field("team", STR, "True team."),
            _field("experiment", STR, "True experiment (null when the charge served none)."),
            _field("environment", STR, "True environment: production | development."),
            _field("share", F64, "This owner's share of the bill row (sums to 1 per row)."),
            _field("billed_cost", F64, "share x BilledCost."),
            _field("effective_cost", F64, "share x EffectiveCost."),
            _field("is_knowable", BOOL, "Whether any tag, metadata link or shipped rule reveals the owner."),
            _field(
                "evidence",
                STR,
                "How the owner is knowable: bill_tag | api_tag | metadata | mlflow | wandb | rule | none.",
            ),
        ]
    ),
)


GROUND_TRUTH_FINDINGS = Dataset(
    "ground_truth_findings",
    "What the demo account's story truly holds, from the generator's own knowledge (the charges it "
    "booked, the requests and utilisation it drew, the jobs it configured, the causes it planted; never "
    "from the bill it wrote or from the marts): one row per finding, resource (or team) and billing "
    "period where the amount is above zero. Dollars are the effective cost of SageMaker usage rows of "
    "the period (no plan fee, credit, refund, tax or correction); working hours are Monday-Friday "
    "08:00-19:00 UTC and the thresholds dbt_project.yml's var defaults. Findings: "
    "endpoint_idle (a single-model instance-backed real-time endpoint, usage Host:<instance type>, not "
    "multi-model, inference-component, serverless or async, whose metrics are landed: amount the cost "
    "of its instance hours metered (utilisation landed) with no invocations, a zero count or no "
    "Invocations row; quantity those clock hours), "
    "endpoint_unknown (such an endpoint billed with no metric landed at all, neither Invocations nor "
    "utilisation: amount its instance cost, quantity its billed hours; never idle), "
    "forgotten_endpoint (an instance-backed endpoint in service in the period's last hour without an "
    "invocation for forgotten_endpoint_days (7) days or more up to then, counted back across periods "
    "over the hours it was metered without a break: amount its instance cost in the period, quantity "
    "those quiet days, hours / 24), "
    "notebook_after_hours (a notebook instance, Notebk:, or Studio app, Studio:: amount the cost of its "
    "hours billed on weekdays before 08:00 or from 19:00 and on weekends, quantity those hours), "
    "notebook_always_on (a notebook instance or Studio app billed every hour from its first billed hour "
    "in the period to the period's end: amount its cost in the period, quantity its hours), "
    "spot_candidate (an on-demand training job with checkpointing configured, checkpoint_s3_uri set "
    "and not managed spot: amount its training instance cost, Train:<instance type> with a warm "
    "pool's retained hours, in the period; quantity 1), "
    "over_provisioned_endpoint (an instance-backed endpoint in us-east-1, the region of "
    "seeds/sagemaker_instance_prices.csv, whose hourly maxima of CPU per vCPU, memory, GPU per GPU and "
    "GPU memory per GPU all stayed under over_provisioned_peak_percent (30) all period, on an instance "
    "type with a next size down, the same family's next smaller vCPU count in "
    "seeds/instance_type_capacity.csv, priced: amount its instance cost x (1 - the next size's price / "
    "its price), detail that size), "
    "growth_driver (a cause of the bill's growth the story planted, per team, resource_arn null: amount "
    "the SageMaker usage cost of the cause's resources in the period, every usage type; detail the "
    "cause: growing_team, the nlp team's support-llm fine-tunes | forgotten_staging_endpoints | "
    "always_on_notebooks, the GPU notebooks left on | on_demand_training, those fine-tunes run on "
    "demand although they checkpoint; causes may overlap: growing_team holds on_demand_training). "
    "At --scale N every replica's resources have their own rows; a team's growth driver is one row, "
    "the replicas' sum.",
    ("finding", "billing_period", "resource_arn", "team", "detail"),
    pa.schema(
        [
            _field("finding", STR, "The finding's kind (see the dataset's description)."),
            _field("billing_period", STR, "YYYY-MM."),
            _field("resource_arn", STR, "The SageMaker resource, as the bill's ResourceId (null for a growth driver)."),
            _field("team", STR, "True team."),
            _field("model", STR, "True model (null where none)."),
            _field("environment", STR, "True environment."),
            _field("amount", F64, "Dollars (effective cost), as the finding defines."),
            _field(
                "quantity",
                F64,
                "Hours, days or jobs, as the finding defines (null for over_provisioned_endpoint and growth_driver).",
            ),
            _field("detail", STR, "Finding-specific detail (the next size down, the growth cause)."),
        ]
    ),
)


def _table_yaml(ds: Dataset, identifier: str, location: str) -> list[str]:
    lines = [
        f"      - name: {ds.name}",
        f'        identifier: "{identifier}"',
        "        description: >",
        f"          {ds.description}",
        "        meta:",
        f"          key: [{', '.join(ds.key)}]",
        "          external_location: >-",
        f"            read_parquet('{location}',",
        "            hive_partitioning = true, union_by_name = true)",
    ]
    if ds.is_snapshot:
        lines += [
            "        data_tests:",
            "          - snapshot_is_plausible:",
            "              config:",
            "                severity: warn",
        ]
    lines += ["        columns:"]
    for f in ds.schema:
        lines += [f"          - name: {f.name}", f'            description: "{doc_of(f).replace(chr(34), chr(39))}"']
    lines += [
        f"          - name: {ds.partition_column}",
        '            description: "Partition: the UTC date of the extraction run (YYYY-MM-DD)."',
    ]
    return lines


# How stale the landed metadata may get before `dbt source freshness` warns: the extractor runs
# nightly, so 36 hours is one missed run (every dataset carries extracted_at, see _COMMON).
FRESHNESS_WARN_AFTER_HOURS = 36


def source_yaml() -> str:
    """The dbt sources YAML for the landed datasets, rendered from these schemas. The demo's ground
    truth is no dbt source: only pytest reads it, straight from its Parquet files."""
    lines = [
        "# Generated by `smcost docs sources` from extract/smcost/schemas.py. Do not edit by hand.",
        "version: 2",
        "",
        "sources:",
        "  - name: sagemaker",
        "    description: >",
        "      SageMaker, CloudWatch, S3 and ECR metadata landed as Parquet by `smcost extract`",
        "      (or `smcost demo`), partitioned by extract_date. On Athena these are Glue tables named",
        "      var('sagemaker_table_prefix') + dataset; on DuckDB they are read from the lake.",
        "    schema: \"{{ var('sagemaker_schema', target.schema) }}\"",
        "    config:",
        "      loaded_at_field: extracted_at",
        "      freshness:",
        f"        warn_after: {{count: {FRESHNESS_WARN_AFTER_HOURS}, period: hour}}",
        "    tables:",
    ]
    for ds in DATASETS.values():
        lines += _table_yaml(
            ds,
            f"{{{{ var('sagemaker_table_prefix') }}}}{ds.name}",
            f"{{{{ var('lake_root', env_var('SMCOST_LAKE_ROOT', 'data/lake')) }}}}/sagemaker/{ds.name}/*/*.parquet",
        )
    return "\n".join(lines) + "\n"


# The generic tests the rendered YAML uses (macros/tests/), named as in dbt-utils.
UNIQUE_COMBINATION_TEST = "unique_combination_of_columns"
UNIQUE_COMBINATION_ARGUMENT = "combination_of_columns"


def _staging_model_yaml(ds: Dataset) -> list[str]:
    reads = (
        "Latest extraction of each row." if ds.is_snapshot else "The newest reading of each key, across extractions."
    )
    lines = [
        f"  - name: {ds.staging_model}",
        "    description: >",
        f"      {ds.description} {reads}",
        "    data_tests:",
        f"      - {UNIQUE_COMBINATION_TEST}:",
        "          arguments:",
        f"            {UNIQUE_COMBINATION_ARGUMENT}: [{', '.join(ds.staging_key)}]",
        "    columns:",
    ]
    docs = {f.name: doc_of(f) for f in ds.schema}
    if ds.name_column:
        docs[f"{ds.name_column}_lower"] = (
            f"{ds.name_column}, lowercased (SageMaker lowercases names in ARNs and the bill)."
        )
    for name in ds.staging_columns:
        lines += [f"      - name: {name}", f'        description: "{docs[name].replace(chr(34), chr(39))}"']
        if name in ds.staging_key and name not in ds.nullable_key:
            lines += ["        data_tests: [not_null]"]
    return lines


def staging_models_yaml() -> str:
    """The dbt models YAML of the SageMaker staging models, rendered from these schemas."""
    lines = [
        "# Generated by `smcost docs models` from extract/smcost/schemas.py. Do not edit by hand.",
        "version: 2",
        "",
        "models:",
    ]
    for ds in DATASETS.values():
        lines += _staging_model_yaml(ds)
    return "\n".join(lines) + "\n"


def focus_source_yaml() -> str:
    """The dbt source YAML of the FOCUS export (both versions' columns), rendered from these schemas."""
    lake_root = "{{ var('lake_root', env_var('SMCOST_LAKE_ROOT', 'data/lake')) }}"
    columns = {f.name: None for version in ("1.2", "1.0") for f in focus_schema(version)}
    lines = [
        "# Generated by `smcost docs focus-sources` from extract/smcost/schemas.py. Do not edit by hand.",
        "version: 2",
        "",
        "sources:",
        "  - name: focus",
        "    description: >",
        "      The AWS Data Exports FOCUS export (FOCUS 1.2 with AWS columns, or the older FOCUS 1.0 with",
        "      AWS columns; set var focus_version), Parquet delivered to",
        "      s3://<bucket>/<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/ with a manifest per period",
        "      under metadata/. Which files count, and what stops the build, is in docs/export.md.",
        "    schema: \"{{ var('focus_schema', env_var('SMCOST_FOCUS_DATABASE', target.schema)) }}\"",
        "    tables:",
        "      - name: focus_export",
        "        identifier: \"{{ var('focus_table', env_var('SMCOST_FOCUS_TABLE', 'focus_export')) }}\"",
        "        description: One row per charge as AWS writes it (60 columns for 1.2, 48 for 1.0).",
        "        # AWS refreshes the export at least daily; older than that, a delivery is stuck.",
        "        loaded_at_field: cast(ChargePeriodEnd as timestamp)",
        "        freshness:",
        "          warn_after: {count: 2, period: day}",
        "          error_after: {count: 7, period: day}",
        "        meta:",
        "          external_location: >-",
        f"            read_parquet('{lake_root}/billing/{{{{ var('focus_export_name') }}}}/data/**/*.parquet',",
        "            hive_partitioning = true, union_by_name = true, filename = true)",
        "        columns:",
    ]
    for name in columns:
        lines += [f"          - name: {name}", f'            description: "{FOCUS_COLUMN_DOCS[name]}"']
    lines += [
        "          - name: billing_period",
        '            description: "Partition: the BILLING_PERIOD=YYYY-MM folder."',
    ]
    return "\n".join(lines) + "\n"
