"""The 2026 training shapes: flexible jobs (InstancePreferences, billed on SelectedInstanceType) and
the training plans whose reserved capacity jobs run on.

Training jobs are moto's (CreateTrainingJob and Search over HTTP). moto keeps ResourceConfig as it
was sent but never selects an instance from the preferences nor places a job on a plan, so the
fields AWS fills in (SelectedInstanceType, SelectedInstanceCount, TrainingPlanArn) are set on its
backend object, as for the other fields moto never fills (moto_gaps). moto has no
ListTrainingPlans: the plans come from botocore's Stubber, which checks the request and the
response against the real API model (harness.MOTO_LACKS).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from extractor import moto_gaps
from extractor.extract_scenario import ACCOUNT, ARN, REGION, set_job_times, training_job
from extractor.harness import landed

PLAN_ARN = ARN + "training-plan/llm-pretrain-aug"
START = datetime(2026, 8, 10, 0, 0, tzinfo=timezone.utc)


def test_a_flexible_job_lands_its_preferences_the_selected_instance_and_its_training_plan(aws, extract):
    sm = aws.client("sagemaker")
    preferences = [
        {"InstanceType": "ml.p5.48xlarge", "InstanceCount": 2},
        {"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 4},
    ]
    training_job(sm, "flex-1", resources={"InstancePreferences": preferences, "VolumeSizeInGB": 100})
    job = moto_gaps.sagemaker(REGION).training_jobs["flex-1"]
    set_job_times(job, START, 90)
    # AWS picked the second preference, on the plan's reserved capacity.
    job.resource_config = {
        **job.resource_config,
        "SelectedInstanceType": "ml.p4d.24xlarge",
        "SelectedInstanceCount": 4,
        "TrainingPlanArn": PLAN_ARN,
    }
    training_job(sm, "fixed-2")
    set_job_times(moto_gaps.sagemaker(REGION).training_jobs["fixed-2"], START, 30)

    extract("--datasets", "training_jobs")

    jobs = {row["training_job_name"]: row for row in landed(extract.out, "training_jobs")}
    flex, fixed = jobs["flex-1"], jobs["fixed-2"]
    assert flex["instance_preference_types"] == ["ml.p5.48xlarge", "ml.p4d.24xlarge"]
    assert (flex["selected_instance_type"], flex["selected_instance_count"]) == ("ml.p4d.24xlarge", 4)
    assert (flex["instance_type"], flex["instance_count"]) == (None, 4)  # it bills what was selected
    assert flex["training_plan_arn"] == PLAN_ARN
    assert fixed["instance_preference_types"] == []
    assert (fixed["selected_instance_type"], fixed["training_plan_arn"]) == (None, None)
    assert (fixed["instance_type"], fixed["instance_count"]) == ("ml.m5.xlarge", 1)


def _plan(name: str, fee: str, hours: int) -> dict:
    return {
        "TrainingPlanArn": ARN + f"training-plan/{name}",
        "TrainingPlanName": name,
        "Status": "Active",
        "DurationHours": hours,
        "DurationMinutes": 0,
        "StartTime": START,
        "EndTime": START + timedelta(hours=hours),
        "UpfrontFee": fee,
        "CurrencyCode": "USD",
        "TotalInstanceCount": 4,
        "AvailableInstanceCount": 0,
        "InUseInstanceCount": 4,
        "TargetResources": ["training-job"],
        "ReservedCapacitySummaries": [
            {
                "ReservedCapacityArn": ARN + f"reserved-capacity/{name}-1",
                "InstanceType": "ml.p4d.24xlarge",
                "TotalInstanceCount": 4,
                "Status": "Active",
                "DurationHours": hours,
                "StartTime": START,
                "EndTime": START + timedelta(hours=hours),
            }
        ],
    }


def test_training_plans_land_their_window_fee_capacity_and_tags(aws, extract):
    plan = _plan("llm-pretrain-aug", "5277.12", 48)
    extract.stub(
        ACCOUNT,
        REGION,
        "training_plans",
        [
            ("list_training_plans", {"TrainingPlanSummaries": [plan]}, {"MaxResults": 100}),
            (
                "list_tags",
                {"Tags": [{"Key": "ml:team", "Value": "llm"}]},
                {"ResourceArn": plan["TrainingPlanArn"], "MaxResults": 50},
            ),
        ],
    )
    extract("--datasets", "training_plans")

    (row,) = landed(extract.out, "training_plans")
    assert row["training_plan_arn"] == PLAN_ARN
    start = START.replace(tzinfo=None)  # landed as UTC timestamps without a zone
    assert (row["started_at"], row["ended_at"]) == (start, start + timedelta(hours=48))
    assert (row["upfront_fee"], row["currency_code"]) == ("5277.12", "USD")
    assert (row["total_instance_count"], row["in_use_instance_count"]) == (4, 4)
    assert row["target_resources"] == ["training-job"]
    assert row["reserved_instance_types"] == ["ml.p4d.24xlarge"]
    assert dict(row["tags"]) == {"ml:team": "llm"}
