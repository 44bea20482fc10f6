"""What a neighbour charge is split by: the SageMaker usage the ledger booked before it.

A bucket prefix, an image, a file system or a shared log group is split across the resources that
reference it by their SageMaker usage hours in the billing period (the compute rows of the bill:
usage in hours); a resource with no compute (a SageMaker model) only counts when none of the others
has any. An endpoint's log group follows the endpoint's compute allocation in the month. Each
resource's owner is the owner its compute has in the ground truth (for a SageMaker model, its tags):
its share is knowable exactly when that owner is (the link itself is metadata).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from smcost.demo.clock import HOUR_MS, Floats, Millis
from smcost.demo.ledger import NOBODY, Ledger, Owner, Share

GIB = 2**30


class Usage:
    """The compute the ledger has booked so far, per resource and billing month (its index in
    ``ledger.months``), and the owner of each resource."""

    def __init__(self, ledger: Ledger) -> None:
        self.months = np.asarray(ledger.months, dtype=np.int64)
        n = len(ledger.months) - 1
        self.hours: dict[str, Floats] = defaultdict(lambda: np.zeros(n))
        self.owner: dict[str, Owner] = {}
        # Endpoint compute in effective dollars per month and owner, idle capacity and rows whose
        # split no metric reveals left out (what a per-model split of the compute can know).
        self.allocation: dict[str, list[dict[Owner, float]]] = defaultdict(
            lambda: [defaultdict(float) for _ in range(n)]
        )
        self.account: dict[str, tuple[str, str]] = {}
        for block in ledger.blocks:
            charge = block.charge
            if charge.service != "AmazonSageMaker" or charge.category != "Usage" or charge.unit != "Hrs":
                continue
            if charge.resource_id is None:
                continue
            arn = charge.resource_id
            month = self.month_of(block.start_ms)
            np.add.at(self.hours[arn], month, block.quantity)
            self.account[arn] = (charge.acct, charge.region)
            if len(charge.owners) == 1:
                self.owner.setdefault(arn, charge.owners[0][0])
            known = np.ones(len(month), dtype=bool) if charge.unknowable is None else ~charge.unknowable
            cost = block.quantity * block.effective_rate
            for owner, share in charge.owners:
                if owner.model == "__idle__":
                    continue
                weight = cost * known * (1.0 if share is None else share)
                for m, dollars in enumerate(np.bincount(month, weights=weight, minlength=n).tolist()):
                    self.allocation[arn][m][owner] += dollars

    def month_of(self, start_ms: Millis) -> Millis:
        index: Millis = np.searchsorted(self.months, start_ms, side="right") - 1
        return index

    def add_owner(self, arn: str, owner: Owner) -> None:
        """The owner of a resource that bills no compute of its own (a SageMaker model)."""
        self.owner.setdefault(arn, owner)

    def jobs_in(self, acct: str, region: str, prefix: str) -> list[str]:
        """The resources of an account and region whose ARN starts with ``prefix`` (a job kind)."""
        return sorted(a for a, where in self.account.items() if where == (acct, region) and a.startswith(prefix))

    def split(self, resources: Iterable[str]) -> list[dict[Owner, float]]:
        """Per month: each owner's share of what the resources share, by their usage hours in the
        month (evenly when none of them has any)."""
        arns = list(dict.fromkeys(resources))
        out = []
        for m in range(len(self.months) - 1):
            hours = np.array([self.hours[a][m] if a in self.hours else 0.0 for a in arns])
            weights = hours / hours.sum() if hours.sum() > 0 else np.full(len(arns), 1 / len(arns))
            shares: dict[Owner, float] = defaultdict(float)
            for arn, weight in zip(arns, weights, strict=True):
                if weight > 0:
                    shares[linked(self.owner[arn])] += float(weight)
            out.append(dict(shares))
        return out

    def endpoint_split(self, endpoint_arn: str) -> list[dict[Owner, float]]:
        """Per month: the endpoint's owners in the proportion of their compute allocation."""
        out = []
        for dollars in self.allocation[endpoint_arn]:
            total = sum(dollars.values())
            out.append({linked(o): d / total for o, d in dollars.items()} if total > 0 else {})
        return out


def linked(owner: Owner) -> Owner:
    """A resource's owner as the owner of what it references: known through the metadata link
    when the resource's own owner is knowable."""
    evidence = "metadata" if owner.is_knowable else "none"
    return Owner(owner.model, owner.team, owner.experiment, owner.environment, evidence)


class Split:
    """Owners' shares of each row of a daily charge, accumulated part by part."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.shares: dict[Owner, Floats] = {}

    def add(self, owner: Owner, share: Floats) -> None:
        if owner not in self.shares:
            self.shares[owner] = np.zeros(self.rows)
        self.shares[owner] += share

    def add_monthly(self, per_month: list[dict[Owner, float]], month: Millis, fraction: Floats) -> None:
        """``fraction`` of each row, spread over the owners of the row's month."""
        for m, owners in enumerate(per_month):
            in_month = np.where(month == m, fraction, 0.0)
            if not in_month.any():
                continue
            for owner, weight in owners.items():
                self.add(owner, in_month * weight)

    def owners(self) -> list[Share]:
        """The shares, each row's remainder (if any) to nobody."""
        total = np.zeros(self.rows)
        for share in self.shares.values():
            total += share
        rest = np.clip(1.0 - total, 0.0, None)
        rest[np.isclose(rest, 0.0, atol=1e-12)] = 0.0
        owners: list[Share] = [(o, s) for o, s in self.shares.items()]
        if rest.any():
            owners.append((NOBODY, rest))
        return owners


def month_hours(months: Millis, month: Millis) -> Floats:
    """The hours in each row's billing month."""
    hours: Floats = (months[month + 1] - months[month]) / HOUR_MS
    return hours


def gb_months(byte_days: Floats, months: Millis, month: Millis) -> Floats:
    """A day's GB-months of ``byte_days`` bytes stored all day: bytes / 2^30 x 24 / hours in the month."""
    quantity: Floats = byte_days / GIB * 24 / month_hours(months, month)
    return quantity
