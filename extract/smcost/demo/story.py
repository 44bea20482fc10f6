"""The mission's story: why the SageMaker bill grew from about $29,000 to $38,000 to $47,000 over
three months, and what of it is waste. Booked after the account's everyday cases, each cause
recorded in ``ledger.facts`` so the ground truth of the findings (findings.py) knows them:

- a growing team: the nlp team fine-tunes a support LLM, more and bigger GPU jobs every month,
  mostly on demand although every job checkpoints (on-demand training that could have been spot);
- forgotten staging endpoints: three development endpoints created in the second month, called for
  a few days, then never again, still running at the end;
- 24/7 notebooks on oversized GPU instances, one since before the first month, one from the second;
- an over-provisioned endpoint: two ml.g5.4xlarge instances whose utilisation never reaches 30%;
- an endpoint whose metrics never landed: unknown, not idle.

Every number here comes from ``ledger.story_rng``, so the cases booked before keep theirs.
"""

from __future__ import annotations

import numpy as np

from smcost.demo.account import PRICES, SPOT_DISCOUNT, arn, experiment_name, tags_for, trial_name
from smcost.demo.clock import DAY_MS, HOUR_MS, utc
from smcost.demo.hosting import (
    Endpoint,
    Load,
    Variant,
    add_endpoint,
    add_hosting,
    add_model,
    add_storage_and_transfer,
    add_utilization,
    add_variant_invocations,
    traffic,
)
from smcost.demo.ledger import Ledger, Owner, only
from smcost.demo.notebooks import add_notebook
from smcost.demo.training_jobs import TrainingJob, add_training_job

LLM_MODEL, LLM_TEAM = "support-llm", "nlp"
# The fine-tunes' compute bill each month (USD): the team grows; later months hold the last level.
FINE_TUNE_BUDGET = (8_900.0, 11_800.0, 16_400.0)
# Each month's fine-tunes: (instance type, nodes, jobs); more jobs on bigger instances month by month.
FINE_TUNE_FLEET = (
    (("ml.g5.12xlarge", 1, 3), ("ml.g5.48xlarge", 1, 6), ("ml.p4d.24xlarge", 1, 3)),
    (("ml.g5.12xlarge", 1, 2), ("ml.g5.48xlarge", 1, 6), ("ml.p4d.24xlarge", 1, 6)),
    (("ml.g5.12xlarge", 1, 1), ("ml.g5.48xlarge", 1, 7), ("ml.p4d.24xlarge", 1, 6), ("ml.p4d.24xlarge", 2, 2)),
)
FINE_TUNE_SPOT_JOBS = (2, 3, 3)  # the few someone moved to managed spot
FINE_TUNE_HOURS = (18, 60)
FINE_TUNE_PROFILES = (("bill", 0.70), ("drift", 0.15), ("experiment", 0.15))
# Staging endpoints (development): model, team, instance, created (days into the second month),
# days it was called after that.
STAGING = (
    ("fraud-gnn", "fraud", "ml.g5.2xlarge", 2 + 14 / 24, 3.5),
    ("recsys-reranker", "recsys", "ml.g5.xlarge", 7 + 10 / 24, 3.0),
    ("vision-classifier", "vision", "ml.g4dn.xlarge", 14 + 16 / 24, 2.5),
)
STAGING_LOAD = Load(cpu=(2, 60), memory=(36, 48), gpu=(1, 70), gpu_memory=(44, 52))
# Notebooks left on around the clock: name, instance, team, started (days into the second month;
# None: before the first).
GPU_NOTEBOOKS = (
    ("recsys-gpu-lab", "ml.g5.12xlarge", "recsys", None),
    ("vision-p3-lab", "ml.p3.2xlarge", "vision", 9 + 9 / 24),
)
# The over-provisioned endpoint never works its instances a third as hard as they could.
OVER_PROVISIONED_LOAD = Load(cpu=(2, 14), memory=(17, 23), gpu=(1, 22), gpu_memory=(19, 24))


def add_story(ledger: Ledger) -> None:
    _add_fine_tunes(ledger)
    _add_staging_endpoints(ledger)
    _add_gpu_notebooks(ledger)
    _add_over_provisioned_endpoint(ledger)
    _add_endpoint_without_metrics(ledger)


