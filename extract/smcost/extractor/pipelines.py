"""SageMaker Pipelines: pipelines, their executions, and each execution's steps with the jobs they
launched (issue 14).

The steps are the only place the API says which pipeline execution launched a training,
processing or transform job (the jobs' own Describe/Search records do not name it), so they are
what ties a job's dollars to a pipeline run and its tags to the job.

How the rows live across runs:

- ``pipelines``: a snapshot, ListPipelines plus ListTags per pipeline (a handful per account).
- ``pipeline_executions``: incremental. ListPipelineExecutions per pipeline, newest first, down to
  the watermark; an execution is described (DescribePipelineExecution: experiment config, the
  execution a selective re-run came from, LastModifiedTime) when it is new, when its status
  changed, or when the last run saw it still running. Executions the last run left running that
  no page read this time are described directly, so a long run's end is never missed.
- ``pipeline_execution_steps``: incremental, read (ListPipelineExecutionSteps) for exactly the
  executions the run above described; they replace all the steps the last run held for them.
  A terminal execution's steps cannot change, so they are read once.

API calls on a run: ⌈P/100⌉ ListPipelines + P ListTags + P ListPipelineExecutions (one page each
when fewer than 100 executions started since the watermark) + 2 per new or changed execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from smcost.extractor.kinds import INCREMENTAL, Custom, Kind, Listing, Record, Refs, Row, UnitContext, utc

# Statuses an execution can still leave; anything else is final (Succeeded, Failed, Stopped).
OPEN_STATUSES = frozenset({"Executing", "Stopping"})
# Step metadata that names a job or resource the step created, in the order a step is checked
# (a step has one): the key is what the step ran, the ARN what it launched.
LAUNCHED = (
    "TrainingJob",
    "ProcessingJob",
    "TransformJob",
    "TuningJob",
    "AutoMLJob",
    "Model",
    "RegisterModel",
    "EMR",
    "Lambda",
    "Callback",
    "Condition",
    "QualityCheck",
    "ClarifyCheck",
    "Fail",
    "Endpoint",
    "EndpointConfig",
)


def _publish_pipeline(ctx: UnitContext, row: Row) -> None:
    ctx.publish("pipelines", row["pipeline_name"])


def pipeline_executions(ctx: UnitContext) -> Iterator[Row]:
    """Executions new or changed since the watermark (see the module docstring)."""
    previous = {row["pipeline_execution_arn"]: row for row in ctx.previous()}
    seen: set[str] = set()
    for pipeline in sorted(ctx.upstream("pipelines")):
        for page in ctx.pages(
            "list_pipeline_executions",
            "PipelineExecutionSummaries",
            PipelineName=pipeline,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=100,
        ):
            reached_since = False
            for summary in page:
                arn = summary["PipelineExecutionArn"]
                seen.add(arn)
                started = utc(summary.get("StartTime"))
                if ctx.since is not None and started is not None and started < ctx.since:
                    reached_since = True
                before = previous.get(arn)
                if before is not None and before["execution_status"] not in OPEN_STATUSES:
                    if before["execution_status"] == summary.get("PipelineExecutionStatus"):
                        continue  # final and unchanged: the landed row stands
                elif before is None and reached_since:
                    continue  # older than the watermark and never landed: a backfill's job
                yield _execution_row(ctx, pipeline, arn)
            if reached_since:
                break
    for arn, before in sorted(previous.items()):
        if arn not in seen and before["execution_status"] in OPEN_STATUSES:
            yield _execution_row(ctx, before["pipeline_name"], arn)


def _execution_row(ctx: UnitContext, pipeline: str, arn: str) -> Row:
    record = ctx.call("describe_pipeline_execution", PipelineExecutionArn=arn)
    ctx.publish("pipeline_executions", arn)
    experiment = record.get("PipelineExperimentConfig") or {}
    return {
        "pipeline_execution_arn": arn,
        "pipeline_arn": record.get("PipelineArn"),
        "pipeline_name": pipeline,
        "execution_display_name": record.get("PipelineExecutionDisplayName"),
        "execution_status": record.get("PipelineExecutionStatus"),
        "failure_reason": record.get("FailureReason") or None,
        "experiment_name": experiment.get("ExperimentName"),
        "trial_name": experiment.get("TrialName"),
        "source_execution_arn": (record.get("SelectiveExecutionConfig") or {}).get("SourcePipelineExecutionArn"),
        "created_at": utc(record.get("CreationTime")),
        "last_modified_at": utc(record.get("LastModifiedTime")),
        "extracted_at": ctx.until,
    }


def pipeline_execution_steps(ctx: UnitContext) -> Iterator[Row]:
    """Every step (and attempt) of the executions described in this run, with what it launched."""
    for arn in sorted(ctx.upstream("pipeline_executions")):
        ctx.gone((arn,))  # the steps read now replace every step the last run held for it
        attempts: dict[str, int] = {}
        # Oldest first, so a step listed once per attempt numbers its attempts in order.
        for step in ctx.items(
            "list_pipeline_execution_steps",
            "PipelineExecutionSteps",
            PipelineExecutionArn=arn,
            SortOrder="Ascending",
            MaxResults=100,
        ):
            yield _step_row(ctx, arn, step, attempts)


def _step_row(ctx: UnitContext, arn: str, step: Record, attempts: dict[str, int]) -> Row:
    name = step["StepName"]
    attempts[name] = attempts.get(name, 0) + 1
    metadata = step.get("Metadata") or {}
    kind = next((k for k in LAUNCHED if k in metadata), None)
    launched: Any = metadata.get(kind) if kind else None
    return {
        "pipeline_execution_arn": arn,
        "step_name": name,
        # AttemptCount where the API gives it; else the order the listing returned the step in.
        "attempt": int(step.get("AttemptCount") or attempts[name]),
        "step_display_name": step.get("StepDisplayName"),
        "step_type": kind,
        "step_status": step.get("StepStatus"),
        "failure_reason": step.get("FailureReason") or None,
        "job_arn": launched.get("Arn") if isinstance(launched, dict) else None,
        "cache_source_execution_arn": (step.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn"),
        "started_at": utc(step.get("StartTime")),
        "ended_at": utc(step.get("EndTime")),
        "extracted_at": ctx.until,
    }


KINDS = [
    Kind(
        "pipelines",
        Listing("list_pipelines", "PipelineSummaries", arn="PipelineArn", refs=Refs(fresh=_publish_pipeline)),
    ),
    Kind(
        "pipeline_executions",
        Custom(
            pipeline_executions,
            (
                "sagemaker:list_pipeline_executions",
                "sagemaker:describe_pipeline_execution",
            ),
            "ListPipelineExecutions per pipeline, newest first, down to the watermark; "
            "DescribePipelineExecution for each new or changed one and each one left running",
        ),
        history=INCREMENTAL,
        needs=("pipelines",),
    ),
    Kind(
        "pipeline_execution_steps",
        Custom(
            pipeline_execution_steps,
            ("sagemaker:list_pipeline_execution_steps",),
            "ListPipelineExecutionSteps for each execution read in this run (its steps replace the last run's)",
        ),
        history=INCREMENTAL,
        replaces=("pipeline_execution_arn",),
        needs=("pipeline_executions",),
    ),
]
