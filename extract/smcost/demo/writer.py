"""The ledger to Arrow and the lake: the bill in the export's exact schema, the ground truth and the
findings' ground truth, the metadata datasets, streamed replica by replica into partitions, then
each period's manifest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
from numpy.typing import NDArray

from smcost import lake
from smcost.demo.account import NEIGHBOUR_SCOPE, PAYER, SAGEMAKER_SCOPE, short_hash
from smcost.demo.checks import conform_table
from smcost.demo.clock import Flags, Floats, Millis, utc
from smcost.demo.findings import findings
from smcost.demo.ledger import BLOCK_COLUMNS, Block, Ledger, Owner
from smcost.schemas import DATASETS, GROUND_TRUTH, GROUND_TRUTH_FINDINGS, USAGE_TYPE_COLUMN, focus_schema

# The bucket the demo pretends AWS Data Exports delivers to (manifests name files as s3:// URIs).
DEMO_EXPORT_BUCKET = "acme-payer-billing-exports"
_TS = pa.timestamp("ms")
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class _Rows:
    """The ledger's blocks flattened to one entry per bill row."""

    sizes: Ints  # rows per block
    block: Ints  # the block of each row
    start: Millis
    end: Millis
    quantity: Floats
    list_rate: Floats
    billed: Floats
    effective: Floats
    period_start: Millis  # of the billing period the row is booked in
    period_end: Millis
    billing_period: NDArray[np.str_]  # YYYY-MM


def to_tables(ledger: Ledger, focus_version: str) -> tuple[pa.Table, pa.Table]:
    """The ledger's bill (in the export's exact schema) and its ground truth."""
    rows = _flatten(ledger.blocks)
    bill = _bill(ledger.blocks, rows, focus_version)
    return bill, _ground_truth(ledger.blocks, rows, bill, focus_version)


def _flatten(blocks: list[Block]) -> _Rows:
    sizes = np.array([len(b.start_ms) for b in blocks])
    start = np.concatenate([b.start_ms for b in blocks])
    quantity = np.concatenate([b.quantity for b in blocks])
    list_rate = np.repeat([b.charge.list_rate for b in blocks], sizes)
    billed_rate = np.repeat([b.billed_rate for b in blocks], sizes)
    effective_rate = np.repeat([b.effective_rate for b in blocks], sizes)
    # A correction is booked in a later period than its charge period.
    booked = np.repeat(
        [-1 if b.charge.billing_period_ms is None else b.charge.billing_period_ms for b in blocks], sizes
    )
    period_start, period_end = _period_bounds(np.where(booked >= 0, booked, start))
    return _Rows(
        sizes=sizes,
        block=np.repeat(np.arange(len(blocks)), sizes),
        start=start,
        end=start + np.repeat([b.charge.duration_ms for b in blocks], sizes),
        quantity=quantity,
        list_rate=list_rate,
        billed=quantity * billed_rate,
        effective=quantity * effective_rate,
        period_start=period_start,
        period_end=period_end,
        billing_period=np.datetime_as_string(period_start.astype("datetime64[ms]"), unit="M"),
    )


def _period_bounds(start_ms: Millis) -> tuple[Millis, Millis]:
    """Month start and next month start (ms) for each timestamp."""
    months = start_ms.astype("datetime64[ms]").astype("datetime64[M]")
    return (months.astype("datetime64[ms]").astype(np.int64), (months + 1).astype("datetime64[ms]").astype(np.int64))


def _bill(blocks: list[Block], rows: _Rows, focus_version: str) -> pa.Table:
    """The columns each charge shares, repeated over its rows, then the columns computed per row."""
    per_block = pa.Table.from_pylist(
        [{k: b.columns.get(k) for k in BLOCK_COLUMNS} for b in blocks],
        schema=pa.schema([focus_schema("1.2").field(k) for k in BLOCK_COLUMNS]),
    )
    table = per_block.take(pa.array(rows.block))
    for name, values in _per_row_columns(rows, _Kinds.of(blocks, rows)).items():
        table = table.append_column(name, values)
    if focus_version == "1.0":
        table = table.append_column("x_UsageType", table.column("SkuMeter"))
        table = table.append_column("x_CostCategories", pa.nulls(table.num_rows, pa.map_(pa.string(), pa.string())))
    # Built with the 1.2 columns: the 1.0 export has fewer, so only missing ones are an error.
    return conform_table("billing", table, focus_schema(focus_version), exact=False)


@dataclass(frozen=True)
class _Kinds:
    """Per bill row: which FOCUS 1.2 columns it fills (``Charge.is_priced`` and ``is_consumed``),
    whether it uses or buys a commitment, and whether it is the purchase."""

    priced: Flags  # unit prices and PricingQuantity (usage and purchases, corrections excepted)
    consumed: Flags  # ConsumedQuantity (usage, not an unused commitment)
    committed: Flags  # CommitmentDiscountQuantity (priced rows of a commitment)
    purchase: Flags

    @staticmethod
    def of(blocks: list[Block], rows: _Rows) -> _Kinds:
        def flag(test: Callable[[Block], bool]) -> Flags:
            return np.array([test(b) for b in blocks], dtype=bool)[rows.block]

        return _Kinds(
            priced=flag(lambda b: b.charge.is_priced),
            consumed=flag(lambda b: b.charge.is_consumed),
            committed=flag(lambda b: b.charge.is_priced and b.columns.get("CommitmentDiscountId") is not None),
            purchase=flag(lambda b: b.charge.category == "Purchase"),
        )