def _second_month(ledger: Ledger) -> int:
    return ledger.months[min(1, len(ledger.months) - 2)]


def _add_fine_tunes(ledger: Ledger) -> None:
    """The nlp team's support-LLM fine-tunes in development, in their own experiment; each month's
    jobs are drawn, then stretched (by a few tens of percent at most) so the month bills its budget."""
    rng, sfx = ledger.story_rng, ledger.suffix
    experiment = experiment_name(LLM_MODEL, sfx)
    ledger.metadata(
        "experiments",
        "dev",
        "us-east-1",
        experiment_arn=arn("dev", "us-east-1", "experiment", experiment),
        experiment_name=experiment,
        created_at=utc(ledger.t0 - 20 * DAY_MS),
        tags={"ml:team": LLM_TEAM, "ml:model": LLM_MODEL},
    )
    for m, month in enumerate(ledger.months[:-1]):
        month_end = ledger.months[m + 1]
        trial = trial_name(LLM_MODEL, month, sfx)
        ledger.metadata(
            "trials",
            "dev",
            "us-east-1",
            trial_arn=arn("dev", "us-east-1", "experiment-trial", trial),
            trial_name=trial,
            experiment_name=experiment,
            created_at=utc(month),
            tags={},
        )
        plan = min(m, len(FINE_TUNE_BUDGET) - 1)
        fleet = [(instance, nodes) for instance, nodes, jobs in FINE_TUNE_FLEET[plan] for _ in range(jobs)]
        on_spot = set(rng.choice(len(fleet), FINE_TUNE_SPOT_JOBS[plan], replace=False).tolist())
        drawn = []
        for k in rng.permutation(len(fleet)).tolist():
            instance, count = fleet[k]
            hours = float(rng.uniform(*FINE_TUNE_HOURS))
            spot = k in on_spot
            billable = float(rng.uniform(0.6, 0.8)) if spot else 1.0
            profile = str(rng.choice([p for p, _ in FINE_TUNE_PROFILES], p=[w for _, w in FINE_TUNE_PROFILES]))
            drawn.append((instance, count, hours, spot, billable, profile, float(rng.random())))
        cost = sum(PRICES[i] * c * h * b * (SPOT_DISCOUNT if s else 1.0) for i, c, h, s, b, _, _ in drawn)
        stretch = FINE_TUNE_BUDGET[plan] / cost
        for k, (instance, count, hours, spot, billable, profile, when) in enumerate(drawn):
            seconds = int(hours * stretch * 3600)
            latest = (month_end - month) // HOUR_MS - seconds // 3600 - 12  # ends inside the month
            start = month + int(6 + when * max(latest - 6, 0)) * HOUR_MS + int(rng.integers(0, 60)) * 60_000
            name = f"{LLM_MODEL}-ft-{utc(start):%Y%m%d-%H%M}-{k}{sfx}"
            job = TrainingJob(
                acct="dev",
                name=name,
                model=LLM_MODEL,
                team=LLM_TEAM,
                groups=[("main", instance, count)],
                start=start,
                seconds=seconds,
                billable=int(seconds * billable),
                spot=spot,
                profile=profile,
                experiment=experiment,
                trial=trial,
                checkpoints=True,
            )
            add_training_job(ledger, job)
            job_arn = arn("dev", "us-east-1", "training-job", name)
            ledger.facts.cause("growing_team", job_arn)
            if not spot:
                ledger.facts.cause("on_demand_training", job_arn)


