"""A small SageMaker account, created over HTTP on moto, with what each test expects back.

Account 123456789012, us-east-1 (and one job in us-west-2): tagged and untagged training jobs with
experiment configs, a spot job with a warm pool, a heterogeneous-cluster job, an HPO job and its
child, a processing job under a data-prep role, a batch transform, a multi-model endpoint with its
config and model, a single-model endpoint on a GPU instance, a notebook, a Studio domain, an
experiment with a trial and a trial component, hourly invocations and instance utilisation, S3
objects (nested input channels, two storage classes, three days), ECR images (one nothing
references) and log groups. Fields moto leaves empty are set on its backend objects (moto_gaps).
The APIs moto lacks come from STUBS (Stubber).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from botocore.stub import ANY

from extractor import moto_gaps

ACCOUNT = moto_gaps.ACCOUNT
REGION = "us-east-1"
WEST = "us-west-2"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BUCKET = "ml-artifacts-123"
WEST_BUCKET = "ml-artifacts-west-123"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
MME_NAMESPACE = "SMCost/TargetModel"
FSX = "fs-0123456789abcdef0"
DAY_STARTED = datetime.now(timezone.utc).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
# The bucket's objects: (key, bytes, StorageClass, LastModified that many UTC days before today).
OBJECTS = (
    ("training/train-fraud-1/output/model.tar.gz", 1234, "STANDARD", 0),
    ("training/train-fraud-1/output/output.tar.gz", 40, "STANDARD", 0),  # only under the output path
    ("training/train-untagged-2/output/model.tar.gz", 50, "STANDARD", 0),
    ("data/", 0, "STANDARD", 0),  # a folder marker: not counted
    ("data/shared.csv", 70, "STANDARD", 0),
    ("data/fraud/", 0, "STANDARD", 0),
    ("data/fraud/part-0.csv", 300, "STANDARD", 0),
    ("data/fraud/part-1.csv", 200, "STANDARD_IA", 0),
    ("data/fraud/part-2.csv", 400, "STANDARD", 2),
    ("checkpoints/train-fraud-1/ckpt-1.pt", 500, "STANDARD", 1),
    ("prep/in/raw.csv", 60, "STANDARD", 0),
    ("prep/out/features.parquet", 30, "STANDARD", 0),
    ("in/batch.csv", 20, "STANDARD", 0),
    ("scored/batch.csv.out", 10, "STANDARD", 0),
    ("mme/model-a.tar.gz", 100, "STANDARD", 0),
    ("mme/team-b/model-b.tar.gz", 250, "STANDARD", 0),
    ("mme-other/not-under-the-prefix.tar.gz", 999, "STANDARD", 0),
)


# Hourly utilisation each endpoint publishes: metric -> value (the multi-model one is on CPUs).
UTILIZATION = {
    "mme-endpoint": {"CPUUtilization": 35.0, "MemoryUtilization": 52.0},
    "fraud-endpoint": {
        "CPUUtilization": 120.0,
        "MemoryUtilization": 61.0,
        "GPUUtilization": 88.0,
        "GPUMemoryUtilization": 43.0,
    },
}


def hour(offset: int) -> datetime:
    """The start of the hour ``offset`` hours before the current one (naive UTC)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    return now - timedelta(hours=offset)


@dataclass
class Built:
    """What the scenario created, for tests to compare landed rows with."""

    times: dict[str, datetime] = field(default_factory=dict)
    images: dict[str, dict] = field(default_factory=dict)  # "repository:tag" -> its DescribeImages detail


