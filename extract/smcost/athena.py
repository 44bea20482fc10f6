"""Athena plumbing. `smcost athena ddl` creates the tables that let Athena read the lake from zero.

It prints (or with --run, executes through Athena's StartQueryExecution) one
``CREATE DATABASE IF NOT EXISTS`` and one ``CREATE EXTERNAL TABLE IF NOT EXISTS`` per table:

- ``<prefix><dataset>`` for every landed SageMaker dataset (extract/smcost/schemas.py DATASETS),
  over ``<lake>/sagemaker/<dataset>/extract_date=YYYY-MM-DD/``;
- the FOCUS export (``--focus-table``, default ``focus_export``), over
  ``<export-location>/data/BILLING_PERIOD=YYYY-MM/`` exactly as AWS Data Exports delivers it.

Columns and types come from the same Arrow schemas the extractor and the demo write, so the DDL
cannot drift from the files. Partitions use **partition projection** (Athena computes the
partition folders from table properties), so no Glue crawler, MSCK REPAIR or ALTER TABLE ADD
PARTITION is ever needed: a new extract date or billing period is visible as soon as it lands.

Column names are lowercase, as a Glue crawler catalogs them (the Parquet files of the export are
PascalCase; Athena matches Parquet columns by name, case-insensitively), and ``Tags`` is
``map<string,string>``: the same convention as AWS's Cloud Intelligence Dashboards (CID) FOCUS
table, so staging SQL reads either table unchanged.

Already have the CID FOCUS table (database ``cid_data_export``, table ``focus`` by default)?
Skip ours with ``--no-focus-table`` and point dbt at CID's through vars alone, e.g.
``dbt build --vars '{focus_schema: cid_data_export, focus_table: focus}'`` (or the environment
variables SMCOST_FOCUS_DATABASE / SMCOST_FOCUS_TABLE). CID's table carries extra partition columns
(source_account_id, report_name, data) that staging ignores; its crawler adds the ``x_`` columns.

Existing tables are left alone (IF NOT EXISTS): after a schema change, ``DROP TABLE`` the table
(external tables keep their files) and rerun. Statements are free on Athena (DDL scans nothing).
Credentials come only from the standard AWS chain; boto3 honours AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from smcost import lake
from smcost.schemas import DATASETS, focus_schema

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

DEFAULT_DATABASE = "smcost"
DEFAULT_TABLE_PREFIX = "sagemaker_"
DEFAULT_FOCUS_TABLE = "focus_export"
DEFAULT_EXTRACT_DATE_START = "2024-01-01"
# The oldest period the FOCUS export can backfill is well after this; empty months cost nothing.
FOCUS_RANGE_START = "2020-01"

# Athena's reserved keywords in DDL ("Escape reserved keywords in queries", Athena user guide);
# such identifiers must be backquoted. UTC_TMESTAMP and CASHE are spelled as AWS lists them.
RESERVED_WORDS = frozenset(
    [
        "ALL",
        "ALTER",
        "AND",
        "ARRAY",
        "AS",
        "AUTHORIZATION",
        "BETWEEN",
        "BIGINT",
        "BINARY",
        "BOOLEAN",
        "BOTH",
        "BY",
        "CASE",
        "CASHE",
        "CAST",
        "CHAR",
        "COLUMN",
        "CONF",
        "CONSTRAINT",
        "COMMIT",
        "CREATE",
        "CROSS",
        "CUBE",
        "CURRENT",
        "CURRENT_DATE",
        "CURRENT_TIMESTAMP",
        "CURSOR",
        "DATABASE",
        "DATE",
        "DAYOFWEEK",
        "DECIMAL",
        "DELETE",
        "DESCRIBE",
        "DISTINCT",
        "DIV",
        "DOUBLE",
        "DROP",
        "ELSE",
        "END",
        "EXCHANGE",
        "EXISTS",
        "EXTENDED",
        "EXTERNAL",
        "EXTRACT",
        "FALSE",
        "FETCH",
        "FLOAT",
        "FLOOR",
        "FOLLOWING",
        "FOR",
        "FOREIGN",
        "FROM",
        "FULL",
        "FUNCTION",
        "GRANT",
        "GROUP",
        "GROUPING",
        "HAVING",
        "IF",
        "IMPORT",
        "IN",
        "INNER",
        "INSERT",
        "INT",
        "INTEGER",
        "INTERSECT",
        "INTERVAL",
        "INTO",
        "IS",
        "JOIN",
        "LATERAL",
        "LEFT",
        "LESS",
        "LIKE",
        "LOCAL",
        "MACRO",
        "MAP",
        "MORE",
        "NONE",
        "NOT",
        "NULL",
        "NUMERIC",
        "OF",
        "ON",
        "ONLY",
        "OR",
        "ORDER",
        "OUT",
        "OUTER",
        "OVER",
        "PARTIALSCAN",
        "PARTITION",
        "PERCENT",
        "PRECEDING",
        "PRECISION",
        "PRESERVE",
        "PRIMARY",
        "PROCEDURE",
        "RANGE",
        "READS",
        "REDUCE",
        "REGEXP",
        "REFERENCES",
        "REVOKE",
        "RIGHT",
        "RLIKE",
        "ROLLBACK",
        "ROLLUP",
        "ROW",
        "ROWS",
        "SELECT",
        "SET",
        "SMALLINT",
        "START",
        "TABLE",
        "TABLESAMPLE",
        "THEN",
        "TIME",
        "TIMESTAMP",
        "TO",
        "TRANSFORM",
        "TRIGGER",
        "TRUE",
        "TRUNCATE",
        "UNBOUNDED",
        "UNION",
        "UNIQUEJOIN",
        "UPDATE",
        "USER",
        "USING",
        "UTC_TMESTAMP",
        "VALUES",
        "VARCHAR",
        "VIEWS",
        "WHEN",
        "WHERE",
        "WINDOW",
        "WITH",
    ]
)
_PLAIN_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class UsageError(Exception):
    """Arguments that cannot work together; the message says what to pass instead."""


class AthenaError(Exception):
    """Athena refused or failed a statement; the message carries Athena's reason."""


