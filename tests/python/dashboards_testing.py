"""What the Grafana and QuickSight tests share: Grafana's macro expansion, the marts, and running a
dashboard's Athena SQL on the demo's DuckDB build through the engine-parity transpiler."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.schema import MappingSchema

from smcost_testing import REPO
from test_engine_parity import athena_to_duckdb

DATABASE = "smcost"  # the Glue database the dashboards' variables and parameters default to
MARTS = frozenset(p.stem for p in (REPO / "models/marts").rglob("fct_*.sql"))

# --------------------------------------------------------------------------------------------------
# Grafana's Athena macros, as grafana/athena-datasource pkg/athena/macros.go expands them for a
# query's time range (UTC), and its template variables.

GO_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
TIMESTAMP_FORMAT = "'yyyy-MM-dd HH:mm:ss'"


def _parse_time(column: str, fmt: str) -> str:
    if not fmt:
        return column
    if fmt == TIMESTAMP_FORMAT:
        return f"TIMESTAMP {column}"
    return f"parse_datetime({column},{fmt})"


def _group(args: list[str], epoch: bool) -> str:
    amount, unit = re.fullmatch(r"'?(\d+)([smhdw])'?", args[1]).groups()  # gtime.ParseInterval, the common units
    seconds = float(int(amount) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit])
    column = _parse_time(args[0], args[2]) if len(args) == 3 else args[0]
    inner = column if epoch else f"TO_UNIXTIME({column})"
    return f"FROM_UNIXTIME(FLOOR({inner}/{seconds:g})*{seconds:g})"


def _macros(start: datetime, end: datetime) -> dict[str, Callable[[list[str]], str]]:
    frm, to = start.strftime(GO_TIMESTAMP), end.strftime(GO_TIMESTAMP)
    return {
        "timeFilter": lambda a: (
            f"{_parse_time(a[0], a[1] if len(a) > 1 else '')} BETWEEN TIMESTAMP '{frm}' AND TIMESTAMP '{to}'"
        ),
        "dateFilter": lambda a: f"{a[0]} BETWEEN date '{start:%Y-%m-%d}' AND date '{end:%Y-%m-%d}'",
        "unixEpochFilter": lambda a: f"{a[0]} BETWEEN {int(start.timestamp())} AND {int(end.timestamp())}",
        "timeFrom": lambda a: f"TIMESTAMP '{frm}'",
        "timeTo": lambda a: f"TIMESTAMP '{to}'",
        "rawTimeFrom": lambda a: f"'{frm}'",  # the default format only
        "rawTimeTo": lambda a: f"'{to}'",
        "parseTime": lambda a: _parse_time(a[0], a[1] if len(a) > 1 else TIMESTAMP_FORMAT),
        "timeGroup": lambda a: _group(a, epoch=False),
        "unixEpochGroup": lambda a: _group(a, epoch=True),
    }


MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


class UndefinedMacroOrVariable(Exception):
    pass


def expand(sql: str, start: datetime, end: datetime, variables: dict[str, str]) -> str:
    """The SQL Athena receives: template variables interpolated, then the plugin's macros."""

    def variable(match: re.Match) -> str:
        name = next(g for g in match.groups() if g)
        if name.startswith("__"):
            return match.group(0)  # a macro, below
        if name not in variables:
            raise UndefinedMacroOrVariable(f"the SQL uses ${name}, which the dashboard does not define")
        return variables[name]

    macros = _macros(start, end)

    def macro(match: re.Match) -> str:
        name, args = match.group(1), match.group(2)
        if name not in macros:
            raise UndefinedMacroOrVariable(f"$__{name} is no macro of grafana-athena-datasource")
        return macros[name]([a.strip() for a in args.split(",")] if args else [])

    return MACRO.sub(macro, VARIABLE.sub(variable, sql))


def variables_in(text: str) -> set[str]:
    """The template variables the text refers to (macros, $__name, are not variables)."""
    names = {next(g for g in m.groups() if g) for m in VARIABLE.finditer(text)}
    return {name for name in names if not name.startswith("__")}


# --------------------------------------------------------------------------------------------------
# The Athena SQL itself


def tables_read(athena_sql: str) -> set[str]:
    """The relations the SQL reads (CTEs excluded), as database.table; parsing fails on SQL that is
    not Athena's."""
    tree = sqlglot.parse_one(athena_sql, read="athena")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {
        f"{table.db}.{table.name}" if table.db else table.name
        for table in tree.find_all(exp.Table)
        if table.db or table.name not in ctes
    }


def marts_read(athena_sql: str) -> set[str]:
    """The marts the SQL reads; AssertionError when it reads anything else or leaves a table
    outside the dashboards' Glue database."""
    tables = tables_read(athena_sql)
    foreign = sorted(t for t in tables if t.split(".")[0] != DATABASE or t.split(".")[-1] not in MARTS)
    assert not foreign, f"reads {foreign}: the dashboards read only the marts (fct_*) in {DATABASE}"
    return {t.split(".")[-1] for t in tables}


class DemoMarts:
    """The demo's DuckDB build, read-only, with an Athena query runner over its marts."""

    def __init__(self, database: Path) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"attach '{database}' as demo (read_only)")
        ((schema,),) = self.con.execute(
            "select distinct table_schema from information_schema.tables where table_catalog = 'demo'"
        ).fetchall()
        self.relations = {("", DATABASE, mart): ("demo", schema, mart) for mart in MARTS}
        self.prefix = f"demo.{schema}."
        tables: dict = {}
        for catalog, schema_name, table, column, kind in self.con.execute(
            "select table_catalog, table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = 'demo' order by table_name, ordinal_position"
        ).fetchall():
            tables.setdefault(catalog, {}).setdefault(schema_name, {}).setdefault(table, {})[column] = kind
        self.schema = MappingSchema(tables, dialect="duckdb")

    def athena(self, athena_sql: str) -> tuple[list[str], list[tuple]]:
        """Columns and rows the Athena SQL returns, computed on DuckDB with Trino's semantics
        (tests/python/test_engine_parity.py); only the marts are reachable."""
        marts_read(athena_sql)
        sql, _ = athena_to_duckdb(athena_sql, self.relations, self.schema)
        relation = self.con.execute(sql)
        return [d[0] for d in relation.description], relation.fetchall()

    def athena_dicts(self, athena_sql: str) -> list[dict]:
        columns, rows = self.athena(athena_sql)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def one(self, sql: str, *params) -> object:
        """A plain DuckDB query on the build (the independent side of a comparison); {mart}x names
        the build's relation x."""
        return self.con.execute(sql.replace("{mart}", self.prefix), list(params)).fetchall()[0][0]

    def rows(self, sql: str, *params) -> list[tuple]:
        return self.con.execute(sql.replace("{mart}", self.prefix), list(params)).fetchall()
