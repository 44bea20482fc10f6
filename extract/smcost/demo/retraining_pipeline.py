"""A nightly retraining pipeline (SageMaker Pipelines) and an experiment's untagged data-prep job.

The pipeline ``fraud-nightly-retrain`` (production) runs weekly: a processing step (untagged, under
the data-prep role), a training step (tagged), a model step and a batch transform (untagged). Only
the pipeline's tags, or the tagged training job of the same execution, say whose the untagged
steps are. One execution fails in its training step; one is retried (its training step's first
attempt fails, the second succeeds), so its cost holds a failed attempt's.

Beside it, in development: an experiment nobody tagged, whose trial holds a tagged training job
and the untagged processing job that prepared its data under the shared data-prep role. Only the
sibling in the same trial reveals the processing job's model and team.

Deterministic: no draws from ledger.rng (the cases before it keep their numbers), about $20 a month.
"""

from __future__ import annotations

from dataclasses import dataclass

from smcost.demo.account import PRICES, arn, ecr_uri, features_bucket, role_arn, short_hash
from smcost.demo.clock import DAY_MS, HOUR_MS, overlap_hours, utc
from smcost.demo.ledger import Charge, Ledger, Owner, only
from smcost.demo.training_jobs import TrainingJob, add_training_job

MODEL, TEAM = "fraud-xgb", "fraud"
PIPELINE = "fraud-nightly-retrain"
PREP_INSTANCE, TRAIN_INSTANCE, SCORE_INSTANCE = "ml.m5.xlarge", "ml.g5.2xlarge", "ml.m5.xlarge"
MINUTE_MS = 60_000
RUN_DAYS = (4, 11, 18, 25)  # each month, at 02:00 UTC
# (month index, run day) -> what went wrong: the training step failed, or failed once and was retried.
FAILED, RETRIED = (1, 11), (1, 18)


@dataclass(frozen=True)
class Step:
    name: str
    attempt: int
    step_type: str
    status: str
    job_arn: str | None
    start: int
    end: int


def add_retraining_pipeline(ledger: Ledger) -> None:
    """The pipeline, its executions over the months, and the experiment's data-prep sibling."""
    sfx = ledger.suffix
    pipeline = f"{PIPELINE}{sfx}"
    pipeline_arn = arn("prod", "us-east-1", "pipeline", pipeline)
    ledger.metadata(
        "pipelines",
        "prod",
        "us-east-1",
        pipeline_arn=pipeline_arn,
        pipeline_name=pipeline,
        pipeline_display_name="Fraud XGBoost nightly retrain",
        role_arn=role_arn("prod", "fraud-sagemaker-pipelines"),
        created_at=utc(ledger.t0 - 60 * DAY_MS),
        last_modified_at=utc(ledger.t0 - 60 * DAY_MS),
        last_execution_at=utc(ledger.t1 - HOUR_MS),
        tags={"ml:team": TEAM, "ml:model": MODEL, "ml:environment": "production"},
    )
    for m_index, month in enumerate(ledger.months[:-1]):
        for day in RUN_DAYS:
            _add_execution(ledger, pipeline, pipeline_arn, month + (day - 1) * DAY_MS + 2 * HOUR_MS, (m_index, day))
    _add_experiment_siblings(ledger)


