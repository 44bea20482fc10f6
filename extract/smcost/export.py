"""Export our allocations for other tools. `smcost export focus`: the SageMaker charges with our
allocations as a FOCUS 1.3 dataset (split-cost rows), so any FOCUS tool can load them.

It writes the mart fct_sagemaker_focus_1_3_allocations (models/marts/focus_export) from the DuckDB
file `dbt build --target local` wrote: one row per origin charge and allocation target, every FOCUS
column of the origin charge with costs and quantities scaled by the allocation ratio, and the
Allocated* columns FOCUS 1.3 defines (docs/focus-export.md has the mapping).

  --format parquet  (default) FOCUS types: costs, prices and quantities double; the four period
                    columns timestamp (milliseconds, UTC); Tags, SkuPriceDetails, AllocatedTags and
                    AllocatedMethodDetails JSON object text, as the spec types JSON columns.
  --format csv      the same columns; timestamps as 2026-08-01T00:00:00Z, NULL as an empty field.

Column names are FOCUS's (PascalCase), x_ columns are ours and AWS's: x_ChargeId (the origin charge:
the rows sharing it add up to it), x_AllocationId (the row's key), x_ServiceCode, x_Operation.

Exit status: 0 written; 2 the database is missing or unreadable, the mart is missing (an older
build: run `dbt build`), or --period names a period the mart does not hold (the message lists those
it does). The file is written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from smcost.explain import _period
from smcost.marts import MartsUnavailable, connect_marts, first_line

MART = "fct_sagemaker_focus_1_3_allocations"
PARTITION_COLUMN = "billing_period"  # the Athena partition, not a FOCUS column: left out of the file
TIMESTAMP_COLUMNS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")


class ExportError(Exception):
    """A reason the export cannot be written, worded for the user."""


def periods(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [p for (p,) in con.execute(f"select distinct {PARTITION_COLUMN} from {MART} order by 1").fetchall()]


def focus_table(con: duckdb.DuckDBPyConnection, period: str | None) -> pa.Table:
    """The mart's rows (one period, or all) as FOCUS 1.3 types, in a stable order."""
    available = periods(con)
    if period is not None and period not in available:
        held = ", ".join(available) or "none"
        raise ExportError(f"billing period {period} is not in {MART} (it holds: {held})")
    columns = [column[0] for column in con.execute(f"select * from {MART} limit 0").description]
    selected = ", ".join(f'"{name}"' for name in columns if name != PARTITION_COLUMN)
    where = f"where {PARTITION_COLUMN} = ?" if period else ""
    table = con.sql(
        f"select {selected} from {MART} {where} order by ChargePeriodStart, x_ChargeId, x_AllocationId",
        params=[period] if period else None,
    ).to_arrow_table()
    for name in TIMESTAMP_COLUMNS:
        index = table.schema.get_field_index(name)
        # The bill's periods are UTC instants; FOCUS wants them marked so.
        table = table.set_column(index, name, table[name].cast(pa.timestamp("ms", tz="UTC")))
    return table


def _as_csv_text(table: pa.Table) -> pa.Table:
    for name in TIMESTAMP_COLUMNS:
        index = table.schema.get_field_index(name)
        # Whole seconds first: Arrow's %S of a millisecond timestamp prints the fraction too.
        seconds = table[name].cast(pa.timestamp("s", tz="UTC"))
        table = table.set_column(index, name, pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ"))
    return table


def write(table: pa.Table, out: Path, file_format: str) -> None:
    """Write the table to `out` whole: into a temporary file beside it, then renamed into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        if file_format == "csv":
            pacsv.write_csv(_as_csv_text(table), temporary)
        else:
            pq.write_table(table, temporary)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _default_out(period: str | None, file_format: str) -> Path:
    return Path(f"sagemaker-focus-1.3-{period or 'all'}.{file_format}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dataset", metavar="<dataset>", required=True)
    focus = sub.add_parser(
        "focus",
        help="the SageMaker charges with our allocations as FOCUS 1.3 split-cost rows",
        description="Write the SageMaker charges with our allocations as a FOCUS 1.3 dataset.",
    )
    focus.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default: parquet)")
    focus.add_argument(
        "--out", type=Path, help="file to write (default: sagemaker-focus-1.3-<period or all>.<format> here)"
    )
    focus.add_argument("--period", type=_period, help="one billing period, YYYY-MM (default: every period held)")
    focus.add_argument("--database", default="data/smcost.duckdb", help="DuckDB file (default: %(default)s)")
    focus.epilog = "Example: smcost export focus --period 2026-09 --out focus-2026-09.parquet"


def run(args: argparse.Namespace) -> int:
    path = Path(args.database)
    try:
        con = connect_marts(path)
    except MartsUnavailable as exc:
        print(f"smcost export: {exc}", file=sys.stderr)
        return 2
    with con:
        try:
            table = focus_table(con, args.period)
        except ExportError as exc:
            print(f"smcost export: {exc}", file=sys.stderr)
            return 2
        except duckdb.CatalogException as exc:
            print(
                f"smcost export: {MART} is missing from {path} ({first_line(exc)}). Run `dbt build --target local`.",
                file=sys.stderr,
            )
            return 2
    out = args.out or _default_out(args.period, args.format)
    write(table, out, args.format)
    print(f"wrote {table.num_rows:,} FOCUS 1.3 rows ({args.format}) to {out}")
    return 0