# --------------------------------------------------------------------------------------------
# DDL
# --------------------------------------------------------------------------------------------


def quote(identifier: str) -> str:
    """An identifier as DDL needs it: backquoted when reserved or not a plain lowercase name."""
    if identifier.upper() in RESERVED_WORDS or not _PLAIN_IDENTIFIER.match(identifier):
        return f"`{identifier}`"
    return identifier


def athena_type(arrow_type: pa.DataType) -> str:
    """The Hive/Athena DDL type of an Arrow type (struct field names lowercase, like columns)."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_float64(arrow_type):
        return "double"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    # Zone-less timestamps: the lake's convention (UTC, see schemas.py) and what the export writes.
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is None:
        return "timestamp"
    if pa.types.is_map(arrow_type):
        return f"map<{athena_type(arrow_type.key_type)},{athena_type(arrow_type.item_type)}>"
    if pa.types.is_list(arrow_type):
        return f"array<{athena_type(arrow_type.value_type)}>"
    if pa.types.is_struct(arrow_type):
        fields = ",".join(f"{quote(f.name.lower())}:{athena_type(f.type)}" for f in arrow_type)
        return f"struct<{fields}>"
    raise ValueError(f"no Athena type for Arrow type {arrow_type}: add a mapping to smcost.athena.athena_type")


@dataclass(frozen=True)
class DateProjection:
    """A string partition column projected as dates (Athena partition projection, type date)."""

    column: str  # the table's partition column
    folder_key: str  # the key in the folder name, e.g. BILLING_PERIOD in BILLING_PERIOD=2026-01
    format: str  # Java DateTimeFormatter pattern of the folder values
    range_start: str  # in that format; the range always ends at NOW
    interval_unit: str  # DAYS | MONTHS

    def properties(self, location: str) -> dict[str, str]:
        return {
            "projection.enabled": "true",
            f"projection.{self.column}.type": "date",
            f"projection.{self.column}.format": self.format,
            f"projection.{self.column}.range": f"{self.range_start},NOW",
            f"projection.{self.column}.interval": "1",
            f"projection.{self.column}.interval.unit": self.interval_unit,
            "storage.location.template": f"{location}{self.folder_key}=${{{self.column}}}/",
        }


@dataclass(frozen=True)
class TableSpec:
    database: str
    name: str
    schema: pa.Schema
    location: str  # ends with "/"
    partition: DateProjection


def literal(value: str) -> str:
    """A string literal for Hive DDL. Hive escapes with backslashes, Trino doubles quotes; rather than
    bet on one, refuse anything that could end or bend the literal (every value is a generated
    property or an s3:// URI that s3_uri() already held to a safe character set)."""
    if re.search(r"['\\\x00-\x1f\x7f]", value):
        raise ValueError(
            f"refusing to put {value!r} in a DDL string: quotes, backslashes and control characters are not allowed"
        )
    return f"'{value}'"


def create_database_sql(database: str) -> str:
    return f"CREATE DATABASE IF NOT EXISTS {quote(lake.validate_name('Glue database name', database, sql=True))}"


def create_table_sql(table: TableSpec) -> str:
    lake.validate_name("Glue database name", table.database, sql=True)
    lake.validate_name("Glue table name", table.name, sql=True)
    columns = ",\n".join(f"  {quote(f.name.lower())} {athena_type(f.type)}" for f in table.schema)
    properties = ",\n".join(
        f"  {literal(k)} = {literal(v)}" for k, v in table.partition.properties(table.location).items()
    )
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {quote(table.database)}.{quote(table.name)} (\n{columns}\n)\n"
        f"PARTITIONED BY ({quote(table.partition.column)} string)\n"
        f"ROW FORMAT SERDE '{PARQUET_SERDE}'\n"
        f"STORED AS INPUTFORMAT '{PARQUET_INPUT_FORMAT}'\n"
        f"OUTPUTFORMAT '{PARQUET_OUTPUT_FORMAT}'\n"
        f"LOCATION {literal(table.location)}\n"
        f"TBLPROPERTIES (\n{properties}\n)"
    )