def _per_row_columns(rows: _Rows, kinds: _Kinds) -> dict[str, pa.Array]:
    """Costs on every row; unit prices and quantities only where FOCUS 1.2 has them (null on tax,
    credits and corrections, so no unit price is negative); the costs never depend on the masks."""
    listed = rows.quantity * rows.list_rate
    unpriced = ~kinds.priced
    return {
        "BilledCost": pa.array(rows.billed),
        "EffectiveCost": pa.array(rows.effective),
        "ListCost": pa.array(listed),
        "ContractedCost": pa.array(listed),
        "ListUnitPrice": pa.array(rows.list_rate, mask=unpriced),
        "ContractedUnitPrice": pa.array(rows.list_rate, mask=unpriced),
        "PricingCurrencyListUnitPrice": pa.array(rows.list_rate, mask=unpriced),
        "PricingCurrencyContractedUnitPrice": pa.array(rows.list_rate, mask=unpriced),
        "PricingCurrencyEffectiveCost": pa.array(rows.effective),
        "ConsumedQuantity": pa.array(rows.quantity, mask=~kinds.consumed),
        "PricingQuantity": pa.array(rows.quantity, mask=unpriced),
        "ChargePeriodStart": pa.array(rows.start, _TS),
        "ChargePeriodEnd": pa.array(rows.end, _TS),
        "BillingPeriodStart": pa.array(rows.period_start, _TS),
        "BillingPeriodEnd": pa.array(rows.period_end, _TS),
        "InvoiceId": pa.array(np.char.add(np.char.add("INV-", rows.billing_period), f"-{PAYER[0]}")),
        # In the plan's unit (USD): what each hour consumed or left unused, and on the recurring
        # fee the hour's commitment.
        "CommitmentDiscountQuantity": pa.array(np.where(kinds.purchase, listed, rows.effective), mask=~kinds.committed),
    }


def _ground_truth(blocks: list[Block], rows: _Rows, bill: pa.Table, focus_version: str) -> pa.Table:
    """One row per SageMaker-scope or in-scope neighbour bill row and true owner with a non-zero share."""
    r, owners, o, share, knowable = _owner_rows(blocks, rows.sizes)
    owner_table = pa.Table.from_pylist(
        [
            {
                "model": w.model,
                "team": w.team,
                "experiment": w.experiment,
                "environment": w.environment,
                "evidence": w.evidence,
            }
            for w in owners
        ]
    )
    owner_cols = owner_table.take(pa.array(o))
    at_rows = pa.array(r)
    evidence = np.array(owner_cols.column("evidence").to_pylist(), dtype=object)
    truth = pa.table(
        {
            "billing_period": pa.array(rows.billing_period[r]),
            "sub_account_id": bill.column("SubAccountId").take(at_rows),
            "resource_id": bill.column("ResourceId").take(at_rows),
            "service_code": bill.column("x_ServiceCode").take(at_rows),
            "charge_period_start": pa.array(rows.start[r], _TS),
            "usage_type": bill.column(USAGE_TYPE_COLUMN[focus_version]).take(at_rows),
            "charge_category": bill.column("ChargeCategory").take(at_rows),
            "charge_class": bill.column("ChargeClass").take(at_rows),
            "pricing_category": bill.column("PricingCategory").take(at_rows),
            "model": owner_cols.column("model"),
            "team": owner_cols.column("team"),
            "experiment": owner_cols.column("experiment"),
            "environment": owner_cols.column("environment"),
            "share": share,
            "billed_cost": rows.billed[r] * share,
            "effective_cost": rows.effective[r] * share,
            "is_knowable": knowable,
            "evidence": pa.array(np.where(knowable, evidence, "none")),
        }
    )
    return conform_table("demo.ground_truth", truth, GROUND_TRUTH.schema)


def _owner_rows(blocks: list[Block], sizes: Ints) -> tuple[Ints, list[Owner], Ints, Floats, Flags]:
    """Per (bill row, owner) with a share: the bill row, the owners, each entry's owner, its share
    and whether it is knowable."""
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    gt_rows, gt_owner, gt_share, gt_knowable = [], [], [], []
    owners: list[Owner] = []
    for i, b in enumerate(blocks):
        if b.charge.service not in SAGEMAKER_SCOPE | NEIGHBOUR_SCOPE or not b.charge.owners:
            continue
        rows = np.arange(offsets[i], offsets[i + 1])
        knowable = np.ones(len(rows), dtype=bool) if b.charge.unknowable is None else ~b.charge.unknowable
        for owner, owner_share in b.charge.owners:
            share = np.ones(len(rows)) if owner_share is None else owner_share
            keep = share > 0
            owners.append(owner)
            gt_rows.append(rows[keep])
            gt_owner.append(np.full(keep.sum(), len(owners) - 1))
            gt_share.append(share[keep])
            gt_knowable.append(knowable[keep] & owner.is_knowable)
    return (
        np.concatenate(gt_rows),
        owners,
        np.concatenate(gt_owner),
        np.concatenate(gt_share),
        np.concatenate(gt_knowable),
    )


