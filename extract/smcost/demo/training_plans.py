"""The 2026 training shapes: flexible jobs and a training plan.

- A flexible job (InstancePreferences) of search-ranker: it asked for ml.g5.12xlarge, then
  ml.g5.2xlarge; SageMaker selected the second, and the bill names (and prices) the selection.
- vision's training plan: two ml.g5.48xlarge reserved for 48 hours, bought for an upfront fee,
  and two flexible vision-classifier jobs that ran on it (72 of the 96 reserved instance-hours). Their
  instance hours bill nothing (the fee paid for them); the fee's true owners are the jobs, by
  their instance-hours in the plan's window, and vision's idle reservation for the 24 hours unused.

How AWS bills the fee is not documented anywhere we could check (REFERENCE.md §7; docs say only
that "the payment for the total amount is automatically collected" when the plan is fulfilled).
The demo assumes one Purchase row, One-Time, on the plan's ARN, usage type
`<region>-TrainingPlan:<instance type>`, BilledCost the fee and EffectiveCost 0 (FOCUS's rule for
a purchase covering future charges), and the plan's usage as Train rows billing 0 with the fee
amortised per reserved instance-hour as their EffectiveCost (so the unused hours' share of the
fee is in BilledCost only);
seeds/usage_type_taxonomy.csv's `%TrainingPlan%` row is where that assumption lives in the
attribution. Draws nothing from the random generator: every case before it keeps its numbers.
"""

from __future__ import annotations

import numpy as np

from smcost.demo.account import PRICES, REGIONS, arn, environment, tags_for
from smcost.demo.clock import DAY_MS, HOUR_MS, utc
from smcost.demo.ledger import Charge, Ledger, Owner
from smcost.demo.training_jobs import TrainingJob, add_training_job

PLAN_INSTANCE, PLAN_COUNT, PLAN_HOURS = "ml.g5.48xlarge", 2, 48
PLAN_DISCOUNT = 0.8  # the fee against the same hours on demand (an assumption: offerings vary)
# (name, start hour in the window, hours) of the jobs that ran on the plan, two instances each.
PLAN_JOBS = (("vision-classifier-pretrain-a", 2, 20), ("vision-classifier-pretrain-b", 24, 16))


def add_training_plan_and_flexible_jobs(ledger: Ledger) -> None:
    """In the last full month: the flexible on-demand job, the plan, its fee and its jobs."""
    month = ledger.months[-2]
    sfx = ledger.suffix
    add_training_job(
        ledger,
        TrainingJob(
            acct="dev",
            name=f"search-ranker-flex{sfx}",
            model="search-ranker",
            team="search",
            groups=[("main", "ml.g5.2xlarge", 2)],
            preferences=("ml.g5.12xlarge", "ml.g5.2xlarge"),
            start=month + 6 * DAY_MS + 4 * HOUR_MS,
            seconds=5 * 3600,
            billable=5 * 3600,
            profile="bill",
            checkpoints=False,
        ),
    )

    model, team, acct, region = "vision-classifier", "vision", "dev", "us-east-1"
    env = environment(acct)
    plan_arn = arn(acct, region, "training-plan", f"vision-pretrain-plan{sfx}")
    window_start = month + 12 * DAY_MS
    window_end = window_start + PLAN_HOURS * HOUR_MS
    reserved_hours = PLAN_HOURS * PLAN_COUNT
    rate = PRICES[PLAN_INSTANCE] * REGIONS[region][2] * PLAN_DISCOUNT
    fee = round(rate * reserved_hours, 2)
    used_hours = 0.0
    job_owners: list[tuple[Owner, float]] = []
    for name, offset, hours in PLAN_JOBS:
        owner = Owner(model, team, None, env, "api_tag")
        add_training_job(
            ledger,
            TrainingJob(
                acct=acct,
                region=region,
                name=f"{name}{sfx}",
                model=model,
                team=team,
                groups=[("main", PLAN_INSTANCE, PLAN_COUNT)],
                preferences=("ml.p5.48xlarge", PLAN_INSTANCE),
                start=window_start + offset * HOUR_MS,
                seconds=hours * 3600,
                billable=hours * 3600,
                profile="api_only",
                plan_arn=plan_arn,
                plan_rate=fee / reserved_hours,
                owner=owner,
                checkpoints=False,
            ),
        )
        job_owners.append((owner, hours * PLAN_COUNT))
        used_hours += hours * PLAN_COUNT

    bill_tags, api_tags = tags_for("bill", None, team, None, env)
    idle = Owner("__idle__", team, None, env, "bill_tag")
    ledger.charge(
        Charge(
            acct=acct,
            region=region,
            resource_id=plan_arn,
            usage=f"TrainingPlan:{PLAN_INSTANCE}",
            start_ms=[window_start - DAY_MS],  # bought the day before the window opens
            quantity=[float(reserved_hours)],
            unit="Hrs",
            list_rate=fee / reserved_hours,
            owners=[(o, np.array([h / reserved_hours])) for o, h in job_owners]
            + [(idle, np.array([1 - used_hours / reserved_hours]))],
            bill_tags=bill_tags,
            category="Purchase",
            frequency="One-Time",
            # FOCUS: a purchase covering future charges has EffectiveCost 0; the covered hours carry it.
            effective_rate=0.0,
            operation="TrainingPlanPurchase",
            description=f"SageMaker training plan: {PLAN_COUNT} x {PLAN_INSTANCE} for {PLAN_HOURS} hours",
            duration_ms=DAY_MS,
        )
    )
    ledger.metadata(
        "training_plans",
        acct,
        region,
        training_plan_arn=plan_arn,
        training_plan_name=f"vision-pretrain-plan{sfx}",
        training_plan_status="Expired",
        started_at=utc(window_start),
        ended_at=utc(window_end),
        duration_hours=PLAN_HOURS,
        duration_minutes=0,
        upfront_fee=f"{fee:.2f}",
        currency_code="USD",
        total_instance_count=PLAN_COUNT,
        in_use_instance_count=0,
        target_resources=["training-job"],
        reserved_instance_types=[PLAN_INSTANCE],
        tags=api_tags,
    )