@dataclass(frozen=True)
class DdlOptions:
    lake: str  # s3://bucket/prefix
    export_location: str | None = None  # parent of the export's data/ folder
    database: str = DEFAULT_DATABASE
    table_prefix: str = DEFAULT_TABLE_PREFIX
    focus_table: str = DEFAULT_FOCUS_TABLE
    focus_version: str = "1.2"
    include_focus_table: bool = True
    extract_date_start: str = DEFAULT_EXTRACT_DATE_START


def _folder(uri: str) -> str:
    return uri.rstrip("/") + "/"


def table_specs(options: DdlOptions) -> list[TableSpec]:
    """Every table, in creation order: the landed datasets, then the FOCUS export."""
    root = s3_uri(options.lake, "lake URI").rstrip("/")
    if options.export_location is not None:
        s3_uri(options.export_location, "export location URI")
    lake.validate_name("Glue table prefix", options.table_prefix, sql=True, allow_empty=True)
    by_day = DateProjection("extract_date", "extract_date", "yyyy-MM-dd", options.extract_date_start, "DAYS")
    specs = [
        TableSpec(
            options.database,
            f"{options.table_prefix}{ds.name}",
            ds.schema,
            # lake.py's layout (a test holds the two together).
            _folder(posixpath.join(root, "sagemaker", ds.name)),
            by_day,
        )
        for ds in DATASETS.values()
    ]
    if options.include_focus_table:
        export = options.export_location or posixpath.join(root, "billing", lake.DEFAULT_EXPORT_NAME)
        by_month = DateProjection("billing_period", "BILLING_PERIOD", "yyyy-MM", FOCUS_RANGE_START, "MONTHS")
        specs.append(
            TableSpec(
                options.database,
                options.focus_table,
                focus_schema(options.focus_version),
                _folder(posixpath.join(export.rstrip("/"), "data")),
                by_month,
            )
        )
    return specs


def ddl_statements(options: DdlOptions) -> list[str]:
    """CREATE DATABASE, then one CREATE EXTERNAL TABLE per table (no trailing semicolons)."""
    return [create_database_sql(options.database), *(create_table_sql(t) for t in table_specs(options))]


def as_script(statements: Sequence[str]) -> str:
    return "".join(f"{sql};\n\n" for sql in statements).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Running statements through Athena
# --------------------------------------------------------------------------------------------


