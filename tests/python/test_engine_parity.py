"""Engine parity, the offline proof of the Athena SQL: for every dbt model, the SELECT that
`dbt compile --target athena` produces, transpiled by sqlglot (athena -> duckdb) and run on DuckDB
against the demo account, returns what the DuckDB target's own build of that model holds.

How: one DuckDB build and one offline Athena compile, with the same vars, both over every billing
period. Each model's Athena SQL reads the DuckDB build's relations for its refs and seeds, and for
its sources views over the very Parquet files the DuckDB target reads — so each model is checked on
its own, on identical inputs. Compared per model: column names and types, row count, the sum of
every double column (cost, share, hours, ...) to 1e-6, and every row's other columns exactly (keys
included: a charge_id must be the same on both engines).

sqlglot transpiles syntax; where Trino's *semantics* differ from DuckDB's and sqlglot does not model
the difference, the transpiled SQL would quietly compute DuckDB's answer and prove nothing. Those
cases are modelled here (see `_trino_semantics`), so that a construct Athena evaluates differently
shows up as a mismatch; the fix then belongs in the SQL (an engine macro both engines agree on),
never in this test.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from smcost_testing import run_dbt

# Both builds cover every billing period: --full-refresh (window '0000-00') and a pinned "now".
VARS = {"as_of_billing_period": "2026-10", "lookback_billing_periods": 999}
SOURCES_SCHEMA = "athena_sources"  # in the in-memory catalog: views standing in for the Glue tables
COST_SUFFIXES = ("_cost", "_share", "_hours")
# Designed differences, not semantics: the DuckDB target reads the export's manifests, Athena relies
# on the export overwriting each delivery (macros/engine/focus_source.sql, docs/export.md).
DUCKDB_ONLY_COLUMNS = {"stg_focus__export_files": ("manifest_file", "is_listed_in_manifest", "has_manifest")}
ABS_TOLERANCE = 1e-6
INTEGER_TYPES = exp.DataType.INTEGER_TYPES
TIMESTAMP_TYPES = (
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMP_S,
    exp.DataType.Type.TIMESTAMP_MS,
    exp.DataType.Type.TIMESTAMP_NS,
    exp.DataType.Type.DATETIME,
)


class UnmodelledSemantics(Exception):
    """A construct whose Trino result DuckDB cannot reproduce and this test does not model."""


# --------------------------------------------------------------------------------------------------
# Builds


@pytest.fixture(scope="module")
def builds(demo_lake, tmp_path_factory) -> tuple[Path, Path]:
    """The DuckDB build and the offline Athena compile of the demo account, run side by side."""
    duck = tmp_path_factory.mktemp("parity-duckdb")
    athena = tmp_path_factory.mktemp("parity-athena")
    with ThreadPoolExecutor(max_workers=2) as pool:
        build = pool.submit(
            run_dbt,
            ["build", "--full-refresh"],
            lake_root=demo_lake,
            database=duck / "smcost.duckdb",
            work=duck,
            vars=VARS,
        )
        compiled = pool.submit(
            run_dbt,
            ["compile", "--target", "athena", "--no-populate-cache", "--full-refresh"],
            lake_root=demo_lake,
            database=athena / "unused.duckdb",
            work=athena,
            vars=VARS,
        )
        build.result()
        compiled.result()
    return duck, athena


def _manifest(work: Path) -> dict:
    return json.loads((work / "target" / "manifest.json").read_text())


def _table_key(relation_name: str) -> tuple[str, ...]:
    table = sqlglot.parse_one(f"select * from {relation_name}", read="athena").find(exp.Table)
    return tuple(part.lower() for part in (table.catalog, table.db, table.name))


# --------------------------------------------------------------------------------------------------
# Athena SQL -> DuckDB SQL


def _point_at_duckdb(tree: exp.Expr, relations: dict[tuple[str, ...], tuple[str, str, str]]) -> None:
    """Catalog plumbing, not SQL semantics: "awsdatacatalog"."<schema>"."<relation>" becomes the
    DuckDB build's relation (refs, seeds) or the view over the source's Parquet (Glue tables)."""
    for table in tree.find_all(exp.Table):
        if not table.args.get("db"):
            continue  # a CTE
        key = tuple(part.lower() for part in (table.catalog, table.db, table.name))
        if key not in relations:
            raise AssertionError(f"the Athena SQL reads {'.'.join(key)}, which is no model, seed or source")
        catalog, schema, name = relations[key]
        table.set("catalog", exp.to_identifier(catalog, quoted=True))
        table.set("db", exp.to_identifier(schema, quoted=True))
        table.set("this", exp.to_identifier(name, quoted=True))


def _exact_scale(node: exp.Expr) -> int | None:
    """Trino's exact-numeric scale of an operand (0 for integers, s for decimal(p, s) and for a
    literal like 1.0 — Trino parses it as DECIMAL), None when the operand is inexact (double)."""
    if isinstance(node, exp.Paren):
        return _exact_scale(node.this)
    if isinstance(node, exp.Literal) and node.is_number:
        text = node.this.lower()
        if "e" in text:
            return None  # 1e0: a double literal
        return len(text.split(".", 1)[1]) if "." in text else 0
    if node.type is None:
        return None
    if node.type.is_type(*INTEGER_TYPES):
        return 0
    if node.type.is_type(exp.DataType.Type.DECIMAL):
        params = node.type.expressions
        return int(params[1].this.this) if len(params) == 2 else 0
    return None


def _innermost_first(tree: exp.Expr, *kinds: type) -> list[exp.Expr]:
    """Nodes of the given kinds, each after the ones nested in it (reversed breadth-first order), so
    a rewrite of an outer node sees its inner nodes already rewritten."""
    return list(reversed(list(tree.find_all(*kinds, bfs=True))))


def _trino_semantics(tree: exp.Expr) -> list[str]:
    """Model, on DuckDB, the Trino semantics that sqlglot's athena->duckdb transpile leaves out
    (the tree is typed by annotate_types). Returns what was modelled, for the report.

    Each rewrite makes the transpiled SQL compute what Athena computes — it never makes a difference
    between the engines go away: that is for the SQL to fix, through a macro both engines agree on."""
    modelled: list[str] = []

    # Division of two exact numbers: Trino truncates an integer division (3 / 2 = 1) and gives a
    # decimal division the larger operand scale, rounded (1.0 / 3 = 0.3: Trino parses 1.0 as a
    # DECIMAL); DuckDB's / divides doubles. In SQL: make an operand double (cast(x as double), 1e0).
    for node in _innermost_first(tree, exp.Div):
        left, right = _exact_scale(node.this), _exact_scale(node.expression)
        if left is None or right is None:
            continue
        sides = (node.this, node.expression)
        literal_decimal = any(isinstance(side, exp.Literal) and "." in side.this for side in sides)
        if left == right == 0 and not literal_decimal:
            modelled.append(f"integer division {node.sql('athena')} truncates")
            replacement = exp.IntDiv(this=node.this, expression=node.expression)
            replacement.type = exp.DataType.build("bigint")
        else:
            scale = max(left, right)
            modelled.append(f"decimal division {node.sql('athena')} keeps scale {scale}")
            quotient = exp.Div(this=exp.cast(node.this, exp.DataType.Type.DOUBLE), expression=node.expression)
            replacement = exp.Round(this=quotient, decimals=exp.Literal.number(scale))
            replacement.type = exp.DataType.build(f"decimal(38, {scale})")
        node.replace(replacement)

    # cast(... as varchar): Trino renders a timestamp(3) — every Athena timestamp here — with its
    # milliseconds ('2026-08-01 00:00:00.000'); DuckDB drops a zero fraction. A double Trino renders
    # as '1.5E0': not modelled, so SQL must not rely on a double's text.
    for node in _innermost_first(tree, exp.Cast, exp.TryCast):
        operand = node.this.type
        if not node.to.is_type(*exp.DataType.TEXT_TYPES) or operand is None:
            continue
        if operand.is_type(*TIMESTAMP_TYPES):
            modelled.append("cast(timestamp(3) as varchar) keeps milliseconds")
            trino_text = exp.Literal.string("%Y-%m-%d %H:%M:%S.%g")
            node.replace(exp.Anonymous(this="STRFTIME", expressions=[node.this, trino_text]))
        elif operand.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
            raise UnmodelledSemantics(f"{node.sql('athena')}: Trino renders a double as text its own way (1.5E0)")

    # regexp_extract: Trino returns NULL when nothing matches, DuckDB ''. sqlglot models this with
    # the expression's null_if_no_match flag (which its BigQuery/Snowflake parsers set, Presto's not).
    for node in tree.find_all(exp.RegexpExtract):
        node.set("null_if_no_match", True)
        modelled.append("regexp_extract no-match -> NULL")

    # split_part: Trino returns NULL for an index past the last field, DuckDB ''.
    for node in _innermost_first(tree, exp.SplitPart):
        fields = exp.Anonymous(
            this="LEN",
            expressions=[
                exp.Anonymous(this="STRING_SPLIT", expressions=[node.this.copy(), node.args["delimiter"].copy()])
            ],
        )
        guarded = exp.If(this=exp.LTE(this=node.args["part_index"].copy(), expression=fields), true=exp.Null())
        node.replace(exp.Case(ifs=[guarded]))
        guarded.set("true", node)
        modelled.append("split_part past the last field -> NULL")

    # at_timezone(with_timezone(ts, 'UTC'), zone): Trino's wall-clock time of a UTC timestamp in a zone
    # (macros/engine/local_time.sql); sqlglot passes both through by name, which DuckDB lacks. DuckDB's
    # timezone(zone, timezone('UTC', ts)) is the same wall-clock time.
    for node in _innermost_first(tree, exp.Anonymous):
        inner = node.expressions[0] if node.name.lower() == "at_timezone" and node.expressions else None
        if not isinstance(inner, exp.Anonymous) or inner.name.lower() != "with_timezone":
            continue
        as_utc = exp.Anonymous(this="TIMEZONE", expressions=[inner.expressions[1].copy(), inner.expressions[0].copy()])
        node.replace(exp.Anonymous(this="TIMEZONE", expressions=[node.expressions[1].copy(), as_utc]))
        modelled.append("at_timezone(with_timezone(ts, 'UTC'), zone) -> wall-clock time in zone")
    return modelled


def athena_to_duckdb(sql: str, relations: dict, schema: MappingSchema) -> tuple[str, list[str]]:
    """DuckDB SQL computing what the Athena SQL computes on Athena, and the Trino semantics modelled.
    Qualifying the columns against the DuckDB catalog is what lets annotate_types type them."""
    tree = sqlglot.parse_one(sql, read="athena")
    _point_at_duckdb(tree, relations)
    tree = qualify(tree, schema=schema, dialect="athena", validate_qualify_columns=True)
    tree = annotate_types(tree, schema=schema, dialect="athena")
    modelled = _trino_semantics(tree)
    return tree.sql(dialect="duckdb"), modelled


# --------------------------------------------------------------------------------------------------
# The proof


# Models the demo holds no rows of yet, so parity proves nothing for them (a gap, not a pass): the
# demo registers no MLflow model version and plants no tracker-vs-tag disagreement. Their SQL still
# compiles for Athena and runs on DuckDB here; each needs a demo case to leave this set.
EMPTY_ON_THE_DEMO = {"stg_sagemaker__mlflow_model_versions", "fct_sagemaker_attribution_conflicts"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _profile(con, relation: str) -> dict:
    """Columns, row count, the sum of every double column, and an order-free checksum of the rows'
    other columns (the sum of their hashes: equal for equal multisets of rows)."""
    # Names compared lowercased: Athena lowercases identifiers (the FOCUS export mart's PascalCase columns
    # come back lowercase, as AWS's export does in Glue); DuckDB matches them case-insensitively.
    columns = [(name.lower(), kind) for name, kind, *_ in con.execute(f"describe select * from {relation}").fetchall()]
    doubles = [name for name, kind in columns if kind in ("DOUBLE", "FLOAT")]
    exact = [_quote(name) for name, kind in columns if kind not in ("DOUBLE", "FLOAT")]
    aggregates = ["count(*)", f"sum(hash({', '.join(exact)}))" if exact else "0"]
    aggregates += [f"sum({_quote(name)})" for name in doubles]
    count, checksum, *sums = con.execute(f"select {', '.join(aggregates)} from {relation}").fetchall()[0]
    return {"columns": columns, "rows": count, "checksum": checksum, "sums": dict(zip(doubles, sums, strict=True))}


def _exact_rows(columns: list[tuple[str, str]], relation: str) -> str:
    others = [
        f"cast({_quote(name)} as varchar) as {_quote(name)}"
        for name, kind in columns
        if kind not in ("DOUBLE", "FLOAT")
    ]
    return f"select {', '.join(others) or '1 as no_exact_column'} from {relation}"


def _short(rows: list[tuple]) -> str:
    text = repr(rows[:2])
    return text if len(text) <= 800 else text[:800] + "..."


def _fmt(value) -> str:
    return "null" if value is None else f"{value:,.6f}"


def test_every_model_compiled_for_athena_returns_the_duckdb_build_rows(builds):
    duck_work, athena_work = builds
    duck_manifest, athena_manifest = _manifest(duck_work), _manifest(athena_work)

    con = duckdb.connect()
    duck_catalog = _table_key(
        next(node["relation_name"] for node in duck_manifest["nodes"].values() if node["resource_type"] == "model")
    )[0]
    con.execute(
        f"attach {exp.Literal.string(str(duck_work / 'smcost.duckdb')).sql()} as {_quote(duck_catalog)} (read_only)"
    )
    con.execute(f"create schema memory.{SOURCES_SCHEMA}")

    relations: dict[tuple[str, ...], tuple[str, str, str]] = {}
    for unique_id, source in athena_manifest["sources"].items():
        # The Glue table's stand-in: the same files the DuckDB target reads (meta.external_location).
        # Athena's columns are lowercase and the export's partition column is billing_period; the
        # Parquet's BilledCost / hive BILLING_PERIOD serve, DuckDB identifiers being case-insensitive.
        # A source read with filename = true stands in for Athena's "$path" pseudo-column with it.
        name = _table_key(source["relation_name"])[2]
        files = duck_manifest["sources"][unique_id]["relation_name"]
        star = 'select * rename (filename as "$path")' if "filename = true" in files else "select *"
        con.execute(f"create view memory.{SOURCES_SCHEMA}.{_quote(name)} as {star} from {files}")
        relations[_table_key(source["relation_name"])] = ("memory", SOURCES_SCHEMA, name)
    models = {}
    for unique_id, node in athena_manifest["nodes"].items():
        if node["resource_type"] in ("model", "seed"):
            duck_relation = duck_manifest["nodes"][unique_id]["relation_name"]
            relations[_table_key(node["relation_name"])] = _table_key(duck_relation)
        if node["resource_type"] == "model":
            models[node["name"]] = (node, duck_manifest["nodes"][unique_id])

    tables: dict = {}
    for catalog, schema_name, table, column, kind in con.execute(
        "select table_catalog, table_schema, table_name, column_name, data_type "
        "from information_schema.columns order by table_catalog, table_schema, table_name, ordinal_position"
    ).fetchall():
        # sqlglot reads schema keys as SQL: a name like "$path" must arrive quoted to stay itself.
        column = column if column.isidentifier() else _quote(column)
        tables.setdefault(catalog, {}).setdefault(schema_name, {}).setdefault(table, {})[column] = kind
    schema = MappingSchema(tables, dialect="duckdb")

    duck_models = {node["name"] for node in duck_manifest["nodes"].values() if node["resource_type"] == "model"}
    assert set(models) == duck_models and len(models) >= 30, "every model is compiled for both engines"

    problems: list[str] = []
    report: list[str] = []
    for name in sorted(models, key=lambda n: (not n.startswith("stg_"), not n.startswith("int_"), n)):
        athena_node, duck_node = models[name]
        duck_relation = duck_node["relation_name"]
        started = time.perf_counter()
        try:
            sql, modelled = athena_to_duckdb(athena_node["compiled_code"], relations, schema)
            # Each side runs once (staging models are views), then is compared.
            athena_relation = "athena_result"
            star = (
                f"select * exclude ({', '.join(DUCKDB_ONLY_COLUMNS[name])})"
                if name in DUCKDB_ONLY_COLUMNS
                else "select *"
            )
            con.execute(f"create or replace temp table {athena_relation} as {star} from ({sql})")
            con.execute(f"create or replace temp table duckdb_result as {star} from {duck_relation}")
            duck_relation = "duckdb_result"
            ours, theirs = _profile(con, duck_relation), _profile(con, athena_relation)
        except (UnmodelledSemantics, sqlglot.errors.SqlglotError, duckdb.Error) as error:
            problems.append(f"{name}: the Athena SQL does not run on DuckDB: {type(error).__name__}: {error}")
            report.append(f"{name:<46} ERROR {str(error).splitlines()[0][:100]}")
            continue

        line = f"{name:<46} rows {ours['rows']:>7,} / {theirs['rows']:<7,}"
        if ours["rows"] == 0 and name not in EMPTY_ON_THE_DEMO:
            problems.append(f"{name}: no rows in the demo build, so nothing is proven")
        if ours["columns"] != theirs["columns"]:
            problems.append(f"{name}: columns differ: DuckDB {ours['columns']} vs Athena {theirs['columns']}")
        if ours["rows"] != theirs["rows"]:
            problems.append(f"{name}: {ours['rows']} rows on DuckDB, {theirs['rows']} from the Athena SQL")
        for column, expected in ours["sums"].items():
            actual = theirs["sums"].get(column)
            same = (expected is None and actual is None) or (
                expected is not None
                and actual is not None
                and math.isclose(expected, actual, rel_tol=1e-12, abs_tol=ABS_TOLERANCE)
            )
            if column.endswith(COST_SUFFIXES):
                line += f"  {column} {_fmt(expected)} / {_fmt(actual)}{'' if same else ' MISMATCH'}"
            if not same:
                problems.append(
                    f"{name}: sum({column}) is {_fmt(expected)} on DuckDB, {_fmt(actual)} from the Athena SQL"
                )
        if ours["columns"] == theirs["columns"] and ours["checksum"] != theirs["checksum"]:
            exact_ours = _exact_rows(ours["columns"], duck_relation)
            exact_theirs = _exact_rows(ours["columns"], athena_relation)
            only_ours = con.execute(f"select * from ({exact_ours} except all {exact_theirs}) limit 3").fetchall()
            only_theirs = con.execute(f"select * from ({exact_theirs} except all {exact_ours}) limit 3").fetchall()
            if only_ours or only_theirs:
                problems.append(
                    f"{name}: rows differ (non-double columns); DuckDB only e.g. {_short(only_ours)}, "
                    f"Athena SQL only e.g. {_short(only_theirs)}"
                )
                line += "  ROWS DIFFER"
        line += f"  ({time.perf_counter() - started:.1f}s)"
        if modelled:
            line += f"  [Trino semantics modelled: {', '.join(sorted(set(modelled)))}]"
        report.append(line)

    print("\nEngine parity: model, rows (DuckDB build / Athena SQL on DuckDB), cost sums (DuckDB / Athena SQL)")
    print("\n".join(report))
    con.close()
    if problems:
        pytest.fail("The Athena SQL and the DuckDB build disagree:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize(
    ("athena_sql", "trino_answer"),
    [
        ("select 7 / 2", 3),  # integer division truncates
        ("select -7 / 2", -3),  # ... toward zero
        ("select 1.0 / 3", 0.3),  # 1.0 is a DECIMAL: the quotient keeps scale 1
        ("select 1.00 / 3", 0.33),
        ("select 1e0 / 4", 0.25),  # a double literal: a double division
        ("select cast(cast('2026-08-01' as timestamp) as varchar)", "2026-08-01 00:00:00.000"),
        ("select split_part('a:b', ':', 3)", None),
        ("select split_part('a:b', ':', 2)", "b"),
        ("select regexp_extract('a/b', 'z')", None),
        ("select regexp_extract('a/b', '[^/]+$')", "b"),
        # 2026-12-07 (a Monday) 23:30 UTC is Tuesday 00:30 in Berlin: weekday and hour move together.
        (
            "select day_of_week(at_timezone(with_timezone(timestamp '2026-12-07 23:30:00', 'UTC'), 'Europe/Berlin'))",
            2,
        ),
        ("select hour(at_timezone(with_timezone(timestamp '2026-12-07 23:30:00', 'UTC'), 'America/New_York'))", 18),
    ],
)
def test_transpile_models_what_trino_returns(athena_sql, trino_answer):
    """The Trino answers the parity test relies on (Trino documentation), on DuckDB."""
    sql, _ = athena_to_duckdb(athena_sql, {}, MappingSchema(dialect="duckdb"))
    ((answer,),) = duckdb.connect().execute(sql).fetchall()
    assert answer == trino_answer, (athena_sql, sql)
