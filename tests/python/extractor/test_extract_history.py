"""Across runs: incremental reads, endpoint history, and what happens to deleted resources."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from extractor import extract_scenario as scenario
from extractor import moto_gaps
from extractor.extract_scenario import ROLE, hour, set_job_times, training_job
from extractor.harness import by, landed, partitions


def _now_ms() -> datetime:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def test_a_second_run_reads_only_the_jobs_changed_since_the_watermark(aws, extract):
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker()
    for i in range(250):
        training_job(sm, f"job-{i:03d}")
        set_job_times(backend.training_jobs[f"job-{i:03d}"], hour(72) - timedelta(minutes=i), 10)

    first = extract("--datasets", "training_jobs", "--extract-date", "2024-06-01")
    assert first.manifest["api_calls"] == {
        "sagemaker:Search": 3,  # 100 a page
        "sagemaker:DescribeTrainingJob": 250,  # every job is untagged: its MlflowConfig could decide it
        "sts:GetCallerIdentity": 1,
    }
    assert len(landed(extract.out, "training_jobs")) == 250

    backend.training_jobs["job-007"].training_job_status = "Stopped"
    backend.training_jobs["job-007"].last_modified_time = datetime.now(timezone.utc).replace(tzinfo=None)
    training_job(sm, "job-new")
    second = extract("--datasets", "training_jobs", "--extract-date", "2024-06-02")

    assert second.manifest["api_calls"]["sagemaker:Search"] == 1  # stops at the first page reaching the watermark
    (unit,) = second.manifest["units"][:1]
    assert unit["since"] == (first.units[0].until - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert unit["rows"] == 2
    jobs = by(landed(extract.out, "training_jobs"), "training_job_name")
    assert len(jobs) == 251
    assert jobs["job-007"]["training_job_status"] == "Stopped"
    assert jobs["job-007"]["extracted_at"] == second.units[0].until == jobs["job-new"]["extracted_at"]
    assert jobs["job-100"]["extracted_at"] == first.units[0].until  # kept from the first run, as it was
    assert partitions(extract.out, "training_jobs") == ["2024-06-01", "2024-06-02"]


def test_a_training_job_name_reused_after_deletion_lands_as_a_second_incarnation(aws, extract):
    """DeleteTrainingJob frees a name, and with it the ARN: the job created under it later is a new
    row (the key holds CreationTime), and the deleted one stays as it was read, so a charge from
    its time can still join the job that ran then. moto has no DeleteTrainingJob: the test removes
    the job from moto's backend, which is what the API then shows."""
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker()
    training_job(sm, "nightly-eval", tags=[{"Key": "ml:team", "Value": "fraud"}])
    set_job_times(backend.training_jobs["nightly-eval"], hour(96), 30)
    extract("--datasets", "training_jobs", "--extract-date", "2024-06-01")

    del backend.training_jobs["nightly-eval"]
    training_job(sm, "nightly-eval", tags=[{"Key": "ml:team", "Value": "search"}])
    set_job_times(backend.training_jobs["nightly-eval"], hour(3), 30)
    extract("--datasets", "training_jobs", "--extract-date", "2024-06-02")

    rows = [r for r in landed(extract.out, "training_jobs") if r["training_job_name"] == "nightly-eval"]
    assert len({r["training_job_arn"] for r in rows}) == 1
    incarnations = sorted((r["created_at"], r["tags"]) for r in rows)
    assert [created for created, _ in incarnations] == [hour(96), hour(3)]
    assert [dict(tags)["ml:team"] for _, tags in incarnations] == ["fraud", "search"]


