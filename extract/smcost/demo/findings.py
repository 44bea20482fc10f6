"""The ground truth of the story (dataset ``ground_truth_findings``): what is idle, forgotten, left
on after hours, over-provisioned or could have run on spot, and what made the bill grow, computed
from what the generator booked (its charges) and knows it did (``ledger.facts``: the requests it
drew, the utilisation it landed, the jobs it configured, the causes it planted). Never from the
written bill or from dbt: the marts are tested against this.

The thresholds are the defaults of dbt_project.yml's vars, restated here as the generator's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from smcost.demo.account import PRICES, next_size_down
from smcost.demo.clock import DAY_MS, HOUR_MS, Flags, Floats, Millis, hour_of_day, utc
from smcost.demo.facts import HostedVariant
from smcost.demo.ledger import Ledger, Owner
from smcost.schemas import GROUND_TRUTH_FINDINGS

FORGOTTEN_DAYS = 7  # var forgotten_endpoint_days
WORKING_WEEKDAYS, WORKING_HOURS = 5, (8, 19)  # var working_hours: Monday-Friday, 08:00-19:00 UTC
OVER_PROVISIONED_PEAK = 30.0  # var over_provisioned_peak_percent
PRICED_REGION = "us-east-1"  # the region of seeds/sagemaker_instance_prices.csv (and of PRICES)

Row = dict[str, object]


@dataclass(frozen=True)
class _Usage:
    """A resource's SageMaker usage rows (of the usage types asked for), booked in its own period."""

    start: Millis
    quantity: Floats
    cost: Floats  # effective
    owners: tuple[Owner, ...]


class _Charges:
    """The SageMaker usage the ledger booked, per resource: what its hours cost."""

    def __init__(self, ledger: Ledger) -> None:
        self.by_resource: dict[str, list[tuple[str, Millis, Floats, Floats, Owner]]] = defaultdict(list)
        for block in ledger.blocks:
            charge = block.charge
            # Usage in its own period: no plan fee, credit, refund, tax or correction.
            if charge.service != "AmazonSageMaker" or charge.category != "Usage" or charge.charge_class:
                continue
            if charge.resource_id is None:
                continue
            cost = block.quantity * block.effective_rate
            for owner, share in charge.owners:
                weight = 1.0 if share is None else share
                entry = (charge.usage, block.start_ms, block.quantity * weight, cost * weight, owner)
                self.by_resource[charge.resource_id].append(entry)

    def usage(self, resource: str, wanted: Callable[[str], bool]) -> _Usage:
        parts = [(s, q, c, o) for usage, s, q, c, o in self.by_resource.get(resource, []) if wanted(usage)]
        if not parts:
            return _Usage(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), ())
        return _Usage(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            tuple(dict.fromkeys(p[3] for p in parts)),
        )

    def resources(self, wanted: Callable[[str], bool]) -> list[str]:
        return [r for r, entries in self.by_resource.items() if any(wanted(e[0]) for e in entries)]


def findings(ledger: Ledger) -> pa.Table:
    """Every finding of one replica, in the dataset's schema."""
    charges = _Charges(ledger)
    periods = [utc(ms).strftime("%Y-%m") for ms in ledger.months[:-1]]
    rows: list[Row] = []
    for variant in ledger.facts.variants:
        rows += _endpoint_findings(ledger, charges, periods, variant)
    rows += _notebook_findings(ledger, charges, periods)
    rows += _spot_candidates(ledger, charges, periods)
    rows += _growth_drivers(ledger, charges, periods)
    return pa.Table.from_pylist(rows, schema=GROUND_TRUTH_FINDINGS.schema)


def _row(
    finding: str, period: str, resource: str | None, owners: tuple[Owner, ...], amount: float, **rest: object
) -> Row:
    """A finding's row, its owner the resource's one owner (or what its owners have in common)."""
    teams = {o.team for o in owners if o.model != "__idle__"} or {o.team for o in owners}
    models = {o.model for o in owners}
    environments = {o.environment for o in owners}
    return {
        "finding": finding,
        "billing_period": period,
        "resource_arn": resource,
        "team": teams.pop() if len(teams) == 1 else None,
        "model": models.pop() if len(models) == 1 else None,
        "environment": environments.pop() if len(environments) == 1 else None,
        "amount": float(amount),
        "quantity": rest.get("quantity"),
        "detail": rest.get("detail"),
    }


def _per_period(ledger: Ledger, starts: Millis) -> Iterator[tuple[int, Flags]]:
    """Each generated period's index and which of ``starts`` fall in it."""
    for i in range(len(ledger.months) - 1):
        yield i, (starts >= ledger.months[i]) & (starts < ledger.months[i + 1])


