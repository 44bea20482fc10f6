"""One extraction of the scenario account (extract_scenario.py), and what each dataset must hold.

moto serves every API over HTTP except inference components and Studio user profiles, spaces and
apps, which moto does not implement: those four kinds are answered by botocore's Stubber
(extract_scenario.STUBS), which validates requests and responses against the real API model.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta, timezone
from types import SimpleNamespace

import pytest

from extractor import extract_scenario as scenario
from extractor.extract_scenario import ACCOUNT, ARN, BUCKET, ECR, REGION, ROLE, WEST, hour
from extractor.harness import Extractor, by, landed
from smcost.extractor import catalog
from smcost.schemas import DATASETS


@pytest.fixture(scope="module")
def run(moto, api_calls: Counter, tmp_path_factory) -> SimpleNamespace:
    moto.reset()
    built = scenario.populate(moto)
    extractor = Extractor(moto, api_calls, tmp_path_factory.mktemp("lake"))
    for dataset, calls in scenario.STUBS.items():
        extractor.stub(ACCOUNT, REGION, dataset, calls)
    result = extractor("--regions", f"{REGION},{WEST}", "--mme-metric-namespace", scenario.MME_NAMESPACE)
    return SimpleNamespace(out=extractor.out, result=result, built=built, rows=lambda ds: landed(extractor.out, ds))


def test_every_dataset_lands_in_its_shared_schema_and_the_manifest_says_complete(run):
    manifest = run.result.manifest
    assert manifest["status"] == "complete" and run.result.exit_code == 0
    assert set(manifest["datasets"]) == set(DATASETS)
    for dataset in DATASETS:
        rows = run.rows(dataset)  # landed() asserts the exact Arrow schema
        assert manifest["datasets"][dataset]["rows"] == len(rows), dataset
        assert {(r["account_id"], r["region"]) for r in rows} <= {(ACCOUNT, REGION), (ACCOUNT, WEST)}


def test_training_jobs_carry_tags_experiment_billing_fields_and_links(run):
    jobs = by(run.rows("training_jobs"), "training_job_name")
    assert set(jobs) == {"train-fraud-1", "train-untagged-2", "train-hetero-3", "hpo-fraud-001-a1b2", "train-west-1"}
    fraud = jobs["train-fraud-1"]
    assert dict(fraud["tags"]) == {"team": "fraud", "project": "fraud-model"}
    assert (fraud["experiment_name"], fraud["trial_name"], fraud["run_name"]) == ("fraud-exp", "fraud-trial-1", "run-1")
    assert (fraud["instance_type"], fraud["instance_count"]) == ("ml.p3.2xlarge", 2)
    assert (fraud["training_seconds"], fraud["billable_seconds"], fraud["is_managed_spot"]) == (3600, 1800, True)
    assert fraud["warm_pool_retained_billable_seconds"] == 600
    created = run.built.times["train-fraud-1"]
    assert (fraud["created_at"], fraud["training_start_at"], fraud["training_end_at"]) == (
        created,
        created + timedelta(minutes=5),
        created + timedelta(minutes=65),
    )
    assert fraud["role_arn"] == ROLE + "training"
    assert fraud["model_artifact_s3_uri"] == f"s3://{BUCKET}/training/train-fraud-1/output/model.tar.gz"
    assert fraud["training_image"] == f"{ECR}/fraud-train:1.0"
    assert fraud["training_job_arn"] == ARN + "training-job/train-fraud-1"
    assert fraud["input_s3_uris"] == [f"s3://{BUCKET}/data/", f"s3://{BUCKET}/data/fraud/"]
    assert fraud["input_file_system_ids"] == [scenario.FSX]
    assert fraud["output_s3_uri"] == f"s3://{BUCKET}/training"
    assert fraud["checkpoint_s3_uri"] == f"s3://{BUCKET}/checkpoints/train-fraud-1/"

    untagged = jobs["train-untagged-2"]
    assert untagged["tags"] == [] and untagged["experiment_name"] is None and untagged["is_managed_spot"] is False
    assert (untagged["input_s3_uris"], untagged["input_file_system_ids"], untagged["checkpoint_s3_uri"]) == (
        [],
        [],
        None,
    )
    hetero = jobs["train-hetero-3"]
    assert hetero["instance_type"] is None and hetero["instance_count"] == 5
    assert [(g["instance_type"], g["instance_count"]) for g in hetero["instance_groups"]] == [
        ("ml.p4d.24xlarge", 2),
        ("ml.c5.18xlarge", 3),
    ]
    assert jobs["hpo-fraud-001-a1b2"]["tuning_job_arn"] == ARN + "hyper-parameter-tuning-job/hpo-fraud"
    assert jobs["train-west-1"]["region"] == WEST and dict(jobs["train-west-1"]["tags"]) == {"team": "west"}


def test_training_jobs_come_from_search_pages_with_a_describe_only_for_untagged_jobs(run):
    # DescribeTrainingJob only for the jobs whose tags name no owner (their MlflowConfig is the
    # evidence that can still decide them; test_extract_training_mlflow): counted from the tags landed.
    owner_keys = {"ml:team", "team", "ml:model", "model"}
    untagged = Counter(
        r["region"] for r in run.rows("training_jobs") if not {k.lower() for k, _ in r["tags"]} & owner_keys
    )
    training_units = [u for u in run.result.manifest["units"] if u["dataset"] == "training_jobs"]
    assert len(training_units) == 2 and sum(untagged.values()) > 0
    for unit in training_units:
        region = unit["unit"].split("/")[1]
        describes = {"sagemaker:DescribeTrainingJob": untagged[region]} if untagged[region] else {}
        assert unit["api_calls"] == {"sagemaker:Search": 1, **describes}, unit["unit"]


def test_tuning_job_lands_with_strategy_limits_and_tags(run):
    (tuning,) = run.rows("tuning_jobs")
    assert (tuning["tuning_job_name"], tuning["strategy"], tuning["max_training_jobs"]) == ("hpo-fraud", "Bayesian", 20)
    assert tuning["tuning_job_arn"] == ARN + "hyper-parameter-tuning-job/hpo-fraud"
    assert dict(tuning["tags"]) == {"team": "fraud"}


def test_processing_job_keeps_its_own_role_cluster_image_and_experiment(run):
    (job,) = run.rows("processing_jobs")
    assert job["role_arn"] == ROLE + "data-prep"
    assert (job["instance_type"], job["instance_count"]) == ("ml.m5.4xlarge", 3)
    assert job["image_uri"] == f"{ECR}/prep:2.0"
    assert (job["input_s3_uris"], job["output_s3_uris"]) == ([f"s3://{BUCKET}/prep/in/"], [f"s3://{BUCKET}/prep/out/"])
    assert (job["experiment_name"], job["trial_name"]) == ("fraud-exp", "fraud-trial-1")
    assert dict(job["tags"]) == {"team": "data-platform"}


def test_transform_job_names_its_model_and_resources(run):
    (job,) = run.rows("transform_jobs")
    assert (job["transform_job_name"], job["model_name"]) == ("batch-score", "fraud-model-v1")
    assert (job["instance_type"], job["instance_count"]) == ("ml.c5.2xlarge", 4)
    assert (job["input_s3_uri"], job["output_s3_uri"]) == (f"s3://{BUCKET}/in/", f"s3://{BUCKET}/scored/")
    assert job["experiment_name"] == "fraud-exp" and dict(job["tags"]) == {"team": "fraud"}


def test_multi_model_endpoint_its_config_and_model(run):
    endpoints = by(run.rows("endpoints"), "endpoint_name")
    mme = endpoints["mme-endpoint"]
    assert mme["endpoint_config_name"] == "mme-config-v1" and mme["endpoint_status"] == "InService"
    assert mme["config_active_from"] == run.built.times["mme-endpoint"] == mme["endpoint_created_at"]
    assert mme["config_active_to"] is None and mme["endpoint_deleted_at"] is None
    assert dict(mme["tags"]) == {"team": "platform"}

    configs = by(run.rows("endpoint_configs"), "endpoint_config_name")
    assert set(configs) == {"mme-config-v1", "fraud-config-v1", "fraud-serverless"}
    variant = configs["mme-config-v1"]
    assert (variant["variant_name"], variant["model_name"], variant["instance_type"]) == (
        "AllTraffic",
        "mme-shared",
        "ml.m5.large",
    )
    assert (variant["initial_instance_count"], variant["initial_variant_weight"]) == (2, 1.0)
    serverless = configs["fraud-serverless"]
    serverless_fields = ("instance_type", "serverless_memory_mb", "serverless_max_concurrency")
    assert tuple(serverless[f] for f in serverless_fields) == (None, 2048, 5)

    models = by(run.rows("models"), "model_name")
    assert models["mme-shared"]["container_mode"] == "MultiModel"
    assert models["mme-shared"]["model_data_url"] == f"s3://{BUCKET}/mme/"
    assert models["mme-shared"]["image_uri"] == f"{ECR}/mme-serve:2.1"
    assert models["fraud-model-v1"]["container_mode"] == "SingleModel"
    assert models["fraud-model-v1"]["execution_role_arn"] == ROLE + "serving"
    assert dict(models["fraud-model-v1"]["tags"]) == {"team": "fraud"}


def test_inference_component_from_stubber(run):
    (component,) = run.rows("inference_components")
    assert (component["inference_component_name"], component["endpoint_name"], component["model_name"]) == (
        "ic-llm-a",
        "ic-endpoint",
        "llm-a",
    )
    assert (
        component["current_copy_count"],
        component["cpu_cores_required"],
        component["accelerator_devices_required"],
        component["memory_required_mb"],
    ) == (2, 2.0, 1.0, 4096)
    assert dict(component["tags"]) == {"team": "llm"}


def test_notebook_and_studio_from_moto_and_stubber(run):
    (notebook,) = run.rows("notebook_instances")
    assert (notebook["instance_type"], notebook["role_arn"], notebook["notebook_instance_status"]) == (
        "ml.t3.medium",
        ROLE + "research",
        "InService",
    )
    assert dict(notebook["tags"]) == {"team": "research"}
    (domain,) = run.rows("studio_domains")
    assert domain["domain_name"] == "studio" and dict(domain["tags"]) == {"env": "dev"}
    assert domain["home_efs_file_system_id"] == "studio-efs-id"  # moto's; from DescribeDomain, not the listing
    (profile,) = run.rows("studio_user_profiles")
    assert (profile["user_profile_name"], profile["execution_role_arn"]) == ("alice", ROLE + "studio-alice")
    (space,) = run.rows("studio_spaces")
    assert (space["space_name"], space["owner_user_profile_name"], space["space_arn"]) == (
        "team-space",
        "alice",
        scenario.SPACE_ARN,
    )
    (app,) = run.rows("studio_apps")
    assert (app["app_arn"], app["app_type"], app["instance_type"], app["space_name"]) == (
        scenario.APP_ARN,
        "JupyterLab",
        "ml.t3.medium",
        "team-space",
    )


def test_experiment_trial_and_component_link_to_the_source_job(run):
    (experiment,) = run.rows("experiments")
    assert experiment["experiment_name"] == "fraud-exp" and dict(experiment["tags"]) == {"team": "fraud"}
    (trial,) = run.rows("trials")
    assert (trial["trial_name"], trial["experiment_name"]) == ("fraud-trial-1", "fraud-exp")
    (component,) = run.rows("trial_components")
    assert (component["trial_name"], component["experiment_name"]) == ("fraud-trial-1", "fraud-exp")
    assert component["source_arn"] == ARN + "training-job/train-fraud-1"
    assert component["source_type"] == "SageMakerTrainingJob"


def test_hourly_invocations_per_variant_component_and_target_model(run):
    rows = run.rows("endpoint_invocations")
    variant = {r["metric_hour_at"]: r for r in rows if r["metric_dimension"] == "variant"}
    assert {h: (r["invocations"], r["model_latency_us"]) for h, r in variant.items()} == {
        hour(3): (100.0, 2500.0),
        hour(2): (40.0, 2500.0),
        hour(1): (10.0, 2500.0),
    }
    assert {(r["endpoint_name"], r["variant_name"]) for r in variant.values()} == {("mme-endpoint", "AllTraffic")}
    component = [r for r in rows if r["metric_dimension"] == "inference_component"]
    assert {(r["inference_component_name"], r["endpoint_name"], r["invocations"]) for r in component} == {
        ("ic-llm-a", "ic-endpoint", 7.0)
    }
    assert len(component) == 3
    targets = Counter()
    for r in rows:
        if r["metric_dimension"] == "target_model":
            assert (r["metric_namespace"], r["endpoint_name"]) == (scenario.MME_NAMESPACE, "mme-endpoint")
            targets[r["target_model"]] += r["invocations"]
    assert targets == {"model-a.tar.gz": 112.5, "team-b/model-b.tar.gz": 37.5}
    # All of us-east-1's series in one call (< 500 queries); none in us-west-2, which has no endpoint.
    units = [u for u in run.result.manifest["units"] if u["dataset"] == "endpoint_invocations"]
    calls = {u["region"]: u["api_calls"] for u in units}
    assert calls == {REGION: {"cloudwatch:GetMetricData": 1}, WEST: {}}


def test_hourly_utilisation_maxima_per_instance_variant_gpu_columns_only_on_the_gpu_instance(run):
    rows = {(r["endpoint_name"], r["metric_hour_at"]): r for r in run.rows("endpoint_utilization")}
    assert set(rows) == {(e, hour(k)) for e in ("mme-endpoint", "fraud-endpoint") for k in (3, 2, 1)}
    columns = ("cpu_utilization_max", "memory_utilization_max", "gpu_utilization_max", "gpu_memory_utilization_max")
    assert {(r["endpoint_name"], r["variant_name"], *(r[c] for c in columns)) for r in rows.values()} == {
        ("mme-endpoint", "AllTraffic", 35.0, 52.0, None, None),
        ("fraud-endpoint", "AllTraffic", 120.0, 61.0, 88.0, 43.0),
    }
    units = [u for u in run.result.manifest["units"] if u["dataset"] == "endpoint_utilization"]
    assert {u["region"]: u["api_calls"] for u in units} == {REGION: {"cloudwatch:GetMetricData": 1}, WEST: {}}


def test_s3_objects_under_every_referenced_prefix_per_storage_class_and_day_each_counted_once(run):
    today = scenario.DAY_STARTED
    rows = {
        (r["bucket"], r["key_or_prefix"], r["storage_class"], r["last_modified_day"]): (
            r["object_count"],
            r["size_bytes"],
        )
        for r in run.rows("s3_artifacts")
        if r["region"] == REGION
    }
    assert rows == {
        # A job's folder under its output path (<S3OutputPath>/<job>/) is its own; the artifact in it
        # counts under the artifact, the job's other outputs under the folder.
        (BUCKET, "training/train-fraud-1/output/model.tar.gz", "STANDARD", today): (1, 1234),
        (BUCKET, "training/train-untagged-2/output/model.tar.gz", "STANDARD", today): (1, 50),
        (BUCKET, "training/train-fraud-1/", "STANDARD", today): (1, 40),
        # Nested input channels: data/fraud/'s objects under it only; folder markers not counted.
        (BUCKET, "data/", "STANDARD", today): (1, 70),
        (BUCKET, "data/fraud/", "STANDARD", today): (1, 300),
        (BUCKET, "data/fraud/", "STANDARD_IA", today): (1, 200),
        (BUCKET, "data/fraud/", "STANDARD", today - timedelta(days=2)): (1, 400),
        (BUCKET, "checkpoints/train-fraud-1/", "STANDARD", today - timedelta(days=1)): (1, 500),
        (BUCKET, "prep/in/", "STANDARD", today): (1, 60),
        (BUCKET, "prep/out/", "STANDARD", today): (1, 30),
        (BUCKET, "in/", "STANDARD", today): (1, 20),
        (BUCKET, "scored/", "STANDARD", today): (1, 10),
        (BUCKET, "mme/", "STANDARD", today): (2, 350),  # not mme-other/
    }
    (west,) = [r for r in run.rows("s3_artifacts") if r["region"] == WEST]
    assert (west["bucket"], west["key_or_prefix"], west["size_bytes"]) == (
        scenario.WEST_BUCKET,
        "training/train-west-1/output/model.tar.gz",
        80,
    )
    warnings = [w for u in run.result.manifest["units"] for w in u.get("warnings", [])]
    assert any("jumpstart-cache-prod-us-east-1" in w and "NoSuchBucket" in w for w in warnings)


def test_s3_lists_each_buckets_outermost_referenced_prefixes_once(run):
    (east,) = [u for u in run.result.manifest["units"] if u["unit"] == f"{ACCOUNT}/{REGION}/s3_artifacts"]
    # the four training jobs' folders, data/, checkpoints/..., prep/in/, prep/out/, in/, scored/, mme/;
    # the JumpStart bucket
    assert east["api_calls"] == {"s3:ListObjectsV2": 12}


def test_every_image_of_the_repositories_in_use_in_this_accounts_registry_only(run):
    images = {
        (r["repository_name"], tuple(r["image_tags"])): r for r in run.rows("ecr_images") if r["region"] == REGION
    }
    # Not "unused" (no job or model uses the repository), not AWS's registry (JumpStart).
    assert {(name, uri) for (name, _), uri in ((k, r["image_uri"]) for k, r in images.items())} == {
        ("fraud-train", f"{ECR}/fraud-train:1.0"),
        ("fraud-train", None),  # 0.9: nothing references it, yet it is stored and billed
        ("fraud-serve", f"{ECR}/fraud-serve:1.0"),
        ("mme-serve", f"{ECR}/mme-serve:2.1"),
        ("prep", f"{ECR}/prep:2.0"),
    }
    unreferenced = images[("fraud-train", ("0.9",))]
    expected = run.built.images["fraud-train:0.9"]
    assert (unreferenced["image_digest"], unreferenced["size_bytes"]) == (
        expected["imageDigest"],
        expected["imageSizeInBytes"],
    )
    expected = run.built.images["mme-serve:2.1"]
    mme = images[("mme-serve", ("2.1",))]
    assert (mme["image_digest"], mme["size_bytes"], mme["pushed_at"]) == (
        expected["imageDigest"],
        expected["imageSizeInBytes"],
        expected["imagePushedAt"].astimezone(timezone.utc).replace(tzinfo=None),
    )
    assert mme["repository_arn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mme-serve"


def test_only_sagemaker_log_groups_with_their_stored_bytes(run):
    groups = by([r for r in run.rows("log_groups") if r["region"] == REGION], "log_group_name")
    assert set(groups) == {"/aws/sagemaker/TrainingJobs", "/aws/sagemaker/Endpoints/mme-endpoint"}
    assert groups["/aws/sagemaker/TrainingJobs"]["stored_bytes"] == 5_000_000
    assert groups["/aws/sagemaker/Endpoints/mme-endpoint"]["retention_days"] == 30
    assert groups["/aws/sagemaker/TrainingJobs"]["log_group_arn"].endswith(":log-group:/aws/sagemaker/TrainingJobs")


# Columns the scenario account leaves empty in every row, and why. Every other column must hold a
# value somewhere: an API path in schemas.py with a typo would land a column of nulls.
EMPTY_IN_THE_SCENARIO = {
    # The 2026 shapes have scenarios of their own (test_extract_stubbed.py: MIG partitions, adapters,
    # per-type placements and instance pools; test_extract_training_shapes.py: flexible jobs, plans).
    ("endpoint_configs", "instance_pools"): "no heterogeneous variant here",
    ("inference_components", "accelerator_devices_by_instance_type"): "no per-type specification here",
    ("inference_components", "accelerator_partition_by_instance_type"): "... nor a MIG partition",
    ("inference_components", "accelerator_partition_type"): "... nor a MIG partition",
    ("inference_components", "base_inference_component_name"): "... nor an adapter",
    ("inference_components", "copies_by_instance_type"): "... nor a placement status",
    ("inference_components", "cpu_cores_by_instance_type"): "... nor a per-type specification",
    ("training_jobs", "instance_preference_types"): "no flexible job here",
    ("training_jobs", "selected_instance_count"): "... so nothing selected",
    ("training_jobs", "selected_instance_type"): "... so nothing selected",
    ("training_jobs", "training_plan_arn"): "... nor a training plan",
    ("processing_jobs", "training_job_arn"): "its one job is no Debugger/Profiler rule job",
    ("processing_jobs", "monitoring_schedule_arn"): "... and no model-monitor job",
    ("endpoints", "endpoint_deleted_at"): "one run sees nothing deleted (test_extract_history does)",
    ("endpoints", "config_active_to"): "... and no config replaced",
    ("studio_apps", "user_profile_name"): "its one app is a space's",
    ("endpoint_configs", "tags"): "untagged (tags are read the same way for every kind)",
    ("studio_spaces", "tags"): "untagged",
    ("trials", "tags"): "untagged",
    ("trial_components", "tags"): "untagged",
    ("pipeline_executions", "failure_reason"): "its one execution succeeded",
    (
        "pipeline_executions",
        "experiment_name",
    ): "moto's DescribePipelineExecution has an empty PipelineExperimentConfig",
    ("pipeline_executions", "trial_name"): "... (test_extract_pipelines reads the columns it lands)",
    ("pipeline_executions", "source_execution_arn"): "a full run, not a selective re-run",
    ("pipeline_execution_steps", "failure_reason"): "its one step succeeded",
    ("pipeline_execution_steps", "step_display_name"): "no display name",
    ("pipeline_execution_steps", "cache_source_execution_arn"): "not a cache hit",
    ("training_jobs", "mlflow_resource_arn"): "moto's DescribeTrainingJob keeps no MlflowConfig",
    ("training_jobs", "mlflow_experiment_name"): "... (test_extract_training_mlflow adds it and reads them)",
    ("training_jobs", "mlflow_run_name"): "...",
    ("training_jobs", "mlflow_run_id"): "... nor MlflowDetails",
}


# Datasets this scenario holds nothing of, each tested by a scenario of its own: the experiment
# trackers' (another source lands them: tests/python/extractor/test_mlflow_source.py and
# test_wandb_source.py), HyperPod's (test_extract_hyperpod.py) and training plans' (test_extract_training_shapes.py).
NOT_IN_THE_SCENARIO = {
    "clusters",
    "training_plans",
    "mlflow_experiments",
    "mlflow_runs",
    "mlflow_model_versions",
    "wandb_runs",
}


def test_every_column_holds_a_value_somewhere_so_no_api_path_reads_nothing(run):
    assert {dataset for dataset in DATASETS if not run.rows(dataset)} == NOT_IN_THE_SCENARIO
    empty = {
        (dataset, column)
        for dataset in set(DATASETS) - NOT_IN_THE_SCENARIO
        for column in DATASETS[dataset].schema.names
        if all(row[column] in (None, [], {}) for row in run.rows(dataset))
    }
    assert empty == set(EMPTY_IN_THE_SCENARIO)


def test_each_unit_calls_only_the_operations_its_kind_declares(run):
    for unit in run.result.manifest["units"]:
        declared = set(catalog.KINDS[unit["dataset"]].operations)
        assert set(unit["api_calls"]) <= declared, unit["unit"]