def test_endpoint_history_survives_a_config_update_and_the_endpoints_deletion(aws, extract):
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker()
    for version in ("v1", "v2"):
        sm.create_model(
            ModelName=f"model-{version}",
            ExecutionRoleArn=ROLE + "serving",
            PrimaryContainer={"Image": f"{scenario.ECR}/serve:{version}"},
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"config-{version}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"model-{version}",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
    sm.create_endpoint(EndpointName="churn", EndpointConfigName="config-v1")
    created = hour(72)
    backend.endpoints["churn"].creation_time = backend.endpoints["churn"].last_modified_time = created
    datasets = ("--datasets", "endpoints,endpoint_configs,models")

    first = extract(*datasets, "--extract-date", "2024-06-01")
    (row,) = landed(extract.out, "endpoints")
    assert (row["endpoint_config_name"], row["config_active_from"], row["config_active_to"]) == (
        "config-v1",
        created,
        None,
    )

    # UpdateEndpoint (moto lacks it): the endpoint now runs config-v2; v1 and its model are deleted.
    updated_at = _now_ms()
    backend.endpoints["churn"].endpoint_config_name = "config-v2"
    backend.endpoints["churn"].last_modified_time = updated_at
    sm.delete_endpoint_config(EndpointConfigName="config-v1")
    sm.delete_model(ModelName="model-v1")
    second = extract(*datasets, "--extract-date", "2024-06-02")

    history = sorted(landed(extract.out, "endpoints"), key=lambda r: r["config_active_from"])
    assert [(r["endpoint_config_name"], r["config_active_from"], r["config_active_to"]) for r in history] == [
        ("config-v1", created, updated_at),
        ("config-v2", updated_at, None),
    ]
    assert {r["endpoint_config_name"] for r in landed(extract.out, "endpoint_configs")} == {"config-v1", "config-v2"}
    assert {r["model_name"] for r in landed(extract.out, "models")} == {"model-v1", "model-v2"}
    # Configs and models cannot change: the second run describes none of them again.
    assert "sagemaker:DescribeEndpointConfig" not in second.manifest["api_calls"]
    assert "sagemaker:DescribeModel" not in second.manifest["api_calls"]
    assert first.manifest["api_calls"]["sagemaker:DescribeModel"] == 2

    assert [r["extracted_at"] for r in history] == [second.extracted_at] * 2  # both rows changed in run 2

    sm.delete_endpoint(EndpointName="churn")
    third = extract(*datasets, "--extract-date", "2024-06-03")
    history = sorted(landed(extract.out, "endpoints"), key=lambda r: r["config_active_from"])
    last_seen = second.extracted_at
    assert [
        (
            r["endpoint_config_name"],
            r["endpoint_status"],
            r["config_active_to"],
            r["endpoint_deleted_at"],
            r["extracted_at"],
        )
        for r in history
    ] == [
        ("config-v1", "InService", updated_at, None, second.extracted_at),
        ("config-v2", "Deleted", last_seen, last_seen, third.extracted_at),
    ]


def test_resources_gone_from_a_complete_listing_are_marked_deleted_or_dropped(aws, extract):
    sm = aws.client("sagemaker")
    logs = aws.client("logs")
    for name in ("nb-keep", "nb-gone"):
        sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE + "research")
    for name in ("/aws/sagemaker/Endpoints/keep", "/aws/sagemaker/Endpoints/gone"):
        logs.create_log_group(logGroupName=name)
    datasets = ("--datasets", "notebook_instances,log_groups")
    extract(*datasets, "--extract-date", "2024-06-01")

    sm.stop_notebook_instance(NotebookInstanceName="nb-gone")
    sm.delete_notebook_instance(NotebookInstanceName="nb-gone")
    logs.delete_log_group(logGroupName="/aws/sagemaker/Endpoints/gone")
    second = extract(*datasets, "--extract-date", "2024-06-02")

    notebooks = by(landed(extract.out, "notebook_instances"), "notebook_instance_name")
    assert {n: r["notebook_instance_status"] for n, r in notebooks.items()} == {
        "nb-keep": "InService",
        "nb-gone": "Deleted",
    }
    assert notebooks["nb-gone"]["extracted_at"] == second.extracted_at  # when it was found gone
    assert [r["log_group_name"] for r in landed(extract.out, "log_groups")] == ["/aws/sagemaker/Endpoints/keep"]


def test_full_rereads_everything_it_would_otherwise_skip(aws, extract):
    sm = aws.client("sagemaker")
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE + "serving", PrimaryContainer={"Image": f"{scenario.ECR}/m:1"})
    training_job(sm, "old-job")
    set_job_times(moto_gaps.sagemaker().training_jobs["old-job"], hour(100), 10)
    extract("--datasets", "models,training_jobs", "--extract-date", "2024-06-01")
    again = extract("--datasets", "models,training_jobs", "--extract-date", "2024-06-02", "--full")
    assert again.manifest["api_calls"]["sagemaker:DescribeModel"] == 1
    assert {u.kind.dataset: u.rows for u in again.units} == {"training_jobs": 1, "models": 1}
    assert all(u.since is None for u in again.units)