def _add_execution(ledger: Ledger, pipeline: str, pipeline_arn: str, start: int, when: tuple[int, int]) -> None:
    sfx = ledger.suffix
    execution_id = short_hash(pipeline, start)[:12]
    execution_arn = f"{pipeline_arn}/execution/{execution_id}"
    truth = Owner(MODEL, TEAM, pipeline, "production", "metadata")  # the untagged steps: through the pipeline
    steps: list[Step] = []

    prep_name = f"pipelines-{execution_id}-preparedata-{short_hash(execution_id, 'prep')[:6]}{sfx}"
    prep_start, prep_end = start + 5 * MINUTE_MS, start + 45 * MINUTE_MS
    # The training step reads what the processing step wrote, a prefix of the pipeline's own: not the
    # shared transactions/v5/ prefix whose storage the neighbours' truth splits among the models that
    # read it (booked before this case, so it knows nothing of these jobs).
    prepared = f"s3://{features_bucket('prod', sfx)}/{PIPELINE}/{execution_id}/train/"
    prep_arn = _processing_job(ledger, "prod", prep_name, prep_start, prep_end, pipeline, execution_id, truth, prepared)
    steps.append(Step("PrepareData", 1, "ProcessingJob", "Succeeded", prep_arn, prep_start - MINUTE_MS, prep_end))

    attempts = [(1, "Failed", 20)] if when == FAILED else [(1, "Failed", 30), (2, "Succeeded", 90)]
    if when not in (FAILED, RETRIED):
        attempts = [(1, "Succeeded", 90)]
    train_start = prep_end + 5 * MINUTE_MS
    for attempt, status, minutes in attempts:
        name = f"pipelines-{execution_id}-trainmodel-{short_hash(execution_id, 'train', attempt)[:6]}{sfx}"
        job = TrainingJob(
            acct="prod",
            name=name,
            model=MODEL,
            team=TEAM,
            groups=[("main", TRAIN_INSTANCE, 1)],
            start=train_start,
            seconds=minutes * 60,
            billable=minutes * 60,
            profile="bill",
            experiment=pipeline,
            trial=execution_id,
            checkpoints=False,
        )
        add_training_job(ledger, job)
        if status == "Failed":  # add_training_job books a completed job; this attempt failed
            ledger.meta["training_jobs"][-1]["training_job_status"] = "Failed"
        ledger.meta["training_jobs"][-1]["input_s3_uris"] = [prepared]
        job_arn = arn("prod", "us-east-1", "training-job", name)
        steps.append(Step("TrainModel", attempt, "TrainingJob", status, job_arn, train_start - MINUTE_MS, job.end))
        train_start = job.end + 5 * MINUTE_MS
    status = "Failed" if when == FAILED else "Succeeded"

    end = train_start
    if status == "Succeeded":
        model_name = f"pipelines-{execution_id}-createmodel-{short_hash(execution_id, 'model')[:6]}{sfx}"
        model_arn = arn("prod", "us-east-1", "model", model_name)
        steps.append(Step("CreateModel", 1, "Model", "Succeeded", model_arn, train_start, train_start + MINUTE_MS))
        score_start, score_end = train_start + 2 * MINUTE_MS, train_start + 32 * MINUTE_MS
        score_name = f"pipelines-{execution_id}-scoreholdout-{short_hash(execution_id, 'score')[:6]}{sfx}"
        score_arn = _transform_job(
            ledger, score_name, model_name, score_start, score_end, pipeline, execution_id, truth
        )
        steps.append(
            Step("ScoreHoldout", 1, "TransformJob", "Succeeded", score_arn, score_start - MINUTE_MS, score_end)
        )
        end = score_end

    ledger.metadata(
        "pipeline_executions",
        "prod",
        "us-east-1",
        pipeline_execution_arn=execution_arn,
        pipeline_arn=pipeline_arn,
        pipeline_name=pipeline,
        execution_display_name=f"nightly-{utc(start):%Y%m%d}{sfx}",
        execution_status=status,
        failure_reason="Step failure: One or multiple steps failed." if status == "Failed" else None,
        experiment_name=pipeline,
        trial_name=execution_id,
        source_execution_arn=None,
        created_at=utc(start),
        last_modified_at=utc(end),
    )
    for step in steps:
        ledger.metadata(
            "pipeline_execution_steps",
            "prod",
            "us-east-1",
            pipeline_execution_arn=execution_arn,
            step_name=step.name,
            attempt=step.attempt,
            step_display_name=None,
            step_type=step.step_type,
            step_status=step.status,
            failure_reason="AlgorithmError: training diverged (loss is NaN)" if step.status == "Failed" else None,
            job_arn=step.job_arn,
            cache_source_execution_arn=None,
            started_at=utc(step.start),
            ended_at=utc(step.end),
        )