def training_job(
    sm,
    name: str,
    *,
    image: str = f"{ECR}/fraud-train:1.0",
    tags=None,
    experiment=None,
    role: str = ROLE + "training",
    resources=None,
    spot: bool = False,
    inputs=None,
    checkpoint: str | None = None,
    bucket: str = BUCKET,
) -> None:
    params = dict(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        RoleArn=role,
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/training"},
        ResourceConfig=resources or {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 86400},
        EnableManagedSpotTraining=spot,
        Tags=tags or [],
    )
    if experiment:
        params["ExperimentConfig"] = experiment
    if inputs:
        params["InputDataConfig"] = inputs
    if checkpoint:
        params["CheckpointConfig"] = {"S3Uri": checkpoint}
    sm.create_training_job(**params)


def s3_channel(name: str, uri: str) -> dict:
    return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}


def fsx_channel(name: str, file_system_id: str) -> dict:
    source = {
        "FileSystemId": file_system_id,
        "FileSystemAccessMode": "ro",
        "FileSystemType": "FSxLustre",
        "DirectoryPath": "/fsx/fraud",
    }
    return {"ChannelName": name, "DataSource": {"FileSystemDataSource": source}}


def set_job_times(job, created: datetime, minutes: int) -> None:
    job.creation_time = created
    job.training_start_time = created + timedelta(minutes=5)
    job.training_end_time = created + timedelta(minutes=5 + minutes)
    job.last_modified_time = job.training_end_time


