"""Commitments and adjustments: the Machine Learning Savings Plan (covered usage, recurring fee,
unused commitment), a monthly credit and tax, a refund for an outage, and a correction booked in
the last period that restates a training job of the first."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from smcost.demo.account import PRICES, REGIONS, SP_HOURLY_COMMITMENT, SP_RATE, arn, savings_plan_arn, tags_for
from smcost.demo.clock import DAY_MS, Floats, Millis
from smcost.demo.hosting import Endpoint, add_hosting
from smcost.demo.ledger import NOBODY, Charge, Ledger, Owner, only


def _plan(ledger: Ledger) -> dict[str, str]:
    """The replica's plan, as the commitment columns of the rows it covers or bills."""
    return {
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountId": savings_plan_arn(ledger.suffix),
        "CommitmentDiscountName": f"ml-savings-plan-1yr{ledger.suffix}",
        "CommitmentDiscountType": "Machine Learning Savings Plan",
        "CommitmentDiscountUnit": "USD",
    }


@dataclass(frozen=True)
class PlanUse:
    """The hours the plan covered usage in, and the commitment left unused in each."""

    hours: Millis
    unused: Floats


def cover_with_savings_plan(
    ledger: Ledger, endpoint: Endpoint, instance: str, hours: Millis, counts: Floats, owner: Owner
) -> PlanUse:
    """An endpoint's instance hours: each hour as many as the plan's commitment covers at the plan
    rate, the rest on demand."""
    rate = PRICES[instance] * REGIONS[endpoint.region][2]
    covered = np.minimum(counts, np.floor(SP_HOURLY_COMMITMENT / (rate * SP_RATE)))
    ledger.charge(
        Charge(
            acct=endpoint.acct,
            region=endpoint.region,
            resource_id=endpoint.arn,
            usage=f"Host:{instance}",
            start_ms=hours,
            quantity=covered,
            unit="Hrs",
            list_rate=rate,
            owners=only(owner),
            bill_tags=endpoint.bill_tags,
            pricing="Committed",
            billed_rate=0.0,
            effective_rate=rate * SP_RATE,
            commitment={**_plan(ledger), "CommitmentDiscountStatus": "Used"},
        )
    )
    rest = counts - covered
    keep = rest > 0
    if keep.any():
        add_hosting(ledger, endpoint, instance, hours[keep], rest[keep], only(owner))
    return PlanUse(hours, SP_HOURLY_COMMITMENT - covered * rate * SP_RATE)


def add_commitments_and_adjustments(ledger: Ledger, plan: PlanUse) -> None:
    """The plan's fees (given how usage used it), credits and tax, the refund, the correction."""
    _add_plan_fees(ledger, plan)
    _add_credits_and_tax(ledger)
    _add_refund(ledger)
    _add_correction(ledger)


def _add_plan_fees(ledger: Ledger, plan: PlanUse) -> None:
    """The plan's recurring fee, billed every hour (its effective cost lives on the covered usage),
    and the commitment the covered usage left unused."""
    hours, unused = plan.hours, plan.unused
    ledger.charge(
        Charge(
            acct="prod",
            region="us-east-1",
            resource_id=savings_plan_arn(ledger.suffix),
            usage="MLSP:Recurring",
            service="MachineLearningSavingsPlans",
            start_ms=hours,
            quantity=np.ones(len(hours)),
            unit="Hrs",
            list_rate=SP_HOURLY_COMMITMENT,
            owners=only(NOBODY),
            category="Purchase",
            frequency="Recurring",
            effective_rate=0.0,
            operation="SavingsPlanRecurringFee",
            description="Machine Learning Savings Plan recurring fee",
            commitment=_plan(ledger),
        )
    )
    keep = unused > 1e-9
    ledger.charge(
        Charge(
            acct="prod",
            region="us-east-1",
            resource_id=savings_plan_arn(ledger.suffix),
            usage="MLSP:Unused",
            service="MachineLearningSavingsPlans",
            start_ms=hours[keep],
            quantity=unused[keep],
            unit="USD",
            list_rate=1.0,
            owners=only(NOBODY),
            billed_rate=0.0,
            effective_rate=1.0,
            pricing="Committed",
            operation="SavingsPlanUnusedCommitment",
            description="Unused Savings Plan commitment",
            commitment={**_plan(ledger), "CommitmentDiscountStatus": "Unused"},
        )
    )


def _add_credits_and_tax(ledger: Ledger) -> None:
    """Each month: an Activate credit and the month's tax, one row each spanning the month."""
    for i, month in enumerate(ledger.months[:-1]):
        credit = Charge(
            acct="prod",
            region="us-east-1",
            resource_id=None,
            usage="",
            start_ms=[month],
            quantity=[1.0],
            unit="USD",
            list_rate=-150.0,
            owners=only(NOBODY),
            category="Credit",
            frequency="One-Time",
            pricing=None,
            operation="Credit",
            # Named per replica: N replicas' credits in one account would otherwise be N identical rows.
            description=f"AWS Activate credit{ledger.suffix}",
            duration_ms=ledger.months[i + 1] - month,
        )
        ledger.charge(credit)
        tax = replace(
            credit,
            list_rate=42.5 + 10 * i,
            category="Tax",
            operation="Tax",
            description=f"Tax for SageMaker{ledger.suffix}",
        )
        ledger.charge(tax)


def _add_refund(ledger: Ledger) -> None:
    """A refund for an outage of the search endpoint: linked to its resource and tags."""
    month = ledger.months[min(1, len(ledger.months) - 2)]
    endpoint_arn = arn("prod", "eu-west-1", "endpoint", f"search-ranker-prod{ledger.suffix}")
    drift, _ = tags_for("drift", "search-ranker", "search", None, "production")
    ledger.charge(
        Charge(
            acct="prod",
            region="eu-west-1",
            resource_id=endpoint_arn,
            usage="Host:ml.g5.2xlarge",
            start_ms=[month + 20 * DAY_MS],
            quantity=[1.0],
            unit="USD",
            list_rate=-25.0,
            owners=only(Owner("search-ranker", "search", None, "production", "bill_tag")),
            bill_tags=drift,
            category="Credit",
            frequency="One-Time",
            pricing=None,
            operation="Refund",
            description="Refund: endpoint outage",
            duration_ms=DAY_MS,
        )
    )


def _add_correction(ledger: Ledger) -> None:
    """A correction booked in the last period restating a tagged training job of the first period."""
    first_jobs = [
        b
        for b in ledger.blocks
        if b.charge.operation == "Training"
        and b.charge.bill_tags
        and b.start_ms.size
        and b.start_ms[0] < ledger.months[1]
    ]
    if len(ledger.months) <= 2 or not first_jobs:
        return
    block = first_jobs[0]
    job = block.charge
    ledger.charge(
        Charge(
            acct=job.acct,
            region=job.region,
            resource_id=job.resource_id,
            usage=job.usage,
            start_ms=[int(block.start_ms[0])],
            quantity=[1.0],
            unit="USD",
            list_rate=-12.34,
            owners=only(job.owners[0][0]),
            bill_tags=dict(job.bill_tags),
            charge_class="Correction",
            frequency="Usage-Based",
            operation="Training",
            description="Pricing correction for an earlier period",
            billing_period_ms=ledger.months[-2],
        )
    )
