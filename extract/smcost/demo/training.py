"""Training: every model's experiment and monthly trial; four jobs a model a month (on-demand or
spot, tagged by one of the tagging profiles, the fourth a production retrain), one with a warm
pool; a heterogeneous-cluster job; a hyperparameter tuning job whose children carry no tags; and a
job name two teams used in turn (DeleteTrainingJob frees a name, and with it the ARN)."""

from __future__ import annotations

from smcost.demo.account import MODELS, TAG_PROFILES, arn, experiment_name, short_hash, trial_name
from smcost.demo.clock import DAY_MS, HOUR_MS, utc
from smcost.demo.ledger import Ledger, Owner
from smcost.demo.training_jobs import TrainingJob, add_training_job


def add_experiments_and_trials(ledger: Ledger) -> None:
    """One experiment a model in each account."""
    for model, (team, _, _) in MODELS.items():
        name = experiment_name(model, ledger.suffix)
        # Experiments carry API-side tags: the link that resolves untagged jobs run inside them.
        # Experiments are per account: development runs and production retrains each have one.
        for acct in ("dev", "prod"):
            ledger.metadata(
                "experiments",
                acct,
                "us-east-1",
                experiment_arn=arn(acct, "us-east-1", "experiment", name),
                experiment_name=name,
                created_at=utc(ledger.t0 - 30 * DAY_MS),
                tags={"ml:team": team, "ml:model": model},
            )


def add_training(ledger: Ledger) -> None:
    """Each month: the trials, four jobs a model, the heterogeneous job and the tuning job."""
    for m_index, month in enumerate(ledger.months[:-1]):
        month_end = ledger.months[m_index + 1]
        for model in MODELS:
            trial = trial_name(model, month, ledger.suffix)
            for acct in ("dev", "prod"):
                ledger.metadata(
                    "trials",
                    acct,
                    "us-east-1",
                    trial_arn=arn(acct, "us-east-1", "experiment-trial", trial),
                    trial_name=trial,
                    experiment_name=experiment_name(model, ledger.suffix),
                    created_at=utc(month),
                    tags={},
                )
            for k in range(4):
                add_training_job(ledger, _draw_job(ledger, model, k, month, month_end))
        _add_heterogeneous_job(ledger, month)
        _add_tuning_job(ledger, month)


def _draw_job(ledger: Ledger, model: str, k: int, month: int, month_end: int) -> TrainingJob:
    """The k-th job of a model in a month, drawn at random (the monthly retrain, k == 3, in production)."""
    rng = ledger.rng
    team, instance, (h_lo, h_hi) = MODELS[model]
    profiles, weights = zip(*TAG_PROFILES, strict=True)
    profile = str(rng.choice(profiles, p=weights))
    acct = "prod" if k == 3 else "dev"
    start = (
        month + int(rng.integers(0, (month_end - month) // HOUR_MS - 24)) * HOUR_MS + int(rng.integers(0, 60)) * 60_000
    )
    seconds = int(rng.uniform(h_lo, h_hi) * 3600)
    spot = bool(rng.random() < 0.4)
    billable = int(seconds * rng.uniform(0.55, 0.85)) if spot else seconds
    count = int(rng.choice([1, 1, 2]))
    name = f"{model}-train-{utc(start):%Y%m%d-%H%M}-{k}{ledger.suffix}"
    if profile == "none":
        name = f"untitled-job-{short_hash(model, start, ledger.suffix)}"
    in_experiment = profile in ("bill", "drift", "api_only", "experiment")
    return TrainingJob(
        acct=acct,
        name=name,
        model=model,
        team=team,
        groups=[("main", instance, count)],
        start=start,
        seconds=seconds,
        billable=billable,
        spot=spot,
        profile=profile,
        experiment=experiment_name(model, ledger.suffix) if in_experiment else None,
        trial=trial_name(model, month, ledger.suffix) if in_experiment else None,
        warm_pool=7200 if (model == "fraud-gnn" and k == 0) else 0,
    )


def _add_heterogeneous_job(ledger: Ledger, month: int) -> None:
    """recsys-two-tower trains on two instance groups: GPU workers and CPU data loaders."""
    model, team = "recsys-two-tower", "recsys"
    groups = [("gpu-workers", "ml.g5.12xlarge", 2), ("data-loaders", "ml.c5.4xlarge", 4)]
    add_training_job(
        ledger,
        TrainingJob(
            acct="prod",
            name=f"recsys-two-tower-hetero-{utc(month):%Y%m}{ledger.suffix}",
            model=model,
            team=team,
            groups=groups,
            start=month + 9 * DAY_MS + 3 * HOUR_MS,
            seconds=5 * 3600,
            billable=5 * 3600,
            profile="bill",
            experiment=experiment_name(model, ledger.suffix),
            trial=trial_name(model, month, ledger.suffix),
        ),
    )


def _add_tuning_job(ledger: Ledger, month: int) -> None:
    """search-ranker's monthly HPO: six children that carry no tags of their own."""
    model, team = "search-ranker", "search"
    tuning = f"search-hpo-{utc(month):%Y%m}{ledger.suffix}"
    tuning_arn = arn("dev", "us-east-1", "hyper-parameter-tuning-job", tuning)
    start = month + 14 * DAY_MS
    ledger.metadata(
        "tuning_jobs",
        "dev",
        "us-east-1",
        tuning_job_arn=tuning_arn,
        tuning_job_name=tuning,
        tuning_job_status="Completed",
        created_at=utc(start),
        ended_at=utc(start + 20 * HOUR_MS),
        strategy="Bayesian",
        max_training_jobs=6,
        tags={"ml:team": team, "ml:model": model, "ml:environment": "development"},
    )
    # Only the parent tuning job knows the owner.
    owner = Owner(model, team, None, "development", "metadata")
    for child in range(6):
        add_training_job(
            ledger,
            TrainingJob(
                acct="dev",
                name=f"{tuning}-{child + 1:03d}-{short_hash(tuning, child)}",
                model=model,
                team=team,
                groups=[("main", "ml.g5.2xlarge", 1)],
                start=start + child * 3 * HOUR_MS,
                seconds=2 * 3600 + 600,
                billable=2 * 3600 + 600,
                profile="experiment",
                tuning_job_arn=tuning_arn,
                owner=owner,
            ),
        )


def add_reused_job_name(ledger: Ledger) -> None:
    """`nightly-eval`: the fraud team's job in the first month, deleted, then the name taken again by
    the search team in the last month. Same name, so the same ARN on both bills; only the API tags
    tell the owners apart, so each charge must join the incarnation that ran then. Draws nothing
    from the random generator: the cases after it keep their numbers."""
    name = f"nightly-eval{ledger.suffix}"
    runs = (
        ("fraud-xgb", "fraud", "ml.m5.4xlarge", ledger.months[0] + 3 * DAY_MS + 2 * HOUR_MS),
        ("search-ranker", "search", "ml.g5.2xlarge", ledger.months[-2] + 20 * DAY_MS + 2 * HOUR_MS),
    )
    for model, team, instance, start in runs:
        add_training_job(
            ledger,
            TrainingJob(
                acct="dev",
                name=name,
                model=model,
                team=team,
                groups=[("main", instance, 1)],
                start=start,
                seconds=3 * 3600,
                billable=3 * 3600,
                profile="api_only",
                checkpoints=False,
            ),
        )
