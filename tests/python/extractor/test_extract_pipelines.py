"""SageMaker Pipelines over moto: pipelines with their tags, executions incrementally, and each
execution's steps with the jobs they launched.

moto implements CreatePipeline, StartPipelineExecution, ListPipelines, ListPipelineExecutions,
DescribePipelineExecution and ListTags on pipelines, so those are real HTTP calls to its server.
It has no ListPipelineExecutionSteps: the steps come from botocore's Stubber, which checks every
request and response against the real API model (harness.MOTO_LACKS). An execution's status is
set on moto's backend object, as AWS would move it.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

from extractor import moto_gaps
from extractor.extract_scenario import ACCOUNT, ARN, REGION, ROLE
from extractor.harness import landed

DEFINITION = json.dumps({"Version": "2020-12-01", "Steps": []})
STEP_START = datetime(2026, 8, 3, 2, 0, tzinfo=timezone.utc)


def _pipeline(sm, name: str, tags: dict[str, str]) -> None:
    sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=DEFINITION,
        RoleArn=ROLE + "pipelines",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def _execution(sm, pipeline: str, display: str) -> str:
    arn: str = sm.start_pipeline_execution(PipelineName=pipeline, PipelineExecutionDisplayName=display)[
        "PipelineExecutionArn"
    ]
    return arn


def _set_status(pipeline: str, arn: str, status: str) -> None:
    moto_gaps.sagemaker(REGION).pipelines[pipeline].pipeline_executions[arn].pipeline_execution_status = status


def _step(name: str, kind: str | None, job: str | None, status: str, attempt: int, minutes: int) -> dict:
    started = STEP_START + timedelta(minutes=minutes)
    step = {
        "StepName": name,
        "StepStatus": status,
        "StartTime": started,
        "EndTime": started + timedelta(minutes=20),
        "AttemptCount": attempt,
    }
    if kind:
        step["Metadata"] = {kind: {"Arn": job} if job else {"Outcome": "True"}}
    if status == "Failed":
        step["FailureReason"] = "AlgorithmError: out of memory"
    return step


def _steps_call(execution_arn: str, steps: list[dict]) -> tuple[str, dict, dict]:
    return (
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": steps},
        {"PipelineExecutionArn": execution_arn, "SortOrder": "Ascending", "MaxResults": 100},
    )


PREP = ARN + "processing-job/pipelines-abc-prep-1"
TRAIN_FAILED = ARN + "training-job/pipelines-abc-train-1"
TRAIN = ARN + "training-job/pipelines-abc-train-2"
MODEL = ARN + "model/pipelines-abc-model-1"


def _retried_steps() -> list[dict]:
    """Prep, a training step that failed once and succeeded on its retry, a condition, a model."""
    return [
        _step("Prep", "ProcessingJob", PREP, "Succeeded", 1, 0),
        _step("Train", "TrainingJob", TRAIN_FAILED, "Failed", 1, 20),
        _step("Train", "TrainingJob", TRAIN, "Succeeded", 2, 40),
        _step("CheckAccuracy", "Condition", None, "Succeeded", 1, 60),
        _step("CreateModel", "Model", MODEL, "Succeeded", 1, 61),
    ]


def _calls(result) -> Counter:
    return Counter(result.manifest["api_calls"])


def test_pipelines_executions_and_steps_land_with_tags_status_and_launched_jobs(aws, extract):
    sm = aws.client("sagemaker")
    _pipeline(sm, "nightly-retrain", {"ml:team": "fraud", "ml:model": "fraud-xgb"})
    retried = _execution(sm, "nightly-retrain", "night-1")
    failed = _execution(sm, "nightly-retrain", "night-2")
    _set_status("nightly-retrain", failed, "Failed")
    extract.stub(
        ACCOUNT,
        REGION,
        "pipeline_execution_steps",
        # The extractor reads executions in ARN order; ids are random, so queue the calls that way.
        [
            _steps_call(arn, steps)
            for arn, steps in sorted(
                {retried: _retried_steps(), failed: [_step("Prep", "ProcessingJob", PREP, "Failed", 1, 0)]}.items()
            )
        ],
    )
    extract("--datasets", "pipeline_execution_steps")

    (pipeline,) = landed(extract.out, "pipelines")
    assert (pipeline["pipeline_name"], pipeline["role_arn"], dict(pipeline["tags"])) == (
        "nightly-retrain",
        ROLE + "pipelines",
        {"ml:team": "fraud", "ml:model": "fraud-xgb"},
    )
    executions = {e["pipeline_execution_arn"]: e for e in landed(extract.out, "pipeline_executions")}
    assert {arn: (e["execution_display_name"], e["execution_status"]) for arn, e in executions.items()} == {
        retried: ("night-1", "Succeeded"),
        failed: ("night-2", "Failed"),
    }
    assert {e["pipeline_arn"] for e in executions.values()} == {pipeline["pipeline_arn"]}
    assert all(e["created_at"] is not None and e["last_modified_at"] is not None for e in executions.values())

    steps = {
        (s["pipeline_execution_arn"], s["step_name"], s["attempt"]): s
        for s in landed(extract.out, "pipeline_execution_steps")
    }
    assert {k: (s["step_type"], s["step_status"], s["job_arn"]) for k, s in steps.items() if k[0] == retried} == {
        (retried, "Prep", 1): ("ProcessingJob", "Succeeded", PREP),
        (retried, "Train", 1): ("TrainingJob", "Failed", TRAIN_FAILED),
        (retried, "Train", 2): ("TrainingJob", "Succeeded", TRAIN),
        (retried, "CheckAccuracy", 1): ("Condition", "Succeeded", None),
        (retried, "CreateModel", 1): ("Model", "Succeeded", MODEL),
    }
    assert steps[(retried, "Train", 1)]["failure_reason"] == "AlgorithmError: out of memory"
    assert steps[(retried, "Train", 2)]["started_at"] == (STEP_START + timedelta(minutes=40)).replace(tzinfo=None)
    assert steps[(failed, "Prep", 1)]["step_status"] == "Failed"


def test_a_nightly_run_reads_only_new_executions_and_the_ones_left_running(aws, extract):
    sm = aws.client("sagemaker")
    _pipeline(sm, "nightly-retrain", {"ml:team": "fraud"})
    done = _execution(sm, "nightly-retrain", "night-1")
    running = _execution(sm, "nightly-retrain", "night-2")
    _set_status("nightly-retrain", running, "Executing")
    extract.stub(
        ACCOUNT,
        REGION,
        "pipeline_execution_steps",
        [
            _steps_call(arn, steps)
            for arn, steps in sorted(
                {
                    done: _retried_steps(),
                    running: [_step("Prep", "ProcessingJob", PREP, "Executing", 1, 0)],
                }.items()
            )
        ],
    )
    first = extract("--datasets", "pipeline_execution_steps", "--extract-date", "2026-08-03")

    # Overnight: the running one finished, a new one started; the finished one did not change.
    _set_status("nightly-retrain", running, "Succeeded")
    new = _execution(sm, "nightly-retrain", "night-3")
    extract.stub(
        ACCOUNT,
        REGION,
        "pipeline_execution_steps",
        [
            _steps_call(arn, steps)
            for arn, steps in sorted(
                {
                    running: [
                        _step("Prep", "ProcessingJob", PREP, "Succeeded", 1, 0),
                        _step("Train", "TrainingJob", TRAIN, "Succeeded", 1, 20),
                    ],
                    new: [_step("Prep", "ProcessingJob", PREP, "Executing", 1, 0)],
                }.items()
            )
        ],
    )
    second = extract("--datasets", "pipeline_execution_steps", "--extract-date", "2026-08-04")

    assert _calls(first)["sagemaker:DescribePipelineExecution"] == 2
    assert _calls(first)["sagemaker:ListPipelineExecutionSteps"] == 2
    # The unchanged, finished execution is neither described nor listed again.
    assert _calls(second)["sagemaker:DescribePipelineExecution"] == 2
    assert _calls(second)["sagemaker:ListPipelineExecutionSteps"] == 2
    executions = {
        e["pipeline_execution_arn"]: e["execution_status"] for e in landed(extract.out, "pipeline_executions")
    }
    assert executions == {done: "Succeeded", running: "Succeeded", new: "Succeeded"}
    steps = Counter(s["pipeline_execution_arn"] for s in landed(extract.out, "pipeline_execution_steps"))
    # The finished one's steps kept, the formerly running one's replaced by what it ran in the end.
    assert steps == {done: 5, running: 2, new: 1}


def test_api_calls_grow_by_two_per_new_execution_and_stay_flat_when_nothing_changed(aws, extract):
    """The cost of a run, in calls: 1 ListPipelines + 1 ListTags + 1 ListPipelineExecutions per
    pipeline, and DescribePipelineExecution + ListPipelineExecutionSteps per new execution."""
    sm = aws.client("sagemaker")
    _pipeline(sm, "nightly-retrain", {})
    arns = [_execution(sm, "nightly-retrain", f"night-{n}") for n in range(30)]
    extract.stub(ACCOUNT, REGION, "pipeline_execution_steps", [_steps_call(a, _retried_steps()) for a in sorted(arns)])
    first = _calls(extract("--datasets", "pipeline_execution_steps", "--extract-date", "2026-08-03"))
    again = _calls(extract("--datasets", "pipeline_execution_steps", "--extract-date", "2026-08-04"))
    pipeline_calls = {k: v for k, v in first.items() if "Pipeline" in k or k == "sagemaker:ListTags"}
    assert pipeline_calls == {
        "sagemaker:ListPipelines": 1,
        "sagemaker:ListTags": 1,
        "sagemaker:ListPipelineExecutions": 1,
        "sagemaker:DescribePipelineExecution": 30,
        "sagemaker:ListPipelineExecutionSteps": 30,
    }
    assert {k: v for k, v in again.items() if "Pipeline" in k or k == "sagemaker:ListTags"} == {
        "sagemaker:ListPipelines": 1,
        "sagemaker:ListTags": 1,
        "sagemaker:ListPipelineExecutions": 1,
    }
    assert len(landed(extract.out, "pipeline_execution_steps")) == 30 * 5
