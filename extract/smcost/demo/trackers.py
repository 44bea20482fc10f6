"""A tracked experiment: the untagged training jobs (profile "none", named untitled-job-...) that their
data scientists logged to MLflow or to Weights & Biases. The demo lands what `smcost extract
--mlflow-tracking-uri` would: one experiment a model, one run a job whose tags name the model and the
team, each job linked by one of the three keys in turn (the job's MlflowConfig, a run tag naming the
job, the time window), and each model's last run registered. Every fourth job logged to W&B instead,
as W&B's SageMaker integration does (what `smcost extract --wandb-entity --wandb-project` lands): one
run per host, grouped under the job's name, its config naming the model and the team, the project
the experiment. Those jobs' owners become knowable through `mlflow` or `wandb` (ground truth). No
charge is added and nothing is drawn from the random generators: the bill and every earlier case's
numbers stay as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from smcost.demo.ledger import Block, Ledger

TRACKING_SERVER = "arn:aws:sagemaker:us-east-1:{account}:mlflow-tracking-server/acme-ml"
LINKS = ("job_mlflow_config", "run_tag", "time_window", "wandb_group")
WANDB_ENTITY = "acme-ml"


def experiment_of(model: str, suffix: str) -> str:
    return f"{model}-mlflow{suffix}"


def add_tracked_experiment(ledger: Ledger) -> None:
    owners = {
        b.charge.resource_id: b.charge.owners[0][0]
        for b in ledger.blocks
        if b.charge.resource_id and ":training-job/untitled-job-" in b.charge.resource_id
    }
    jobs = sorted(
        (r for r in ledger.meta["training_jobs"] if r["training_job_arn"] in owners),
        key=lambda r: str(r["training_job_arn"]),
    )
    experiments: dict[tuple[str, str], str] = {}
    for index, job in enumerate(jobs):
        owner = owners[str(job["training_job_arn"])]
        account = str(job["account_id"])
        acct = "prod" if account == _account(ledger, "prod") else "dev"
        server = TRACKING_SERVER.format(account=account)
        experiment = experiment_of(str(owner.model), ledger.suffix)
        link = LINKS[index % len(LINKS)]
        if link == "wandb_group":
            _log_to_wandb(ledger, job, acct, owner, f"{owner.model}-wandb{ledger.suffix}")
            continue
        experiment_id = experiments.setdefault((account, experiment), f"{len(experiments) + 1}{ledger.suffix}")
        run_id = f"run{index:04d}{ledger.suffix.replace('-', '')}"
        started = _unambiguous_start(ledger, job) if link == "time_window" else None
        if link == "time_window" and started is None:
            link = "run_tag"  # another job of its type ran then: a time-window match would be ambiguous
        started = started or cast(datetime, job["training_start_at"]) + timedelta(minutes=2)
        tags = {"ml:team": str(owner.team), "ml:model": str(owner.model), "mlflow.user": f"{owner.team}-ds"}
        params = {}
        if link == "job_mlflow_config":
            job.update(mlflow_resource_arn=server, mlflow_experiment_name=experiment, mlflow_run_id=run_id)
        elif link == "run_tag":
            tags["sagemaker.training_job_name"] = str(job["training_job_name"])
        else:
            params["instance_type"] = str(job["instance_type"])
        ledger.metadata(
            "mlflow_runs",
            acct,
            str(job["region"]),
            tracking_server=server,
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=f"{owner.model}-{index}",
            user_id=f"{owner.team}-ds",
            run_status="FINISHED",
            lifecycle_stage="active",
            started_at=started,
            ended_at=job["training_end_at"],
            tags=sorted(tags.items()),
            params=sorted(params.items()),
        )
        _make_knowable(ledger, str(job["training_job_arn"]), experiment)
    for (account, experiment), experiment_id in experiments.items():
        acct = "prod" if account == _account(ledger, "prod") else "dev"
        ledger.metadata(
            "mlflow_experiments",
            acct,
            "us-east-1",
            tracking_server=TRACKING_SERVER.format(account=account),
            experiment_id=experiment_id,
            experiment_name=experiment,
            lifecycle_stage="active",
            created_at=ledger.extracted_at - timedelta(days=90),
            last_updated_at=ledger.extracted_at,
            tags=[],
        )


def _log_to_wandb(ledger: Ledger, job: dict[str, object], acct: str, owner: Any, project: str) -> None:
    """The job's runs as W&B's SageMaker integration makes them: one per host (algo-1, algo-2, ...),
    id ``<job>-<random>-<host>``, group the job's name; the config names the owner."""
    name = str(job["training_job_name"])
    start = cast(datetime, job["training_start_at"]) + timedelta(minutes=1)
    for host in range(1, int(cast(int, job["instance_count"] or 1)) + 1):
        ledger.metadata(
            "wandb_runs",
            acct,
            str(job["region"]),
            entity=WANDB_ENTITY,
            project=project,
            run_id=f"{name}-{ledger.suffix.replace('-', '') or 'r0'}-algo-{host}",
            run_name=f"{name}-algo-{host}",
            run_group=name,
            job_type="train",
            user_name=f"{owner.team}-ds",
            run_state="finished",
            host=f"algo-{host}",
            started_at=start,
            ended_at=job["training_end_at"],
            tags=[],
            config=sorted({"ml:team": str(owner.team), "ml:model": str(owner.model)}.items()),
        )
    _make_knowable(ledger, str(job["training_job_arn"]), project, evidence="wandb")


# The window the dbt link allows before a job's start (var tracker_time_window_minutes' default).
WINDOW = timedelta(minutes=10)


def _unambiguous_start(ledger: Ledger, job: dict[str, object]) -> datetime | None:
    """A moment in the job's run when no other job of its account, region and instance type could
    claim a run started then (dbt's time-window rule: start - 10 min <= run start <= end), or None."""
    start, end = cast(datetime, job["training_start_at"]), cast(datetime, job["training_end_at"])
    scope = (job["account_id"], job["region"], job["instance_type"])
    others = [
        (cast(datetime, j["training_start_at"]) - WINDOW, cast(datetime, j["training_end_at"]))
        for j in ledger.meta["training_jobs"]
        if j is not job and (j["account_id"], j["region"], j["instance_type"]) == scope
    ]
    for moment in (start + timedelta(minutes=2), start + (end - start) / 2, end - timedelta(minutes=1)):
        if not any(lo <= moment <= hi for lo, hi in others):
            return moment
    return None


def _account(ledger: Ledger, acct: str) -> str:
    from smcost.demo.account import account_id

    return account_id(acct)


def _make_knowable(ledger: Ledger, job_arn: str, experiment: str, evidence: str = "mlflow") -> None:
    """The job's owner is now revealed by its tracker run: ground truth says so (same owner, same shares)."""
    for i, block in enumerate(ledger.blocks):
        if block.charge.resource_id == job_arn:
            owners = [(replace(o, evidence=evidence, experiment=experiment), s) for o, s in block.charge.owners]
            ledger.blocks[i] = Block(
                replace(block.charge, owners=owners),
                block.columns,
                block.start_ms,
                block.quantity,
                block.billed_rate,
                block.effective_rate,
            )
