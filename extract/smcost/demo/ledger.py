"""The ledger of one replica of the demo account: every charge (bill rows that share a resource and
usage type), every metadata row, and the true owners of each charge (the ground truth).

Every row is checked against ``smcost.schemas`` as it is booked: a column the dataset's schema
lacks, or a value of the wrong type, is a ``SchemaMismatch`` naming the dataset and the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from smcost.demo.account import ACCOUNTS, PAYER, REGIONS, SAGEMAKER_SCOPE, SERVICES, Tags, account_id, short_hash
from smcost.demo.checks import RowSchema, SchemaMismatch, conform_table
from smcost.demo.clock import DAY_MS, HOUR_MS, Flags, Floats, Millis, month_starts, utc
from smcost.demo.facts import Facts
from smcost.schemas import DATASETS, focus_schema

__all__ = ["NOBODY", "Block", "Charge", "Ledger", "Owner", "SchemaMismatch", "Share", "only", "outside_scope"]

# The FOCUS columns computed per row when the bill is written (costs, quantities, periods,
# invoice); a charge sets every other column once for all its rows.
PER_ROW_COLUMNS = {
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ConsumedQuantity",
    "PricingQuantity",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "InvoiceId",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "CommitmentDiscountQuantity",
}
# AWS's pricing units as its FOCUS export spells them (FOCUS UnitFormat): the public AWS sample
# (shared/data/focus-sample-1.0) has "Hours" and "GB-Months", never the CUR's "Hrs" or "GB-Mo".
FOCUS_UNITS = {"Hrs": "Hours", "GB-Mo": "GB-Months"}
BLOCK_COLUMNS = [name for name in focus_schema("1.2").names if name not in PER_ROW_COLUMNS]
_BILL_ROW = RowSchema("billing", focus_schema("1.2"), allowed=BLOCK_COLUMNS)
_METADATA_ROWS = {name: RowSchema(f"sagemaker.{name}", ds.schema) for name, ds in DATASETS.items()}


# How an owner is knowable (ground truth's evidence column); "none": nothing reveals it.
EVIDENCE_KINDS = {"bill_tag", "api_tag", "metadata", "mlflow", "wandb", "rule", "none"}


@dataclass(frozen=True)
class Owner:
    """Who truly owns (a share of) a charge, and what evidence would reveal it."""

    model: str | None
    team: str | None
    experiment: str | None
    environment: str | None
    evidence: str  # one of EVIDENCE_KINDS

    def __post_init__(self) -> None:
        if self.evidence not in EVIDENCE_KINDS:
            raise SchemaMismatch(
                f"demo.ground_truth: evidence {self.evidence!r} is not one of {sorted(EVIDENCE_KINDS)}"
            )

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


def outside_scope() -> list[Share]:
    """No owners: a charge beside SageMaker that no SageMaker work is behind (a plain EC2 instance, a
    bucket nothing SageMaker references) stays out of the ground truth."""
    return []


@dataclass(frozen=True, kw_only=True)
class Charge:
    """One resource x usage type over some hours (or days, or a month): the bill rows it makes.

    ``start_ms`` and ``quantity`` give one row each; everything else is shared by the rows. The
    defaults are the common case: SageMaker usage on demand, billed at the list rate, by the hour.
    """

    acct: str
    region: str
    resource_id: str | None
    usage: str
    start_ms: Millis | Sequence[int]
    quantity: Floats | Sequence[float]
    unit: str
    list_rate: float
    owners: list[Share]
    service: str = "AmazonSageMaker"
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

    @property
    def is_priced(self) -> bool:
        """Its rows carry a SKU price, unit prices and a pricing quantity: FOCUS 1.2 requires them
        on usage and purchases (corrections excepted), forbids them on tax and leaves the rest free.
        Credits and corrections get none: their amounts are negative and a unit price may not be
        (the AWS credit of the public FOCUS sample has no ListUnitPrice either)."""
        return self.category in ("Usage", "Purchase") and self.charge_class != "Correction"

    @property
    def is_consumed(self) -> bool:
        """Its rows carry a consumed quantity: usage only, and not the commitment a plan left unused."""
        unused = (self.commitment or {}).get("CommitmentDiscountStatus") == "Unused"
        return self.is_priced and self.category == "Usage" and not unused

    def columns(self) -> dict[str, object]:
        """The FOCUS columns every row of the charge shares."""
        code, region_name, _ = REGIONS[self.region]
        acct_id, acct_name, _ = ACCOUNTS[self.acct]
        service_name, service_category, subcategory = SERVICES[self.service]
        description = self.description or f"${self.list_rate:g} per {self.unit} for {self.usage} in {region_name}"
        unit = FOCUS_UNITS.get(self.unit, self.unit)
        # A SKU is what a usage type is metered by; tax has none (FOCUS 1.2), nor a credit without one.
        has_sku = bool(self.usage) and self.category != "Tax"
        return {
            "BillingAccountId": PAYER[0],
            "BillingAccountName": PAYER[1],
            "BillingAccountType": "Billing Account",
            "BillingCurrency": "USD",
            "PricingCurrency": "USD",
            "ChargeCategory": self.category,
            "ChargeClass": self.charge_class,
            "ChargeFrequency": self.frequency,
            "ChargeDescription": description,
            "CommitmentDiscountCategory": None,
            "CommitmentDiscountId": None,
            "CommitmentDiscountName": None,
            "CommitmentDiscountStatus": None,
            "CommitmentDiscountType": None,
            "CommitmentDiscountUnit": None,
            # Null exactly where the writer nulls the quantity they measure.
            "ConsumedUnit": unit if self.is_consumed else None,
            "PricingUnit": unit if self.is_priced else None,
            "PricingCategory": self.pricing,
            "InvoiceIssuerName": "Amazon Web Services, Inc.",
            "ProviderName": "AWS",
            "PublisherName": "Amazon Web Services, Inc.",
            "RegionId": self.region,
            "RegionName": region_name,
            "ResourceId": self.resource_id,
            "ServiceName": service_name,
            "ServiceCategory": service_category,
            "ServiceSubcategory": subcategory,
            "SkuId": short_hash(self.usage, self.service).upper() if has_sku else None,
            "SkuPriceId": short_hash(self.usage, self.pricing, self.list_rate).upper() if self.is_priced else None,
            "SkuMeter": f"{code}-{self.usage}" if has_sku else None,
            "SubAccountId": acct_id,
            "SubAccountName": acct_name,
            "SubAccountType": "AWS Account",
            "Tags": list(self.bill_tags.items()),
            "x_Operation": self.operation,
            "x_ServiceCode": self.service,
            **(self.commitment or {}),
        }


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
        # The story of the bill's growth (story.py) and the endpoints' utilisation draw from their own
        # generator: adding them left the numbers of every case before them as they were.
        self.story_rng = np.random.default_rng([seed, 12])
        self.facts = Facts()
        self.suffix = "" if replica == 0 else f"-r{replica}"
        self.months = month_starts(start_month, months)
        self.t0, self.t1 = self.months[0], self.months[-1]  # the first instant generated, and the first after
        self.blocks: list[Block] = []
        self.meta: dict[str, list[dict[str, object]]] = {name: [] for name in DATASETS}
        self.meta_batches: dict[str, list[pa.Table]] = {name: [] for name in DATASETS}
        self.extracted_at = utc(self.t1 - HOUR_MS)

    def charge(self, charge: Charge) -> None:
        """Book a charge's bill rows and true owners."""
        columns = charge.columns()
        _BILL_ROW.check(columns)
        billed = charge.list_rate if charge.billed_rate is None else charge.billed_rate
        effective = billed if charge.effective_rate is None else charge.effective_rate
        start_ms = np.asarray(charge.start_ms, dtype=np.int64)
        quantity = np.asarray(charge.quantity, dtype=np.float64)
        _check_shares(charge, len(start_ms))
        self.blocks.append(Block(charge, columns, start_ms, quantity, billed, effective))

    def metadata(self, dataset: str, acct: str, region: str, **values: object) -> None:
        """Book one row of a SageMaker metadata dataset, as the extractor would land it."""
        row = {"account_id": account_id(acct), "region": region, "extracted_at": self.extracted_at, **values}
        _METADATA_ROWS[dataset].check(row)
        self.meta[dataset].append(row)

    def metadata_columns(self, dataset: str, acct: str, region: str, rows: int, **columns: object) -> None:
        """Book ``rows`` rows of a metadata dataset at once, column by column: an array (or Arrow
        array) per column, or a scalar every row shares; the hourly CloudWatch datasets are too many
        rows for a dict each. Timestamps are epoch milliseconds (UTC)."""
        schema = DATASETS[dataset].schema
        unknown = set(columns) - set(schema.names)
        if unknown:
            raise SchemaMismatch(f"sagemaker.{dataset}: column {sorted(unknown)[0]!r} is not in the dataset's schema")
        values = {"account_id": account_id(acct), "region": region, "extracted_at": self.extracted_at, **columns}
        arrays = {}
        for f in schema:
            value = values.get(f.name)
            if isinstance(value, (np.ndarray, pa.Array)):
                arrays[f.name] = value if isinstance(value, pa.Array) else pa.array(value)
            else:
                arrays[f.name] = pa.array([value] * rows, f.type if value is None else None)
            if len(arrays[f.name]) != rows:
                raise SchemaMismatch(
                    f"sagemaker.{dataset}: column {f.name!r} has {len(arrays[f.name])} values, not {rows}"
                )
            if pa.types.is_timestamp(f.type) and pa.types.is_integer(arrays[f.name].type):
                arrays[f.name] = arrays[f.name].cast(pa.timestamp("ms"))
        self.meta_batches[dataset].append(conform_table(f"sagemaker.{dataset}", pa.table(arrays), schema))

    def hours(self, start_ms: int, end_ms: int) -> Millis:
        """The hours of [start, end) inside the generated months (the first one floored to the hour)."""
        start = max(start_ms, self.t0) // HOUR_MS * HOUR_MS
        return np.arange(start, min(end_ms, self.t1), HOUR_MS, dtype=np.int64)

    def days(self, start_ms: int, end_ms: int) -> Millis:
        start = max(start_ms, self.t0) // DAY_MS * DAY_MS
        return np.arange(start, min(end_ms, self.t1), DAY_MS, dtype=np.int64)


def _check_shares(charge: Charge, rows: int) -> None:
    """The owners' shares of every row of a charge sum to 1 (the ground truth splits each row whole);
    only a charge outside SageMaker may have no owners at all (``outside_scope``)."""
    if not charge.owners and charge.service not in SAGEMAKER_SCOPE:
        return
    total = np.zeros(rows)
    for _, share in charge.owners:
        total += 1.0 if share is None else share
    if not np.allclose(total, 1.0):
        raise SchemaMismatch(
            f"demo.ground_truth: the owners' shares of {charge.usage} on {charge.resource_id} do not sum to 1 on "
            f"{int((~np.isclose(total, 1.0)).sum())} of {rows} rows"
        )
