"""The ledger of one replica of the demo account: every charge (bill rows that share a resource and
usage type), every metadata row, and the true owners of each charge (the ground truth).

Every row is checked against ``smcost.schemas`` as it is booked: a column the dataset's schema
lacks, or a value of the wrong type, is a ``SchemaMismatch`` naming the dataset and the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field

import numpy as np

from smcost.demo.account import ACCOUNTS, PAYER, REGIONS, SERVICES, Tags, short_hash
from smcost.demo.checks import SchemaMismatch, check_row
from smcost.demo.clock import DAY_MS, HOUR_MS, Flags, Floats, Millis, month_starts, utc
from smcost.schemas import DATASETS, focus_schema

__all__ = ["NOBODY", "Block", "Charge", "Ledger", "Owner", "SchemaMismatch", "Share", "only"]

# The FOCUS columns a charge sets once for all its rows; the rest (costs, quantities, periods,
# invoice) are computed per row when the bill is written.
BLOCK_COLUMNS = [
    f
    for f in focus_schema("1.2").names
    if f not in {
        "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
        "ConsumedQuantity", "PricingQuantity", "ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart",
        "BillingPeriodEnd", "InvoiceId", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice", "CommitmentDiscountQuantity",
    }  # fmt: skip
]
_BLOCK_SCHEMA = focus_schema("1.2")


@dataclass(frozen=True)
class Owner:
    """Who truly owns (a share of) a charge, and what evidence would reveal it."""

    model: str | None
    team: str | None
    experiment: str | None
    environment: str | None
    evidence: str  # bill_tag | api_tag | metadata | rule | none

    @property
    def is_knowable(self) -> bool:
        return self.evidence != "none"


# The owner of what no model owns: plan fees, credits, tax, the neighbours outside SageMaker.
NOBODY = Owner(None, None, None, None, "none")

# An owner and its share of each row of a charge (None: all of every row); shares sum to 1 per row.
Share = tuple[Owner, Floats | None]


def only(owner: Owner) -> list[Share]:
    """One owner of every row."""
    return [(owner, None)]


@dataclass(frozen=True)
class Charge:
    """One resource x usage type over some hours (or days, or a month): the bill rows it makes.

    ``start_ms`` and ``quantity`` give one row each; everything else is shared by the rows. The
    defaults are the common case: on-demand usage, billed at the list rate, by the hour.
    """

    acct: str
    region: str
    resource_id: str | None
    usage: str
    service: str
    start_ms: Millis | Sequence[int]
    quantity: Floats | Sequence[float]
    unit: str
    list_rate: float
    _: KW_ONLY
    owners: list[Share]
    bill_tags: Tags = field(default_factory=dict)
    pricing: str | None = "Standard"
    billed_rate: float | None = None  # default: the list rate
    effective_rate: float | None = None  # default: the billed rate
    category: str = "Usage"
    charge_class: str | None = None
    frequency: str = "Usage-Based"
    description: str | None = None
    operation: str = "RunInstance"
    commitment: Mapping[str, str] | None = None  # CommitmentDiscount* columns
    billing_period_ms: int | None = None  # set for corrections booked in a later period
    duration_ms: int = HOUR_MS
    unknowable: Flags | None = None  # rows whose true split no metric reveals

    def columns(self) -> dict[str, object]:
        """The FOCUS columns every row of the charge shares."""
        code, region_name, _ = REGIONS[self.region]
        acct_id, acct_name, _ = ACCOUNTS[self.acct]
        service_name, service_category, subcategory = SERVICES[self.service]
        description = self.description or f"${self.list_rate:g} per {self.unit} for {self.usage} in {region_name}"
        return {
            "BillingAccountId": PAYER[0], "BillingAccountName": PAYER[1], "BillingAccountType": "Billing Account",
            "BillingCurrency": "USD", "PricingCurrency": "USD",
            "ChargeCategory": self.category, "ChargeClass": self.charge_class, "ChargeFrequency": self.frequency,
            "ChargeDescription": description,
            "CommitmentDiscountCategory": None, "CommitmentDiscountId": None, "CommitmentDiscountName": None,
            "CommitmentDiscountStatus": None, "CommitmentDiscountType": None, "CommitmentDiscountUnit": None,
            "ConsumedUnit": self.unit, "PricingUnit": self.unit, "PricingCategory": self.pricing,
            "InvoiceIssuerName": "Amazon Web Services, Inc.", "ProviderName": "AWS",
            "PublisherName": "Amazon Web Services, Inc.",
            "RegionId": self.region, "RegionName": region_name, "ResourceId": self.resource_id,
            "ServiceName": service_name, "ServiceCategory": service_category, "ServiceSubcategory": subcategory,
            "SkuId": short_hash(self.usage, self.service).upper(),
            "SkuPriceId": short_hash(self.usage, self.pricing, self.list_rate).upper(),
            "SkuMeter": f"{code}-{self.usage}" if self.usage else None,
            "SubAccountId": acct_id, "SubAccountName": acct_name, "SubAccountType": "AWS Account",
            "Tags": list(self.bill_tags.items()),
            "x_Operation": self.operation, "x_ServiceCode": self.service,
            **(self.commitment or {}),
        }  # fmt: skip


@dataclass(frozen=True)
class Block:
    """A booked charge: the FOCUS columns its rows share, one start and quantity per row."""

    charge: Charge
    columns: dict[str, object]
    start_ms: Millis
    quantity: Floats
    billed_rate: float
    effective_rate: float


class Ledger:
    """One replica of the demo account. ``replica`` 0 uses plain names; others get a -rK suffix."""

    def __init__(self, seed: int, replica: int, start_month: str, months: int) -> None:
        # Every replica draws the same numbers: --scale N is exactly N copies, differing only in names.
        self.rng = np.random.default_rng(seed)
        self.suffix = "" if replica == 0 else f"-r{replica}"
        self.months = month_starts(start_month, months)
        self.t0, self.t1 = self.months[0], self.months[-1]
        self.blocks: list[Block] = []
        self.meta: dict[str, list[dict[str, object]]] = {name: [] for name in DATASETS}
        self.extracted_at = utc(self.t1 - HOUR_MS)

    def charge(self, charge: Charge) -> None:
        """Book a charge's bill rows and true owners."""
        columns = charge.columns()
        check_row("billing", _BLOCK_SCHEMA, columns, allowed=BLOCK_COLUMNS)
        billed = charge.list_rate if charge.billed_rate is None else charge.billed_rate
        effective = billed if charge.effective_rate is None else charge.effective_rate
        start_ms = np.asarray(charge.start_ms, dtype=np.int64)
        quantity = np.asarray(charge.quantity, dtype=np.float64)
        self.blocks.append(Block(charge, columns, start_ms, quantity, billed, effective))

    def metadata(self, dataset: str, acct: str, region: str, **values: object) -> None:
        """Book one row of a SageMaker metadata dataset, as the extractor would land it."""
        row = {"account_id": ACCOUNTS[acct][0], "region": region, "extracted_at": self.extracted_at, **values}
        check_row(f"sagemaker.{dataset}", DATASETS[dataset].schema, row)
        self.meta[dataset].append(row)

    def hours(self, start_ms: int, end_ms: int) -> Millis:
        """The hours of [start, end) inside the generated months (the first one floored to the hour)."""
        start = max(start_ms, self.t0) // HOUR_MS * HOUR_MS
        return np.arange(start, min(end_ms, self.t1), HOUR_MS, dtype=np.int64)

    def days(self, start_ms: int, end_ms: int) -> Millis:
        start = max(start_ms, self.t0) // DAY_MS * DAY_MS
        return np.arange(start, min(end_ms, self.t1), DAY_MS, dtype=np.int64)