def populate(aws) -> Built:
    built = Built()
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker(REGION)
    two_days_ago = hour(48)

    # ---- training, tuning ------------------------------------------------------------------
    training_job(
        sm,
        "train-fraud-1",
        spot=True,
        tags=[{"Key": "team", "Value": "fraud"}, {"Key": "project", "Value": "fraud-model"}],
        experiment={"ExperimentName": "fraud-exp", "TrialName": "fraud-trial-1", "RunName": "run-1"},
        resources={"InstanceType": "ml.p3.2xlarge", "InstanceCount": 2, "VolumeSizeInGB": 50},
        # Nested channels: the objects under data/fraud/ are counted under it, not under data/ too.
        inputs=[
            s3_channel("train", f"s3://{BUCKET}/data/"),
            s3_channel("fraud", f"s3://{BUCKET}/data/fraud/"),
            fsx_channel("features", FSX),
        ],
        checkpoint=f"s3://{BUCKET}/checkpoints/train-fraud-1/",
    )
    job = backend.training_jobs["train-fraud-1"]
    set_job_times(job, two_days_ago, 60)
    job.training_time_in_seconds = 3600
    job.billable_time_in_seconds = 1800
    job.warm_pool_status = {"Status": "Available", "ResourceRetainedBillableTimeInSeconds": 600}
    built.times["train-fraud-1"] = job.creation_time

    training_job(sm, "train-untagged-2")
    set_job_times(backend.training_jobs["train-untagged-2"], two_days_ago + timedelta(hours=1), 30)

    training_job(
        sm,
        "train-hetero-3",
        resources={
            "InstanceGroups": [
                {"InstanceGroupName": "gpu", "InstanceType": "ml.p4d.24xlarge", "InstanceCount": 2},
                {"InstanceGroupName": "cpu", "InstanceType": "ml.c5.18xlarge", "InstanceCount": 3},
            ],
            "VolumeSizeInGB": 100,
        },
    )
    set_job_times(backend.training_jobs["train-hetero-3"], two_days_ago + timedelta(hours=2), 20)

    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="hpo-fraud",
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 4},
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": f"{ECR}/fraud-train:1.0", "TrainingInputMode": "File"},
            "RoleArn": ROLE + "training",
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/hpo"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        Tags=[{"Key": "team", "Value": "fraud"}],
    )
    training_job(sm, "hpo-fraud-001-a1b2")
    child = backend.training_jobs["hpo-fraud-001-a1b2"]
    set_job_times(child, two_days_ago + timedelta(hours=3), 10)
    child.tuning_job_arn = ARN + "hyper-parameter-tuning-job/hpo-fraud"

    # ---- processing, transform --------------------------------------------------------------
    sm.create_processing_job(
        ProcessingJobName="prep-fraud",
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 30}
        },
        AppSpecification={"ImageUri": f"{ECR}/prep:2.0"},
        RoleArn=ROLE + "data-prep",
        ProcessingInputs=[
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/prep/in/",
                    "LocalPath": "/opt/ml/processing/input",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "features",
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/prep/out/",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        ExperimentConfig={"ExperimentName": "fraud-exp", "TrialName": "fraud-trial-1"},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=[{"Key": "team", "Value": "data-platform"}],
    )
    processing = backend.processing_jobs["prep-fraud"]
    processing.processing_resources = {  # moto drops it (REFERENCE §5)
        "ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 30}
    }
    processing.processing_start_time = two_days_ago - timedelta(hours=1)

    # ---- models, configs, endpoints ---------------------------------------------------------
    sm.create_model(
        ModelName="fraud-model-v1",
        ExecutionRoleArn=ROLE + "serving",
        PrimaryContainer={
            "Image": f"{ECR}/fraud-serve:1.0",
            "ModelDataUrl": f"s3://{BUCKET}/training/train-fraud-1/output/model.tar.gz",
        },
        Tags=[{"Key": "team", "Value": "fraud"}],
    )
    sm.create_model(
        ModelName="mme-shared",
        ExecutionRoleArn=ROLE + "serving",
        PrimaryContainer={"Image": f"{ECR}/mme-serve:2.1", "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/mme/"},
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    sm.create_model(  # a JumpStart-style model: AWS's image and bucket, not on this bill
        ModelName="jumpstart-llm",
        ExecutionRoleArn=ROLE + "serving",
        PrimaryContainer={
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1",
            "ModelDataUrl": "s3://jumpstart-cache-prod-us-east-1/llm/model.tar.gz",
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="mme-config-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "mme-shared",
                "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.create_endpoint_config(
        EndpointConfigName="fraud-config-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "fraud-model-v1",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g4dn.xlarge",  # a GPU instance: its utilisation has GPU columns
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.create_endpoint_config(
        EndpointConfigName="fraud-serverless",
        ProductionVariants=[
            {
                "VariantName": "Serverless",
                "ModelName": "fraud-model-v1",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sm.create_endpoint(
        EndpointName="mme-endpoint", EndpointConfigName="mme-config-v1", Tags=[{"Key": "team", "Value": "platform"}]
    )
    sm.create_endpoint(EndpointName="fraud-endpoint", EndpointConfigName="fraud-config-v1")
    for name in ("mme-endpoint", "fraud-endpoint"):  # in service since before the metric hours
        backend.endpoints[name].creation_time = backend.endpoints[name].last_modified_time = two_days_ago
        built.times[name] = two_days_ago

    sm.create_transform_job(
        TransformJobName="batch-score",
        ModelName="fraud-model-v1",
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/in/"}}},
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/scored/"},
        TransformResources={"InstanceType": "ml.c5.2xlarge", "InstanceCount": 4},
        ExperimentConfig={"ExperimentName": "fraud-exp", "TrialName": "fraud-trial-1"},
        Tags=[{"Key": "team", "Value": "fraud"}],
    )

    # ---- notebooks, Studio -------------------------------------------------------------------
    sm.create_notebook_instance(
        NotebookInstanceName="nb-research",
        InstanceType="ml.t3.medium",
        RoleArn=ROLE + "research",
        Tags=[{"Key": "team", "Value": "research"}],
    )
    sm.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE + "studio"},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
        Tags=[{"Key": "env", "Value": "dev"}],
    )

    # ---- experiments ------------------------------------------------------------------------
    sm.create_experiment(ExperimentName="fraud-exp")  # moto drops create-time tags here; AddTags works
    sm.add_tags(ResourceArn=ARN + "experiment/fraud-exp", Tags=[{"Key": "team", "Value": "fraud"}])
    sm.create_trial(TrialName="fraud-trial-1", ExperimentName="fraud-exp")
    sm.create_trial_component(TrialComponentName="train-fraud-1-aws-training-job")
    sm.associate_trial_component(TrialComponentName="train-fraud-1-aws-training-job", TrialName="fraud-trial-1")
    component = backend.trial_components["train-fraud-1-aws-training-job"]
    component.source = {"SourceArn": ARN + "training-job/train-fraud-1", "SourceType": "SageMakerTrainingJob"}
    component.parents = [{"TrialName": "fraud-trial-1", "ExperimentName": "fraud-exp"}]

    # ---- CloudWatch -------------------------------------------------------------------------
    cw = aws.client("cloudwatch")
    for offset, calls in ((3, 100.0), (2, 40.0), (1, 10.0)):
        at = hour(offset).replace(tzinfo=timezone.utc) + timedelta(minutes=10)
        variant = [{"Name": "EndpointName", "Value": "mme-endpoint"}, {"Name": "VariantName", "Value": "AllTraffic"}]
        cw.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {"MetricName": "Invocations", "Dimensions": variant, "Timestamp": at, "Value": calls},
                {"MetricName": "ModelLatency", "Dimensions": variant, "Timestamp": at, "Value": 2500.0},
                {
                    "MetricName": "Invocations",
                    "Timestamp": at,
                    "Value": 7.0,
                    "Dimensions": [{"Name": "InferenceComponentName", "Value": "ic-llm-a"}],
                },
            ],
        )
        cw.put_metric_data(
            Namespace=MME_NAMESPACE,
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Timestamp": at,
                    "Value": calls * share,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": "mme-endpoint"},
                        {"Name": "TargetModel", "Value": target},
                    ],
                }
                for target, share in (("model-a.tar.gz", 0.75), ("team-b/model-b.tar.gz", 0.25))
            ],
        )

    # Instance utilisation (/aws/sagemaker/Endpoints): the CPU endpoint publishes no GPU metrics.
    for offset in (3, 2, 1):
        at = hour(offset).replace(tzinfo=timezone.utc) + timedelta(minutes=20)
        for endpoint, values in UTILIZATION.items():
            cw.put_metric_data(
                Namespace="/aws/sagemaker/Endpoints",
                MetricData=[
                    {
                        "MetricName": metric,
                        "Timestamp": at,
                        "Value": value,
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": endpoint},
                            {"Name": "VariantName", "Value": "AllTraffic"},
                        ],
                    }
                    for metric, value in values.items()
                ],
            )

    # ---- S3, ECR, logs ----------------------------------------------------------------------
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key, size, storage_class, days_ago in OBJECTS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * size, StorageClass=storage_class)
        if days_ago:
            moto_gaps.s3_object(BUCKET, key).last_modified = DAY_STARTED - timedelta(days=days_ago, hours=-1)

    ecr = aws.client("ecr")
    for repository, tag, layer in (
        ("fraud-train", "0.9", 900),  # nothing references it: landed with no image_uri
        ("fraud-train", "1.0", 1000),
        ("fraud-serve", "1.0", 1500),
        ("mme-serve", "2.1", 2000),
        ("prep", "2.0", 3000),
        ("unused", "9.9", 4000),
    ):
        if not any(image.startswith(f"{repository}:") for image in built.images):
            ecr.create_repository(repositoryName=repository)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 10,
                "digest": "sha256:" + f"{layer:064x}",
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": layer,
                    "digest": "sha256:" + f"{layer + 1:064x}",
                }
            ],
        }
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        (pushed,) = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
        built.images[f"{repository}:{tag}"] = pushed

    logs = aws.client("logs")
    for name in ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/Endpoints/mme-endpoint", "/ecs/not-sagemaker"):
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="stream")
    logs.put_retention_policy(logGroupName="/aws/sagemaker/Endpoints/mme-endpoint", retentionInDays=30)
    moto_gaps.logs(REGION).groups["/aws/sagemaker/TrainingJobs"].streams["stream"].stored_bytes = 5_000_000

    # ---- SageMaker Pipelines: one tagged pipeline, one execution (its steps: STUBS) ----------
    sm.create_pipeline(
        PipelineName="nightly-retrain",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=ROLE + "pipelines",
        Tags=[{"Key": "team", "Value": "fraud"}],
    )
    sm.start_pipeline_execution(PipelineName="nightly-retrain", PipelineExecutionDisplayName="night-1")

    # ---- another region ---------------------------------------------------------------------
    west = aws.client("sagemaker", WEST)
    training_job(
        west,
        "train-west-1",
        image=f"{ACCOUNT}.dkr.ecr.{WEST}.amazonaws.com/west:1",
        tags=[{"Key": "team", "Value": "west"}],
        bucket=WEST_BUCKET,  # SageMaker reads and writes buckets of its own region only
    )
    set_job_times(moto_gaps.sagemaker(WEST).training_jobs["train-west-1"], two_days_ago, 15)
    west_s3 = aws.client("s3", WEST)
    west_s3.create_bucket(Bucket=WEST_BUCKET, CreateBucketConfiguration={"LocationConstraint": WEST})
    west_s3.put_object(Bucket=WEST_BUCKET, Key="training/train-west-1/output/model.tar.gz", Body=b"x" * 80)
    return built