def _processing_job(
    ledger: Ledger, acct: str, name: str, start: int, end: int, experiment: str, trial: str, truth: Owner, output: str
) -> str:
    """An untagged processing job on one instance, under the shared data-prep role."""
    job_arn = arn(acct, "us-east-1", "processing-job", name)
    hours = ledger.hours(start, end)
    ledger.charge(
        Charge(
            acct=acct,
            region="us-east-1",
            resource_id=job_arn,
            usage=f"Processing:{PREP_INSTANCE}",
            start_ms=hours,
            quantity=overlap_hours(hours, start, end),
            unit="Hrs",
            list_rate=PRICES[PREP_INSTANCE],
            owners=only(truth),
            operation="Processing",
        )
    )
    ledger.metadata(
        "processing_jobs",
        acct,
        "us-east-1",
        processing_job_arn=job_arn,
        processing_job_name=name,
        processing_job_status="Completed",
        created_at=utc(start - MINUTE_MS),
        processing_start_at=utc(start),
        processing_end_at=utc(end),
        role_arn=role_arn(acct, "shared-dataprep-role"),
        instance_type=PREP_INSTANCE,
        instance_count=1,
        image_uri=ecr_uri(acct, "us-east-1", f"dataprep{ledger.suffix}:3"),
        input_s3_uris=[],
        output_s3_uris=[output],
        experiment_name=experiment,
        trial_name=trial,
        training_job_arn=None,
        monitoring_schedule_arn=None,
        tags={},
    )
    return job_arn


def _transform_job(
    ledger: Ledger, name: str, model_name: str, start: int, end: int, experiment: str, trial: str, truth: Owner
) -> str:
    """An untagged batch transform of the model the pipeline's model step created (untagged too)."""
    job_arn = arn("prod", "us-east-1", "transform-job", name)
    hours = ledger.hours(start, end)
    ledger.charge(
        Charge(
            acct="prod",
            region="us-east-1",
            resource_id=job_arn,
            usage=f"Tsform:{SCORE_INSTANCE}",
            start_ms=hours,
            quantity=overlap_hours(hours, start, end),
            unit="Hrs",
            list_rate=PRICES[SCORE_INSTANCE],
            owners=only(truth),
            operation="Transform",
        )
    )
    ledger.metadata(
        "transform_jobs",
        "prod",
        "us-east-1",
        transform_job_arn=job_arn,
        transform_job_name=name,
        transform_job_status="Completed",
        created_at=utc(start - MINUTE_MS),
        transform_start_at=utc(start),
        transform_end_at=utc(end),
        model_name=model_name,
        input_s3_uri=None,
        output_s3_uri=None,
        instance_type=SCORE_INSTANCE,
        instance_count=1,
        experiment_name=experiment,
        trial_name=trial,
        tags={},
    )
    return job_arn


def _add_experiment_siblings(ledger: Ledger) -> None:
    """An untagged experiment's trial: a tagged training job and its untagged data-prep job."""
    sfx = ledger.suffix
    experiment, trial = f"ltv-ablation{sfx}", f"ltv-ablation-features-v2{sfx}"
    model, team = "ltv-model", "growth"
    created = ledger.t0 + 9 * DAY_MS
    ledger.metadata(
        "experiments",
        "dev",
        "us-east-1",
        experiment_arn=arn("dev", "us-east-1", "experiment", experiment),
        experiment_name=experiment,
        created_at=utc(created),
        tags={},
    )
    ledger.metadata(
        "trials",
        "dev",
        "us-east-1",
        trial_arn=arn("dev", "us-east-1", "experiment-trial", trial),
        trial_name=trial,
        experiment_name=experiment,
        created_at=utc(created),
        tags={},
    )
    start = created + 3 * HOUR_MS
    truth = Owner(model, team, experiment, "development", "metadata")
    prepared = f"s3://{features_bucket('dev', sfx)}/{experiment}/features-v2/"  # its own prefix, as above
    _processing_job(
        ledger, "dev", f"ltv-features-v2-prep{sfx}", start, start + 2 * HOUR_MS, experiment, trial, truth, prepared
    )
    add_training_job(
        ledger,
        TrainingJob(
            acct="dev",
            name=f"ltv-features-v2-train{sfx}",
            model=model,
            team=team,
            groups=[("main", "ml.m5.2xlarge", 1)],
            start=start + 2 * HOUR_MS + 10 * MINUTE_MS,
            seconds=2 * 3600,
            billable=2 * 3600,
            profile="api_only",
            experiment=experiment,
            trial=trial,
            checkpoints=False,
        ),
    )
    ledger.meta["training_jobs"][-1]["input_s3_uris"] = [prepared]