def _poll_delays() -> Iterator[float]:
    # DDL usually finishes in about a second: ask at once, then back off to 2 s.
    yield from (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
    while True:
        yield 2.0


def check_result_location(client: Any, workgroup: str | None, output_location: str | None) -> None:
    """Athena writes every query's result somewhere: --output-location, or the work group's own."""
    if output_location:
        return
    name = workgroup or "primary"
    configuration = client.get_work_group(WorkGroup=name)["WorkGroup"].get("Configuration", {})
    if configuration.get("ResultConfiguration", {}).get("OutputLocation"):
        return
    if configuration.get("ManagedQueryResultsConfiguration", {}).get("Enabled"):
        return
    raise UsageError(
        f"Athena work group {name!r} has no query result location: pass --output-location "
        "s3://<bucket>/athena-results/ (a folder you can write), or --workgroup <name> for a work "
        "group that sets one"
    )


def execute(
    client: Any,
    statements: Sequence[str],
    *,
    workgroup: str | None = None,
    output_location: str | None = None,
    timeout_seconds: float = 300.0,
    report: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Run the statements one after another (tables need their database); returns the query ids."""
    ids = []
    for sql in statements:
        request: dict[str, Any] = {"QueryString": sql}
        if workgroup:
            request["WorkGroup"] = workgroup
        if output_location:
            request["ResultConfiguration"] = {"OutputLocation": output_location}
        query_id = client.start_query_execution(**request)["QueryExecutionId"]
        deadline = time.monotonic() + timeout_seconds
        for delay in _poll_delays():
            sleep(delay)
            status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            if time.monotonic() > deadline:
                raise AthenaError(
                    f"query {query_id} still {status['State']} after {timeout_seconds:.0f}s: {_head(sql)}"
                )
        if status["State"] != "SUCCEEDED":
            reason = status.get("StateChangeReason", "no reason given")
            raise AthenaError(f"query {query_id} {status['State']}: {reason}\n  statement: {_head(sql)}")
        report(f"ok  {_head(sql)}  ({query_id})")
        ids.append(query_id)
    return ids


def _head(sql: str) -> str:
    return sql.split("(", 1)[0].strip()


def athena_client(region: str | None) -> Any:
    """An Athena client from the standard credential chain (AWS_ENDPOINT_URL applies by itself)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "athena",
        region_name=region,
        config=Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="smcost-athena"),
    )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<key>.*))?", re.DOTALL)


def s3_uri(value: str, kind: str = "s3:// URI") -> str:
    """``value`` if it is ``s3://bucket[/folder/...][/]`` with every folder a safe name (lake.validate_name:
    letters, digits, '-', '_', '.'), so it can go into a DDL string literal as it is; else ValueError."""
    match = _S3_URI.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"Athena reads only S3: expected s3://bucket/prefix, got {value!r}")
    key = match["key"] or ""
    folders = key[:-1].split("/") if key.endswith("/") else key.split("/")
    for folder in folders if key else []:
        lake.validate_name(f"each folder of the {kind}", folder)
    return value


def _s3_uri(value: str) -> str:
    try:
        return s3_uri(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _iso_date(value: str) -> str:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and date.fromisoformat(value):
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}")


def _identifier(value: str) -> str:
    # Glue database and table names: letters, digits and underscores, stored lowercase.
    try:
        return lake.validate_name("a Glue name", value, sql=True).lower()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _prefix(value: str) -> str:
    return "" if value == "" else _identifier(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="athena_command", metavar="<command>", required=True)
    ddl = sub.add_parser(
        "ddl",
        help="Print (or --run) the CREATE statements for the lake's Athena tables.",
        description="Generate CREATE DATABASE / CREATE EXTERNAL TABLE statements (Parquet, partition "
        "projection) for every landed dataset and the FOCUS export; print them, write them with "
        "--out, or execute them with --run.",
        epilog="Example: smcost athena ddl --lake s3://my-bucket/smcost-lake "
        "--export-location s3://my-billing/exports/sagemaker-focus --run --workgroup smcost",
    )
    where = ddl.add_argument_group("where the data is")
    where.add_argument(
        "--lake", required=True, type=_s3_uri, help="lake root that `smcost extract --out` writes: s3://bucket/prefix"
    )
    where.add_argument(
        "--export-location",
        type=_s3_uri,
        help="the FOCUS export folder that holds data/BILLING_PERIOD=YYYY-MM/, i.e. "
        "s3://<bucket>/<prefix>/<export-name> (default: <lake>/billing/"
        f"{lake.DEFAULT_EXPORT_NAME})",
    )
    where.add_argument(
        "--focus-version",
        choices=["1.2", "1.0"],
        default="1.2",
        help="FOCUS 1.2 with AWS columns (60 columns, default) or FOCUS 1.0 (48)",
    )
    where.add_argument(
        "--extract-date-start",
        type=_iso_date,
        default=DEFAULT_EXTRACT_DATE_START,
        help="first extract_date the metadata tables project (YYYY-MM-DD, default "
        f"{DEFAULT_EXTRACT_DATE_START}); set it to your first extraction",
    )
    names = ddl.add_argument_group("names")
    names.add_argument(
        "--database",
        type=_identifier,
        default=DEFAULT_DATABASE,
        help=f"Glue database, created if missing (default {DEFAULT_DATABASE})",
    )
    names.add_argument(
        "--table-prefix",
        type=_prefix,
        default=DEFAULT_TABLE_PREFIX,
        help=f"metadata tables are <prefix><dataset> (default {DEFAULT_TABLE_PREFIX}; "
        "dbt var sagemaker_table_prefix must match)",
    )
    names.add_argument(
        "--focus-table",
        type=_identifier,
        default=DEFAULT_FOCUS_TABLE,
        help=f"FOCUS export table (default {DEFAULT_FOCUS_TABLE}; dbt var focus_table)",
    )
    names.add_argument(
        "--no-focus-table",
        dest="include_focus_table",
        action="store_false",
        help="skip the FOCUS table (e.g. when dbt reads the Cloud Intelligence Dashboards one)",
    )
    output = ddl.add_argument_group("output")
    output.add_argument("--out", type=Path, help="write the SQL to this file instead of printing it")
    # dest is not "run": the CLI keeps the subcommand's entry point in args.run.
    output.add_argument("--run", dest="execute", action="store_true", help="execute the statements through Athena")
    output.add_argument("--workgroup", help="Athena work group for --run (default: primary)")
    output.add_argument(
        "--output-location",
        type=_s3_uri,
        help="s3:// folder for Athena query results, for --run (needed unless the work group sets one)",
    )
    output.add_argument("--region", help="AWS region for --run (default: the standard chain, e.g. AWS_REGION)")