def clear_previous_demo(out: str, export_name: str) -> None:
    """The demo owns its lake: drop what an earlier run wrote (other periods, dates, versions).
    A lake the extractor has written to (it has run manifests) is never the demo's: refuse."""
    fs, base = lake.filesystem(out)
    if fs.get_file_info(f"{base}/sagemaker/_runs").type == pafs.FileType.Directory:
        raise ValueError(
            f"{out} holds `smcost extract` runs (sagemaker/_runs): not overwriting real metadata "
            "with the demo account; choose another --out"
        )
    lake.validate_name("export name", export_name)
    for sub in (f"billing/{export_name}", "sagemaker", "demo"):
        path = f"{base}/{sub}"
        if fs.get_file_info(path).type == pafs.FileType.Directory:
            lake.delete_inside(fs, base, path, directory=True)  # never outside --out, even through a symlink


class LakeWriter:
    """Streams replicas into the lake: one partition per billing period, the ground truth, the
    findings' ground truth, and one partition per metadata dataset (dated by the replicas'
    extraction time). A growth driver is a team's, and the replicas share team names: its rows
    are summed over the replicas and written on close."""

    def __init__(self, out: str, periods: list[str], focus_version: str, export_name: str) -> None:
        self.out, self.focus_version, self.export_name = out, focus_version, export_name
        self.schema = focus_schema(focus_version)
        self.bill = {p: lake.PartitionWriter(out, lake.billing_partition(p, export_name), self.schema) for p in periods}
        self.truth = lake.PartitionWriter(out, lake.GROUND_TRUTH_DIR, GROUND_TRUTH.schema)
        self.findings = lake.PartitionWriter(out, lake.GROUND_TRUTH_FINDINGS_DIR, GROUND_TRUTH_FINDINGS.schema)
        self.growth: dict[tuple[tuple[str, object], ...], float] = {}
        self.meta: dict[str, lake.PartitionWriter] = {}

    def write(self, ledger: Ledger) -> None:
        bill, truth = to_tables(ledger, self.focus_version)
        period = np.datetime_as_string(bill.column("BillingPeriodStart").to_numpy().astype("datetime64[ms]"), unit="M")
        for p, writer in self.bill.items():
            writer.write(bill.filter(pa.array(period == p)))
        self.truth.write(truth)
        found = findings(ledger)
        growth = pc.equal(found["finding"], "growth_driver")
        self.findings.write(found.filter(pc.invert(growth)))
        for row in found.filter(growth).to_pylist():
            amount = row.pop("amount")
            key = tuple(row.items())
            self.growth[key] = self.growth.get(key, 0.0) + amount
        if not self.meta:  # every replica is extracted at the same instant
            extract_date = ledger.extracted_at.strftime("%Y-%m-%d")
            self.meta = {
                name: lake.PartitionWriter(self.out, lake.dataset_partition(name, extract_date), ds.schema)
                for name, ds in DATASETS.items()
            }
        for name, rows in ledger.meta.items():
            table = lake.rows_to_table(rows, DATASETS[name].schema)
            self.meta[name].write(pa.concat_tables([table, *ledger.meta_batches[name]]))

    def close(self, seed: int) -> dict[str, int]:
        """Close every partition, then write each period's manifest, as AWS delivers it: the
        period's files, then the manifest naming them. Returns rows written per output."""
        growth = [{**dict(key), "amount": amount} for key, amount in self.growth.items()]
        self.findings.write(pa.Table.from_pylist(growth, schema=GROUND_TRUTH_FINDINGS.schema))
        counts = {
            "bill_rows": sum(w.rows for w in self.bill.values()),
            "ground_truth_rows": self.truth.rows,
            "ground_truth_findings_rows": self.findings.rows,
        }
        for writer in [*self.bill.values(), self.truth, self.findings, *self.meta.values()]:
            writer.close()
        for period, writer in self.bill.items():
            lake.write_export_manifest(
                self.out,
                period,
                self.export_name,
                writer.paths,
                self.schema,
                bucket=DEMO_EXPORT_BUCKET,
                execution_id=short_hash(seed, period, n=16),
            )
        counts.update({f"sagemaker.{name}": w.rows for name, w in self.meta.items()})
        return counts


def billing_periods(month_starts_ms: list[int]) -> list[str]:
    """YYYY-MM of each month but the last (which only closes the one before)."""
    return [utc(ms).strftime("%Y-%m") for ms in month_starts_ms[:-1]]
