"""A training job as the bill and the API show it: instance hours per instance group (spot bills
only its billable seconds; hours on a training plan's reserved capacity bill nothing, the plan's
fee paid for them, and carry the fee amortised as their effective cost, as FOCUS has prepaid
purchases), warm-pool retained time under its own usage type (TrainWarmPool), the
training volume, and its metadata rows (the job, and its trial component when it ran in an
experiment)."""

from __future__ import annotations

from dataclasses import dataclass

from smcost.demo.account import (
    CHECKPOINTING,
    EVIDENCE,
    FSX_MODELS,
    GENERIC_ROLE,
    PRICES,
    REGIONS,
    SPOT_DISCOUNT,
    Tags,
    arn,
    artifacts_bucket,
    ecr_uri,
    environment,
    file_system_id,
    role_arn,
    tags_for,
    training_inputs,
)
from smcost.demo.clock import HOUR_MS, overlap_hours, utc
from smcost.demo.ledger import Charge, Ledger, Owner, only

InstanceGroup = tuple[str, str, int]  # (group name, instance type, instance count)


@dataclass(frozen=True, kw_only=True)
class TrainingJob:
    """A training job: where and what it ran on, when and for how long, and how it is tagged."""

    acct: str
    region: str = "us-east-1"
    name: str
    model: str
    team: str
    groups: list[InstanceGroup]  # a plain job has one group, "main"
    start: int
    seconds: int
    billable: int  # spot bills only these seconds
    spot: bool = False
    profile: str  # how it is tagged: see TAG_PROFILES
    experiment: str | None = None
    trial: str | None = None
    tuning_job_arn: str | None = None
    warm_pool: int = 0  # seconds the instances stay retained after the job
    owner: Owner | None = None  # default: the model's owner, known by the profile's evidence
    checkpoints: bool | None = None  # writes checkpoints to S3; default: the model's jobs do (CHECKPOINTING)
    # Flexible training: the instance types the job accepted (InstancePreferences); the one group's
    # type is the one SageMaker selected, and the job bills on it.
    preferences: tuple[str, ...] = ()
    plan_arn: str | None = None  # the training plan whose reserved capacity it ran on
    plan_rate: float = 0.0  # the plan's fee per reserved instance-hour: the hours' amortised (effective) cost

    @property
    def end(self) -> int:
        return self.start + self.seconds * 1000

    @property
    def instance_count(self) -> int:
        return sum(g[2] for g in self.groups)

    @property
    def is_checkpointing(self) -> bool:
        return self.model in CHECKPOINTING if self.checkpoints is None else self.checkpoints


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
    ledger.charge(
        Charge(
            acct=job.acct,
            region=job.region,
            resource_id=job_arn,
            usage="Train:VolumeUsage.gp2",
            start_ms=[job.start // HOUR_MS * HOUR_MS],
            quantity=[gb_month],
            unit="GB-Mo",
            list_rate=0.14,
            owners=only(owner),
            bill_tags=bill_tags,
            operation="Training",
        )
    )
    _land_metadata(ledger, job, job_arn, api_tags)
    if job.is_checkpointing and not job.spot:  # it could resume after a spot interruption, yet runs on demand
        ledger.facts.spot_candidates.append(job_arn)


def _bill_instance_hours(
    ledger: Ledger, job: TrainingJob, job_arn: str, instance: str, count: int, bill_tags: Tags, owner: Owner
) -> None:
    start, end, pool_end = job.start, job.end, job.end + job.warm_pool * 1000
    hours = ledger.hours(start, end)
    # Spot bills only the billable seconds: spread them evenly over the hours the job ran.
    quantity = overlap_hours(hours, start, end) * (job.billable / job.seconds) * count
    rate = PRICES[instance] * REGIONS[job.region][2]
    on_plan = job.plan_arn is not None
    ledger.charge(
        Charge(
            acct=job.acct,
            region=job.region,
            resource_id=job_arn,
            usage=f"TrSpt:{instance}" if job.spot else f"Train:{instance}",
            start_ms=hours,
            quantity=quantity,
            unit="Hrs",
            list_rate=rate,
            owners=only(owner),
            bill_tags=bill_tags,
            pricing="Dynamic" if job.spot else "Standard",
            billed_rate=rate * SPOT_DISCOUNT if job.spot else (0.0 if on_plan else None),
            effective_rate=job.plan_rate if on_plan else None,
            operation="Training",
        )
    )
    if job.warm_pool:  # retained instances bill on demand under their own usage type (CUDOS: TrainWarmPool)
        pool_hours = ledger.hours(end, pool_end)
        ledger.charge(
            Charge(
                acct=job.acct,
                region=job.region,
                resource_id=job_arn,
                usage=f"TrainWarmPool:{instance}",
                start_ms=pool_hours,
                quantity=overlap_hours(pool_hours, end, pool_end) * count,
                unit="Hrs",
                list_rate=rate,
                owners=only(owner),
                bill_tags=bill_tags,
                operation="Training",
                description=f"Warm pool retained {instance}",
            )
        )


def _land_metadata(ledger: Ledger, job: TrainingJob, job_arn: str, api_tags: Tags) -> None:
    """The job as DescribeTrainingJob shows it. Its S3 paths are where the neighbours find its
    storage: the input channel, the model's output path (SageMaker writes <output>/<job>/output/),
    per-job checkpoints; development fine-tunes of the FSx models also mount the Lustre volume."""
    groups = job.groups
    role = GENERIC_ROLE if job.profile == "none" else f"{job.team}-sagemaker-training"
    sfx = ledger.suffix
    output = f"s3://{artifacts_bucket(job.acct, sfx)}/{job.model}/"
    mounts_fsx = job.model in FSX_MODELS and job.acct == "dev"
    ledger.metadata(
        "training_jobs",
        job.acct,
        job.region,
        training_job_arn=job_arn,
        training_job_name=job.name,
        training_job_status="Completed",
        created_at=utc(job.start - 120_000),
        last_modified_at=utc(job.end + 60_000),
        training_start_at=utc(job.start),
        training_end_at=utc(job.end),
        role_arn=role_arn(job.acct, role),
        instance_type=None if len(groups) > 1 or job.preferences else groups[0][1],
        instance_count=job.instance_count,
        instance_groups=[{"instance_group_name": g, "instance_type": t, "instance_count": c} for g, t, c in groups]
        if len(groups) > 1
        else None,
        training_seconds=job.seconds,
        billable_seconds=job.billable,
        is_managed_spot=job.spot,
        warm_pool_retained_billable_seconds=job.warm_pool or None,
        tuning_job_arn=job.tuning_job_arn,
        experiment_name=job.experiment,
        trial_name=job.trial,
        run_name=f"{job.name}-run" if job.experiment else None,
        model_artifact_s3_uri=f"{output}{job.name}/output/model.tar.gz",
        input_s3_uris=training_inputs(job.acct, job.model, sfx),
        input_file_system_ids=[file_system_id("fsx", sfx)] if mounts_fsx else [],
        output_s3_uri=output,
        checkpoint_s3_uri=f"s3://{artifacts_bucket(job.acct, sfx)}/checkpoints/{job.model}/{job.name}/"
        if job.is_checkpointing
        else None,
        training_image=ecr_uri(job.acct, job.region, f"{job.model}-train{sfx}:latest"),
        instance_preference_types=list(job.preferences),
        selected_instance_type=groups[0][1] if job.preferences else None,
        selected_instance_count=groups[0][2] if job.preferences else None,
        training_plan_arn=job.plan_arn,
        tags=api_tags,
    )
    if job.experiment:
        component = f"{job.name}-aws-training-job"
        ledger.metadata(
            "trial_components",
            job.acct,
            job.region,
            trial_component_arn=arn(job.acct, job.region, "experiment-trial-component", component),
            trial_component_name=component,
            trial_name=job.trial,
            experiment_name=job.experiment,
            source_arn=job_arn,
            source_type="SageMakerTrainingJob",
            created_at=utc(job.start),
            tags={},
        )
