"""Training: every model's experiment and monthly trial; four jobs a model a month (on-demand or
spot, tagged by one of the tagging profiles, the fourth a production retrain), one with a warm
pool; a heterogeneous-cluster job; and a hyperparameter tuning job whose children carry no tags."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smcost.demo.account import (
    EVIDENCE, GENERIC_ROLE, MODELS, PRICES, REGIONS, SPOT_DISCOUNT, TAG_PROFILES, Tags, arn, ecr_uri,
    environment, experiment_name, role_arn, short_hash, tags_for, trial_name,
)  # fmt: skip
from smcost.demo.clock import DAY_MS, HOUR_MS, Floats, Millis, overlap_hours, utc
from smcost.demo.ledger import Charge, Ledger, Owner, only

InstanceGroup = tuple[str, str, int]  # (group name, instance type, instance count)


@dataclass(frozen=True)
class TrainingJob:
    acct: str
    region: str
    name: str
    model: str
    team: str
    groups: list[InstanceGroup]  # a plain job has one group, "main"
    start: int
    seconds: int
    billable: int  # spot bills only these seconds
    spot: bool
    profile: str  # how it is tagged: see TAG_PROFILES
    experiment: str | None
    trial: str | None
    tuning_job_arn: str | None = None
    warm_pool: int = 0  # seconds the instances stay retained after the job
    owner: Owner | None = None  # default: the model's owner, known by the profile's evidence

    @property
    def end(self) -> int:
        return self.start + self.seconds * 1000

    @property
    def instance_count(self) -> int:
        return sum(g[2] for g in self.groups)


def add_experiments_and_trials(ledger: Ledger) -> None:
    for model, (team, _, _) in MODELS.items():
        name = experiment_name(model, ledger.suffix)
        # Experiments carry API-side tags: the link that resolves untagged jobs run inside them.
        # Experiments are per account: development runs and production retrains each have one.
        for acct in ("dev", "prod"):
            ledger.metadata(
                "experiments", acct, "us-east-1", experiment_arn=arn(acct, "us-east-1", "experiment", name),
                experiment_name=name, created_at=utc(ledger.t0 - 30 * DAY_MS), tags={"ml:team": team, "ml:model": model},
            )  # fmt: skip


def add_training(ledger: Ledger) -> None:
    for m_index, month in enumerate(ledger.months[:-1]):
        month_end = ledger.months[m_index + 1]
        for model in MODELS:
            trial = trial_name(model, month, ledger.suffix)
            for acct in ("dev", "prod"):
                ledger.metadata(
                    "trials", acct, "us-east-1", trial_arn=arn(acct, "us-east-1", "experiment-trial", trial),
                    trial_name=trial, experiment_name=experiment_name(model, ledger.suffix), created_at=utc(month),
                    tags={},
                )  # fmt: skip
            for k in range(4):
                add_training_job(ledger, _draw_job(ledger, model, k, month, month_end))
        _add_heterogeneous_job(ledger, month)
        _add_tuning_job(ledger, month)


def _draw_job(ledger: Ledger, model: str, k: int, month: int, month_end: int) -> TrainingJob:
    """The k-th job of a model in a month, drawn at random (the monthly retrain, k == 3, in production)."""
    rng = ledger.rng
    team, instance, (h_lo, h_hi) = MODELS[model]
    profiles, weights = zip(*TAG_PROFILES)
    profile = str(rng.choice(profiles, p=weights))
    acct = "prod" if k == 3 else "dev"
    start = month + int(rng.integers(0, (month_end - month) // HOUR_MS - 24)) * HOUR_MS + int(rng.integers(0, 60)) * 60_000
    seconds = int(rng.uniform(h_lo, h_hi) * 3600)
    spot = bool(rng.random() < 0.4)
    billable = int(seconds * rng.uniform(0.55, 0.85)) if spot else seconds
    count = int(rng.choice([1, 1, 2]))
    name = f"{model}-train-{utc(start):%Y%m%d-%H%M}-{k}{ledger.suffix}"
    if profile == "none":
        name = f"untitled-job-{short_hash(model, start, ledger.suffix)}"
    in_experiment = profile in ("bill", "drift", "api_only", "experiment")
    return TrainingJob(
        acct, "us-east-1", name, model, team, [("main", instance, count)], start, seconds, billable, spot, profile,
        experiment_name(model, ledger.suffix) if in_experiment else None,
        trial_name(model, month, ledger.suffix) if in_experiment else None,
        warm_pool=7200 if (model == "fraud-gnn" and k == 0) else 0,
    )  # fmt: skip


def add_training_job(ledger: Ledger, job: TrainingJob) -> None:
    """A training job's bill (instance hours per group, warm pool, volume) and its metadata."""
    env = environment(job.acct)
    job_arn = arn(job.acct, job.region, "training-job", job.name)
    bill_tags, api_tags = tags_for(job.profile, job.model, job.team, job.experiment, env)
    owner = job.owner or Owner(job.model, job.team, job.experiment, env, EVIDENCE[job.profile])
    for _, instance, count in job.groups:
        _bill_instance_hours(ledger, job, job_arn, instance, count, bill_tags, owner)
    # The training volume: ML storage, GB-months pro-rated to the job's duration.
    gb_month = 50 * job.instance_count * job.seconds / (730 * 3600)
    ledger.charge(Charge(
        job.acct, job.region, job_arn, "Train:VolumeUsage.gp2", "AmazonSageMaker", [job.start // HOUR_MS * HOUR_MS],
        [gb_month], "GB-Mo", 0.14, owners=only(owner), bill_tags=bill_tags, operation="Training",
    ))  # fmt: skip
    _land_metadata(ledger, job, job_arn, api_tags)


def _bill_instance_hours(ledger: Ledger, job: TrainingJob, job_arn: str, instance: str, count: int,
                         bill_tags: Tags, owner: Owner) -> None:  # fmt: skip
    start, end, pool_end = job.start, job.end, job.end + job.warm_pool * 1000
    hours = ledger.hours(start, end)
    # Spot bills only the billable seconds: spread them evenly over the hours the job ran.
    quantity = overlap_hours(hours, start, end) * (job.billable / job.seconds) * count
    if job.warm_pool and not job.spot:
        # Warm-pool retained time bills as the same usage type: one bill line per hour, so
        # the hour the job ends carries both its last compute and the pool's first minutes.
        pool_hours = ledger.hours(end, pool_end)
        hours, quantity = _merge_hours(hours, quantity, pool_hours, overlap_hours(pool_hours, end, pool_end) * count)
    rate = PRICES[instance] * REGIONS[job.region][2]
    ledger.charge(Charge(
        job.acct, job.region, job_arn, f"TrSpt:{instance}" if job.spot else f"Train:{instance}", "AmazonSageMaker",
        hours, quantity, "Hrs", rate, owners=only(owner), bill_tags=bill_tags,
        pricing="Dynamic" if job.spot else "Standard", billed_rate=rate * SPOT_DISCOUNT if job.spot else None,
        operation="Training",
    ))  # fmt: skip
    if job.warm_pool and job.spot:  # a spot job's pool bills on-demand: its own Train: line
        pool_hours = ledger.hours(end, pool_end)
        ledger.charge(Charge(
            job.acct, job.region, job_arn, f"Train:{instance}", "AmazonSageMaker", pool_hours,
            overlap_hours(pool_hours, end, pool_end) * count, "Hrs", rate, owners=only(owner), bill_tags=bill_tags,
            operation="Training", description=f"Warm pool retained {instance}",
        ))  # fmt: skip


def _merge_hours(hours: Millis, quantity: Floats, more_hours: Millis, more: Floats) -> tuple[Millis, Floats]:
    """Two hourly series as one, summed where their hours meet."""
    merged = np.union1d(hours, more_hours)
    total = np.zeros(len(merged))
    np.add.at(total, np.searchsorted(merged, hours), quantity)
    np.add.at(total, np.searchsorted(merged, more_hours), more)
    return merged, total


def _land_metadata(ledger: Ledger, job: TrainingJob, job_arn: str, api_tags: Tags) -> None:
    groups = job.groups
    role = GENERIC_ROLE if job.profile == "none" else f"{job.team}-sagemaker-training"
    ledger.metadata(
        "training_jobs", job.acct, job.region, training_job_arn=job_arn, training_job_name=job.name,
        training_job_status="Completed", created_at=utc(job.start - 120_000), last_modified_at=utc(job.end + 60_000),
        training_start_at=utc(job.start), training_end_at=utc(job.end), role_arn=role_arn(job.acct, role),
        instance_type=None if len(groups) > 1 else groups[0][1], instance_count=job.instance_count,
        instance_groups=[{"instance_group_name": g, "instance_type": t, "instance_count": c} for g, t, c in groups]
        if len(groups) > 1 else None,
        training_seconds=job.seconds, billable_seconds=job.billable, is_managed_spot=job.spot,
        warm_pool_retained_billable_seconds=job.warm_pool or None, tuning_job_arn=job.tuning_job_arn,
        experiment_name=job.experiment, trial_name=job.trial, run_name=f"{job.name}-run" if job.experiment else None,
        model_artifact_s3_uri=f"s3://acme-ml-artifacts-{job.acct}/{job.model}/{job.name}/output/model.tar.gz",
        training_image=ecr_uri(job.acct, job.region, f"{job.model}-train:latest"), tags=api_tags,
    )  # fmt: skip
    if job.experiment:
        component = f"{job.name}-aws-training-job"
        ledger.metadata(
            "trial_components", job.acct, job.region,
            trial_component_arn=arn(job.acct, job.region, "experiment-trial-component", component),
            trial_component_name=component, trial_name=job.trial, experiment_name=job.experiment, source_arn=job_arn,
            source_type="SageMakerTrainingJob", created_at=utc(job.start), tags={},
        )  # fmt: skip


def _add_heterogeneous_job(ledger: Ledger, month: int) -> None:
    """recsys-two-tower trains on two instance groups: GPU workers and CPU data loaders."""
    model, team = "recsys-two-tower", "recsys"
    groups = [("gpu-workers", "ml.g5.12xlarge", 2), ("data-loaders", "ml.c5.4xlarge", 4)]
    add_training_job(ledger, TrainingJob(
        "prod", "us-east-1", f"recsys-two-tower-hetero-{utc(month):%Y%m}{ledger.suffix}", model, team, groups,
        month + 9 * DAY_MS + 3 * HOUR_MS, 5 * 3600, 5 * 3600, False, "bill", experiment_name(model, ledger.suffix),
        trial_name(model, month, ledger.suffix),
    ))  # fmt: skip


def _add_tuning_job(ledger: Ledger, month: int) -> None:
    """search-ranker's monthly HPO: six children that carry no tags of their own."""
    model, team = "search-ranker", "search"
    tuning = f"search-hpo-{utc(month):%Y%m}{ledger.suffix}"
    tuning_arn = arn("dev", "us-east-1", "hyper-parameter-tuning-job", tuning)
    start = month + 14 * DAY_MS
    ledger.metadata(
        "tuning_jobs", "dev", "us-east-1", tuning_job_arn=tuning_arn, tuning_job_name=tuning,
        tuning_job_status="Completed", created_at=utc(start), ended_at=utc(start + 20 * HOUR_MS),
        strategy="Bayesian", max_training_jobs=6,
        tags={"ml:team": team, "ml:model": model, "ml:environment": "development"},
    )  # fmt: skip
    # Only the parent tuning job knows the owner.
    owner = Owner(model, team, None, "development", "metadata")
    for child in range(6):
        add_training_job(ledger, TrainingJob(
            "dev", "us-east-1", f"{tuning}-{child + 1:03d}-{short_hash(tuning, child)}", model, team,
            [("main", "ml.g5.2xlarge", 1)], start + child * 3 * HOUR_MS, 2 * 3600 + 600, 2 * 3600 + 600, False,
            "experiment", None, None, tuning_job_arn=tuning_arn, owner=owner,
        ))  # fmt: skip