def _add_staging_endpoints(ledger: Ledger) -> None:
    """Development endpoints somebody load-tested for a few days and forgot; tagged with their team
    only, the model known through the endpoint config."""
    rng, sfx = ledger.story_rng, ledger.suffix
    acct, region, env = "dev", "us-east-1", "development"
    for model, team, instance, created_day, called_days in STAGING:
        created = _second_month(ledger) + int(created_day * 24) * HOUR_MS
        tags = {"ml:team": team, "ml:environment": env}
        sm_model = f"{model}-staging-model{sfx}"
        add_model(ledger, acct, region, sm_model, model=model, team=team)
        endpoint = add_endpoint(
            ledger,
            acct,
            region,
            f"{model}-staging{sfx}",
            [Variant(sm_model, instance, 1)],
            api_tags=tags,
            bill_tags=tags,
            created=created,
        )
        owner = Owner(model, team, None, env, "metadata")
        hours = ledger.hours(created, ledger.t1)
        counts = np.ones(len(hours))
        add_hosting(ledger, endpoint, instance, hours, counts, only(owner))
        add_storage_and_transfer(ledger, endpoint, only(owner), start=created, end=ledger.t1, gb_out=0.2, rng=rng)
        requests = traffic(ledger, hours, 60, rng) * (hours < created + int(called_days * DAY_MS))
        add_variant_invocations(ledger, endpoint, hours, requests)
        add_utilization(ledger, endpoint, instance, hours, counts, requests, STAGING_LOAD)
        ledger.facts.cause("forgotten_staging_endpoints", endpoint.arn)


def _add_gpu_notebooks(ledger: Ledger) -> None:
    for name, instance, team, started_day in GPU_NOTEBOOKS:
        started = None if started_day is None else _second_month(ledger) + int(started_day * 24) * HOUR_MS
        notebook = add_notebook(
            ledger, f"{name}{ledger.suffix}", instance, team, f"{team}-data-science", "bill", True, started=started
        )
        ledger.facts.cause("always_on_notebooks", notebook)


def _add_over_provisioned_endpoint(ledger: Ledger) -> None:
    """vision-ocr's real-time endpoint (beside its async one): two ml.g5.4xlarge where two
    ml.g5.2xlarge would do; fully tagged."""
    acct, region, model, team = "prod", "us-east-1", "vision-ocr", "vision"
    env, sfx = "production", ledger.suffix
    experiment = experiment_name(model, sfx)
    bill_tags, api_tags = tags_for("bill", model, team, experiment, env)
    created = ledger.t0 - 45 * DAY_MS
    endpoint = add_endpoint(
        ledger,
        acct,
        region,
        f"vision-ocr-realtime{sfx}",
        [Variant(f"{model}-model{sfx}", "ml.g5.4xlarge", 2)],  # the model the async endpoint serves
        api_tags=api_tags,
        bill_tags=bill_tags,
        created=created,
    )
    owner = Owner(model, team, experiment, env, "bill_tag")
    _host(ledger, endpoint, "ml.g5.4xlarge", 2, created, owner, OVER_PROVISIONED_LOAD)


def _add_endpoint_without_metrics(ledger: Ledger) -> None:
    """A shadow endpoint whose CloudWatch metrics never landed: billed, tagged, unknown."""
    acct, region, model, team = "prod", "us-east-1", "churn-predictor", "growth"
    env, sfx = "production", ledger.suffix
    tags, _ = tags_for("bill", model, team, None, env)
    sm_model = f"{model}-shadow-model{sfx}"
    add_model(ledger, acct, region, sm_model, model=model, team=team)
    created = ledger.t0 + 11 * DAY_MS + 15 * HOUR_MS
    endpoint = add_endpoint(
        ledger,
        acct,
        region,
        f"{model}-shadow{sfx}",
        [Variant(sm_model, "ml.m5.2xlarge", 1)],
        api_tags=tags,
        bill_tags=tags,
        created=created,
    )
    _host(ledger, endpoint, "ml.m5.2xlarge", 1, created, Owner(model, team, None, env, "bill_tag"), None)


def _host(
    ledger: Ledger, endpoint: Endpoint, instance: str, count: int, created: int, owner: Owner, load: Load | None
) -> None:
    """Instance hours, storage and transfer since ``created``, and steady traffic with its metrics
    (``load`` None: called, but no metric landed)."""
    rng = ledger.story_rng
    hours = ledger.hours(created, ledger.t1)
    counts = np.full(len(hours), float(count))
    add_hosting(ledger, endpoint, instance, hours, counts, only(owner))
    add_storage_and_transfer(ledger, endpoint, only(owner), start=created, end=ledger.t1, gb_out=2.0, rng=rng)
    requests = traffic(ledger, hours, 400, rng)
    if load is not None:
        add_variant_invocations(ledger, endpoint, hours, requests)
    add_utilization(ledger, endpoint, instance, hours, counts, requests, load)