# --------------------------------------------------------------------------------------------
# The APIs moto lacks, answered by botocore's Stubber (in the order the extractor calls them)
# --------------------------------------------------------------------------------------------

_LIST = {
    "inference_components": ("list_inference_components", "InferenceComponents"),
    "studio_user_profiles": ("list_user_profiles", "UserProfiles"),
    "studio_spaces": ("list_spaces", "Spaces"),
    "studio_apps": ("list_apps", "Apps"),
    "training_plans": ("list_training_plans", "TrainingPlanSummaries"),
}


def empty_listing(dataset: str) -> list[tuple[str, dict, dict]]:
    if dataset not in _LIST:  # reads only what another kind handed it (pipeline steps): no call of its own
        return []
    operation, key = _LIST[dataset]
    return [(operation, {key: []}, {"MaxResults": 100})]


def _tags(arn: str, tags: dict[str, str]) -> tuple[str, dict, dict]:
    return (
        "list_tags",
        {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]},
        {"ResourceArn": arn, "MaxResults": 50},
    )


DOMAIN = "d-abc123xyz"
CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
IC_ARN = ARN + "inference-component/ic-llm-a"
PROFILE_ARN = ARN + f"user-profile/{DOMAIN}/alice"
SPACE_ARN = ARN + f"space/{DOMAIN}/team-space"
APP_ARN = ARN + f"app/{DOMAIN}/team-space/jupyterlab/default"