def run(args: argparse.Namespace) -> int:
    return {"ddl": run_ddl}[args.athena_command](args)


def _error(message: str) -> int:
    print(f"smcost athena ddl: error: {message}", file=sys.stderr)
    return 2


def run_ddl(args: argparse.Namespace) -> int:
    run_only = [
        flag
        for flag, value in (
            ("--workgroup", args.workgroup),
            ("--output-location", args.output_location),
            ("--region", args.region),
        )
        if value
    ]
    if run_only and not args.execute:
        return _error(f"{', '.join(run_only)} only apply with --run: add --run to execute the statements")
    options = DdlOptions(
        lake=args.lake,
        export_location=args.export_location,
        database=args.database,
        table_prefix=args.table_prefix,
        focus_table=args.focus_table,
        focus_version=args.focus_version,
        include_focus_table=args.include_focus_table,
        extract_date_start=args.extract_date_start,
    )
    try:
        statements = ddl_statements(options)
    except ValueError as exc:  # the argparse types let nothing unsafe through; this is the backstop
        return _error(str(exc))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(as_script(statements))
        print(f"wrote {len(statements)} statements to {args.out}", file=sys.stderr)
    elif not args.execute:
        sys.stdout.write(as_script(statements))
    if not args.execute:
        return 0
    return _run_statements(args, statements)


def _run_statements(args: argparse.Namespace, statements: list[str]) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        client = athena_client(args.region)
        check_result_location(client, args.workgroup, args.output_location)
        execute(
            client,
            statements,
            workgroup=args.workgroup,
            output_location=args.output_location,
            report=lambda line: print(line, file=sys.stderr),
        )
    except UsageError as exc:
        return _error(str(exc))
    except NoRegionError:
        return _error("no AWS region: pass --region or set AWS_REGION")
    except NoCredentialsError:
        print(
            "smcost athena ddl: no AWS credentials: set AWS_PROFILE, log in with `aws sso login`, "
            "or run where a role is attached",
            file=sys.stderr,
        )
        return 1
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(
            f"smcost athena ddl: Athena said {error.get('Code')}: {error.get('Message')} "
            "(the caller needs athena:StartQueryExecution, athena:GetQueryExecution, athena:GetWorkGroup "
            "and glue:CreateDatabase/GetDatabase/CreateTable/GetTable on the database: see docs/athena.md)",
            file=sys.stderr,
        )
        return 1
    except (AthenaError, BotoCoreError) as exc:
        print(f"smcost athena ddl: {exc}", file=sys.stderr)
        return 1
    print(f"created {len(statements) - 1} tables in {args.database} (existing ones left as they were)", file=sys.stderr)
    return 0