def _endpoint_findings(ledger: Ledger, charges: _Charges, periods: list[str], v: HostedVariant) -> list[Row]:
    """endpoint_idle and endpoint_unknown (single-model endpoints), forgotten_endpoint and
    over_provisioned_endpoint (any instance-backed real-time endpoint with metrics)."""
    host = charges.usage(v.endpoint_arn, lambda usage: usage == f"Host:{v.instance}")
    in_service = np.isin(host.start, v.hours)
    cost = np.zeros(len(v.hours))  # each hour's instance cost, every instance of the variant
    np.add.at(cost, np.searchsorted(v.hours, host.start[in_service]), host.cost[in_service])
    idle = v.requests == 0
    rows: list[Row] = []
    for i, in_period in _per_period(ledger, v.hours):
        if not in_period.any():
            continue
        period, spent = periods[i], float(cost[in_period].sum())
        if not v.metered:
            if v.kind == "single_model":
                rows.append(
                    _row(
                        "endpoint_unknown", period, v.endpoint_arn, host.owners, spent, quantity=float(in_period.sum())
                    )
                )
            continue
        idle_cost = float(cost[in_period & idle].sum())
        if v.kind == "single_model" and idle_cost > 0:
            hours = float((in_period & idle).sum())
            rows.append(_row("endpoint_idle", period, v.endpoint_arn, host.owners, idle_cost, quantity=hours))
        quiet_days = _quiet_days_at_end(v, ledger.months[i + 1])
        if quiet_days is not None and quiet_days >= FORGOTTEN_DAYS:
            rows.append(_row("forgotten_endpoint", period, v.endpoint_arn, host.owners, spent, quantity=quiet_days))
        smaller = next_size_down(v.instance)
        assert v.peak is not None
        if smaller and v.region == PRICED_REGION and v.peak[in_period].max() < OVER_PROVISIONED_PEAK:
            saving = spent * (1 - PRICES[smaller] / PRICES[v.instance])
            rows.append(_row("over_provisioned_endpoint", period, v.endpoint_arn, host.owners, saving, detail=smaller))
    return rows


def _quiet_days_at_end(v: HostedVariant, period_end: int) -> float | None:
    """Days without a request up to ``period_end``, counted back across periods over the hours the
    variant was in service without a break; None if it was not in service in the period's last hour."""
    last = int(np.searchsorted(v.hours, period_end - HOUR_MS))
    if last >= len(v.hours) or v.hours[last] != period_end - HOUR_MS:
        return None
    first = last + 1
    while (
        first > 0
        and v.requests[first - 1] == 0
        and (first == last + 1 or v.hours[first] - v.hours[first - 1] == HOUR_MS)
    ):
        first -= 1
    return (last + 1 - first) / 24


def _notebook_findings(ledger: Ledger, charges: _Charges, periods: list[str]) -> list[Row]:
    """notebook_after_hours and notebook_always_on, for notebook instances and Studio apps."""
    wanted = lambda usage: usage.startswith(("Notebk:", "Studio:"))  # noqa: E731
    rows: list[Row] = []
    for resource in charges.resources(wanted):
        use = charges.usage(resource, wanted)
        weekday = ((use.start // DAY_MS) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        hour = hour_of_day(use.start)
        after = (weekday >= WORKING_WEEKDAYS) | (hour < WORKING_HOURS[0]) | (hour >= WORKING_HOURS[1])
        for i, in_period in _per_period(ledger, use.start):
            if not in_period.any():
                continue
            late = in_period & after
            if use.cost[late].sum() > 0:
                rows.append(
                    _row(
                        "notebook_after_hours",
                        periods[i],
                        resource,
                        use.owners,
                        use.cost[late].sum(),
                        quantity=float(use.quantity[late].sum()),
                    )
                )
            billed = np.unique(use.start[in_period])
            if len(billed) == (ledger.months[i + 1] - billed[0]) // HOUR_MS:  # every hour from its first
                amount = use.cost[in_period].sum()
                quantity = float(use.quantity[in_period].sum())
                rows.append(_row("notebook_always_on", periods[i], resource, use.owners, amount, quantity=quantity))
    return rows


def _spot_candidates(ledger: Ledger, charges: _Charges, periods: list[str]) -> list[Row]:
    """spot_candidate: an on-demand job that checkpoints, its instance hours (a warm pool's included)."""
    rows: list[Row] = []
    for job in ledger.facts.spot_candidates:
        use = charges.usage(job, lambda usage: usage.startswith(("Train:ml.", "TrainWarmPool:ml.")))
        for i, in_period in _per_period(ledger, use.start):
            if in_period.any():
                rows.append(
                    _row("spot_candidate", periods[i], job, use.owners, use.cost[in_period].sum(), quantity=1.0)
                )
    return rows


def _growth_drivers(ledger: Ledger, charges: _Charges, periods: list[str]) -> list[Row]:
    """growth_driver: per planted cause, team and period, the SageMaker usage cost of the cause's resources."""
    rows: list[Row] = []
    for cause, resources in ledger.facts.causes.items():
        by_team: dict[tuple[int, str | None], tuple[float, set[Owner]]] = {}
        for resource in resources:
            use = charges.usage(resource, lambda usage: True)
            (owner,) = use.owners
            for i, in_period in _per_period(ledger, use.start):
                if in_period.any():
                    total, owners = by_team.get((i, owner.team), (0.0, set()))
                    by_team[(i, owner.team)] = (total + float(use.cost[in_period].sum()), owners | {owner})
        for (i, _), (amount, owners) in sorted(by_team.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            rows.append(_row("growth_driver", periods[i], None, tuple(sorted(owners, key=str)), amount, detail=cause))
    return rows