STUBS = {
    "inference_components": [
        (
            "list_inference_components",
            {
                "InferenceComponents": [
                    {
                        "InferenceComponentName": "ic-llm-a",
                        "InferenceComponentArn": IC_ARN,
                        "EndpointName": "ic-endpoint",
                        "EndpointArn": ARN + "endpoint/ic-endpoint",
                        "VariantName": "AllTraffic",
                        "CreationTime": CREATED,
                        "LastModifiedTime": CREATED,
                        "InferenceComponentStatus": "InService",
                    }
                ]
            },
            {"MaxResults": 100},
        ),
        (
            "describe_inference_component",
            {
                "InferenceComponentName": "ic-llm-a",
                "InferenceComponentArn": IC_ARN,
                "EndpointName": "ic-endpoint",
                "EndpointArn": ARN + "endpoint/ic-endpoint",
                "VariantName": "AllTraffic",
                "Specification": {
                    "ModelName": "llm-a",
                    "ComputeResourceRequirements": {
                        "NumberOfCpuCoresRequired": 2.0,
                        "NumberOfAcceleratorDevicesRequired": 1.0,
                        "MinMemoryRequiredInMb": 4096,
                    },
                },
                "RuntimeConfig": {"DesiredCopyCount": 2, "CurrentCopyCount": 2},
                "CreationTime": CREATED,
                "LastModifiedTime": CREATED,
                "InferenceComponentStatus": "InService",
            },
            {"InferenceComponentName": "ic-llm-a"},
        ),
        _tags(IC_ARN, {"team": "llm"}),
    ],
    "studio_user_profiles": [
        (
            "list_user_profiles",
            {
                "UserProfiles": [
                    {
                        "DomainId": DOMAIN,
                        "UserProfileName": "alice",
                        "Status": "InService",
                        "CreationTime": CREATED,
                    }
                ]
            },
            {"MaxResults": 100},
        ),
        (
            "describe_user_profile",
            {
                "DomainId": DOMAIN,
                "UserProfileArn": PROFILE_ARN,
                "UserProfileName": "alice",
                "Status": "InService",
                "CreationTime": CREATED,
                "UserSettings": {"ExecutionRole": ROLE + "studio-alice"},
            },
            {"DomainId": DOMAIN, "UserProfileName": "alice"},
        ),
        _tags(PROFILE_ARN, {"team": "research"}),
    ],
    "studio_spaces": [
        (
            "list_spaces",
            {
                "Spaces": [
                    {
                        "DomainId": DOMAIN,
                        "SpaceName": "team-space",
                        "Status": "InService",
                        "CreationTime": CREATED,
                        "OwnershipSettingsSummary": {"OwnerUserProfileName": "alice"},
                    }
                ]
            },
            {"MaxResults": 100},
        ),
        (
            "describe_space",
            {
                "DomainId": DOMAIN,
                "SpaceArn": SPACE_ARN,
                "SpaceName": "team-space",
                "Status": "InService",
                "CreationTime": CREATED,
                "OwnershipSettings": {"OwnerUserProfileName": "alice"},
            },
            {"DomainId": DOMAIN, "SpaceName": "team-space"},
        ),
        _tags(SPACE_ARN, {}),
    ],
    "studio_apps": [
        (
            "list_apps",
            {
                "Apps": [
                    {
                        "DomainId": DOMAIN,
                        "SpaceName": "team-space",
                        "AppType": "JupyterLab",
                        "AppName": "default",
                        "Status": "InService",
                        "CreationTime": CREATED,
                        "ResourceSpec": {"InstanceType": "ml.t3.medium"},
                    }
                ]
            },
            {"MaxResults": 100},
        ),
        (
            "describe_app",
            {
                "AppArn": APP_ARN,
                "DomainId": DOMAIN,
                "SpaceName": "team-space",
                "AppType": "JupyterLab",
                "AppName": "default",
                "Status": "InService",
                "CreationTime": CREATED,
                "ResourceSpec": {"InstanceType": "ml.t3.medium"},
            },
            {"DomainId": DOMAIN, "SpaceName": "team-space", "AppType": "JupyterLab", "AppName": "default"},
        ),
        _tags(APP_ARN, {"sagemaker:space-arn": SPACE_ARN}),
    ],
    # moto has no ListPipelineExecutionSteps; the execution's id is random, so any ARN is accepted.
    "pipeline_execution_steps": [
        (
            "list_pipeline_execution_steps",
            {
                "PipelineExecutionSteps": [
                    {
                        "StepName": "Train",
                        "StepStatus": "Succeeded",
                        "StartTime": CREATED,
                        "EndTime": CREATED + timedelta(hours=1),
                        "AttemptCount": 1,
                        "Metadata": {"TrainingJob": {"Arn": ARN + "training-job/train-fraud-1"}},
                    }
                ]
            },
            {"PipelineExecutionArn": ANY, "SortOrder": "Ascending", "MaxResults": 100},
        )
    ],
}
