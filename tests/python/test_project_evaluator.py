"""dbt-project-evaluator's checklist as a test: the project passes every rule, but for the accepted
exceptions in tests/dbt_project_evaluator_exceptions.csv (the evaluator's own format, each row with its
reason).

The rules are ported in project_evaluator.py and run over the manifest of a `dbt parse` into a
temporary target path. The exceptions are plain CSV under tests/, not a seed: nothing in the warehouse
reads them until the evaluator package itself is installed, when the file moves to seeds/ unchanged.

Each rule is also tested on its own: a small synthetic manifest that is clean under every rule, and
one change to it that the rule must report.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from project_evaluator import (
    COVERAGE_RULES,
    RULES,
    AcceptedException,
    Project,
    column_documentation_coverage,
    evaluate,
    hard_coded_references,
    like,
    read_exceptions,
    violation_table,
)
from smcost_testing import REPO, run_dbt

EXCEPTIONS = REPO / "tests" / "dbt_project_evaluator_exceptions.csv"


# --------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("evaluator")
    run_dbt(["parse"], lake_root=work / "lake", database=work / "smcost.duckdb", work=work)
    return json.loads((work / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def project(manifest: dict) -> Project:
    return Project.from_manifest(manifest)


def test_the_project_breaks_no_rule_but_its_accepted_exceptions(project: Project) -> None:
    results = evaluate(project, read_exceptions(EXCEPTIONS))
    print(violation_table(results, evaluate(project)))
    coverage = column_documentation_coverage(project)
    for layer, (described, declared) in sorted(coverage.items()):
        print(f"columns described, {layer}: {described}/{declared}")
    assert not any(results.values()), "\n" + violation_table({k: v for k, v in results.items() if v})


def test_every_accepted_exception_names_a_rule_says_why_and_is_still_needed(project: Project) -> None:
    raw = evaluate(project)
    for exception in read_exceptions(EXCEPTIONS):
        assert exception.fct_name in RULES, f"{exception.fct_name} is no rule"
        assert exception.fct_name not in COVERAGE_RULES, "coverage rules take no exceptions"
        assert len(exception.comment.split()) >= 8, f"say why: {exception}"
        assert any(exception.matches(row) for row in raw[exception.fct_name]), (
            f"{exception.fct_name} {exception.id_to_exclude} matches no violation any more: delete the exception"
        )


@pytest.mark.dbt
def test_every_column_a_model_builds_is_declared_so_coverage_counts_it(project: Project, demo_build: Path) -> None:
    # Column coverage is measured over the declared columns: this holds it to the built ones.
    undeclared, missing = [], []
    with duckdb.connect(str(demo_build), read_only=True) as con:
        for model in project.of_type("model"):
            built = {row[0] for row in con.execute(f"describe {model.name}").fetchall()}
            declared = {name for name, _, _ in model.columns}
            undeclared += [f"{model.name}.{c}" for c in sorted(built - declared)]
            missing += [f"{model.name}.{c}" for c in sorted(declared - built)]
    assert not undeclared, f"built but not in the YAML: {undeclared}"
    assert not missing, f"in the YAML but not built: {missing}"


# --------------------------------------------------------------------------------------------
# Each rule can fail: a synthetic manifest, clean, and one change per rule
# --------------------------------------------------------------------------------------------

PROJECT = "shop"
UNIQUE, NOT_NULL = "dbt.test_unique", "dbt.test_not_null"


def _model(name: str, folder: str, *parents: str, materialized: str = "table", **extra: object) -> dict:
    node = {
        "unique_id": f"model.{PROJECT}.{name}",
        "name": name,
        "resource_type": "model",
        "package_name": PROJECT,
        "original_file_path": f"models/{folder}/{name}.sql",
        "config": {"enabled": True, "materialized": materialized},
        "access": "protected",
        "contract": {"enforced": False},
        "description": f"The {name} model.",
        "columns": {"id": {"name": "id", "description": "The key.", "constraints": []}},
        "depends_on": {"nodes": list(parents), "macros": []},
        "raw_code": "select 1 as id",
        "language": "sql",
    }
    node.update(extra)
    return node


def _source(source_name: str, table: str, folder: str | None = None, **extra: object) -> dict:
    node = {
        "unique_id": f"source.{PROJECT}.{source_name}.{table}",
        "name": table,
        "source_name": source_name,
        "resource_type": "source",
        "package_name": PROJECT,
        "original_file_path": f"models/{folder or 'staging/' + source_name}/_{source_name}__sources.yml",
        "config": {"enabled": True, "freshness": {"warn_after": {"count": 1, "period": "day"}}},
        "loaded_at_field": "loaded_at",
        "description": f"The {table} table.",
        "source_description": f"The {source_name} system.",
        "database": "db",
        "schema": source_name,
        "identifier": table,
        "columns": {},
    }
    node.update(extra)
    return node


def _test(model: dict, macro: str, column: str | None = "id", folder: str | None = None) -> dict:
    """A generic test attached to ``model``, defined in the YAML of ``folder`` (default: the model's)."""
    model_id = model["unique_id"]
    name = f"{macro.split('.')[-1]}_{model['name']}_{column}"
    directory = folder or model["original_file_path"].rsplit("/", 1)[0].removeprefix("models/")
    return {
        "unique_id": f"test.{PROJECT}.{name}",
        "name": name,
        "resource_type": "test",
        "package_name": PROJECT,
        "original_file_path": f"models/{directory}/_models.yml",
        "config": {"enabled": True, "materialized": "test"},
        "columns": {},
        "column_name": column,
        "test_metadata": {"name": macro.split(".")[-1].removeprefix("test_")},
        "attached_node": model_id,
        "depends_on": {"nodes": [model_id], "macros": [f"macro.{macro}"]},
    }


def _exposure(name: str, *parents: str) -> dict:
    return {
        "unique_id": f"exposure.{PROJECT}.{name}",
        "name": name,
        "resource_type": "exposure",
        "package_name": PROJECT,
        "original_file_path": "models/marts/_exposures.yml",
        "description": "A dashboard.",
        "depends_on": {"nodes": list(parents)},
    }


def _kind(resource_type: str) -> str:
    return {"source": "sources", "exposure": "exposures"}.get(resource_type, "nodes")


def add(manifest: dict, *resources: dict) -> dict:
    out = copy.deepcopy(manifest)
    for resource in resources:
        out[_kind(resource["resource_type"])][resource["unique_id"]] = resource
    return out


def change(manifest: dict, unique_id: str, **fields: object) -> dict:
    out = copy.deepcopy(manifest)
    out[_kind(unique_id.split(".")[0])][unique_id].update(fields)
    return out


def _tested(model: dict) -> tuple[dict, ...]:
    """The model with its key tested unique and not_null."""
    return model, _test(model, UNIQUE), _test(model, NOT_NULL)


SRC = "source.shop.erp.orders"
STG = "model.shop.stg_erp__orders"
INT = "model.shop.int_orders_enriched"
FCT = "model.shop.fct_orders"


def clean() -> dict:
    """source -> staging -> intermediate -> a public, contracted, documented mart -> an exposure."""
    mart = _model("fct_orders", "marts", INT, access="public", contract={"enforced": True})
    return add(
        {"metadata": {"project_name": PROJECT}, "nodes": {}, "sources": {}, "exposures": {}},
        _source("erp", "orders"),
        *_tested(_model("stg_erp__orders", "staging/erp", SRC, materialized="view")),
        *_tested(_model("int_orders_enriched", "intermediate", STG)),
        *_tested(mart),
        _exposure("dashboard", FCT),
    )


def _views(count: int) -> tuple[dict, ...]:
    """A chain of ``count`` views after the staging view, then a table."""
    chain: list[dict] = []
    parent = STG
    for index in range(count):
        model = _model(f"int_orders_step{index}", "intermediate", parent, materialized="view")
        chain += _tested(model)
        parent = model["unique_id"]
    return (*chain, *_tested(_model("fct_orders_stepped", "marts", parent)))


# rule -> (the change that breaks it, a subset of the row the rule must report)
CASES: dict[str, tuple[Callable[[dict], dict], dict]] = {
    "fct_staging_dependent_on_staging": (
        lambda m: add(m, *_tested(_model("stg_erp__order_lines", "staging/erp", STG))),
        {"parent": "stg_erp__orders", "child": "stg_erp__order_lines"},
    ),
    "fct_source_fanout": (
        lambda m: add(m, *_tested(_model("stg_erp__orders_deleted", "staging/erp", SRC))),
        {"parent": "erp.orders"},
    ),
    "fct_rejoining_of_upstream_concepts": (
        lambda m: add(
            m,
            *_tested(_model("int_orders_priced", "intermediate", STG)),
            *_tested(_model("int_orders_totalled", "intermediate", STG, "model.shop.int_orders_priced")),
        ),
        {"parent": "stg_erp__orders", "child": "int_orders_totalled", "parent_and_child": "int_orders_priced"},
    ),
    "fct_model_fanout": (
        lambda m: add(m, *(r for n in "abc" for r in _tested(_model(f"fct_orders_{n}", "marts", FCT)))),
        {"parent": "fct_orders", "leaf_children": "fct_orders_a, fct_orders_b, fct_orders_c"},
    ),
    "fct_marts_or_intermediate_dependent_on_source": (
        lambda m: add(m, *_tested(_model("fct_raw_orders", "marts", SRC))),
        {"parent": "erp.orders", "child": "fct_raw_orders", "child_model_type": "marts"},
    ),
    "fct_direct_join_to_source": (
        lambda m: add(m, *_tested(_model("int_orders_mixed", "intermediate", STG, SRC))),
        {"parent": "erp.orders", "child": "int_orders_mixed"},
    ),
    "fct_duplicate_sources": (
        lambda m: add(m, _source("erp", "orders_again", identifier="orders")),
        {"source_db_location": "db.erp.orders", "source_names": "erp.orders, erp.orders_again"},
    ),
    "fct_hard_coded_references": (
        lambda m: change(m, INT, raw_code="select * from {{ ref('stg_erp__orders') }} join analytics.customers"),
        {"model": "int_orders_enriched", "hard_coded_references": "analytics.customers"},
    ),
    "fct_multiple_sources_joined": (
        lambda m: add(
            m,
            _source("erp", "customers"),
            *_tested(_model("stg_erp__order_customers", "staging/erp", SRC, "source.shop.erp.customers")),
        ),
        {"child": "stg_erp__order_customers", "source_parents": "erp.customers, erp.orders"},
    ),
    "fct_root_models": (
        lambda m: add(m, *_tested(_model("int_calendar", "intermediate"))),
        {"child": "int_calendar"},
    ),
    "fct_staging_dependent_on_marts_or_intermediate": (
        lambda m: add(m, *_tested(_model("stg_erp__orders_late", "staging/erp", INT))),
        {"parent": "int_orders_enriched", "child": "stg_erp__orders_late"},
    ),
    "fct_unused_sources": (lambda m: add(m, _source("erp", "refunds")), {"parent": "erp.refunds"}),
    "fct_too_many_joins": (
        lambda m: add(
            m,
            *(_model(f"int_part{i}", "intermediate", STG) for i in range(6)),
            *_tested(_model("int_orders_wide", "intermediate", STG, *(f"model.shop.int_part{i}" for i in range(6)))),
        ),
        {"resource_name": "int_orders_wide", "join_count": 7},
    ),
    "fct_missing_primary_key_tests": (
        lambda m: add(m, half := _model("int_orders_half", "intermediate", STG), _test(half, UNIQUE)),
        {"resource_name": "int_orders_half", "is_primary_key_tested": False},
    ),
    "fct_sources_without_freshness": (
        lambda m: change(m, SRC, loaded_at_field=None),
        {"resource_name": "erp.orders", "loaded_at_field": None},
    ),
    "fct_test_coverage": (
        lambda m: add(m, _model("int_orders_untested", "intermediate", STG)),
        {"model_type": "intermediate", "missing": "int_orders_untested"},
    ),
    "fct_undocumented_models": (
        lambda m: change(m, INT, description=""),
        {"resource_name": "int_orders_enriched", "model_type": "intermediate"},
    ),
    "fct_documentation_coverage": (
        lambda m: change(m, INT, description=""),
        {"model_type": "intermediate", "coverage_pct": 0.0, "missing": "int_orders_enriched"},
    ),
    "fct_undocumented_source_tables": (lambda m: change(m, SRC, description=""), {"resource_name": "erp.orders"}),
    "fct_undocumented_sources": (lambda m: change(m, SRC, source_description=""), {"source_name": "erp"}),
    "fct_test_directories": (
        lambda m: add(m, _test(m["nodes"][INT], "dbt.test_accepted_values", folder="staging/erp")),
        {"model_name": "int_orders_enriched", "current_test_directory": "models/staging/erp/"},
    ),
    "fct_model_naming_conventions": (
        lambda m: add(m, *_tested(_model("dim_customers", "marts", INT))),
        {"resource_name": "dim_customers", "model_type": "marts", "appropriate_prefixes": "fct_"},
    ),
    "fct_source_directories": (
        lambda m: add(m, _source("crm", "contacts", folder="staging/erp")),
        {"resource_name": "crm.contacts", "change_file_path_to": "models/staging/crm/_crm__sources.yml"},
    ),
    "fct_model_directories": (
        lambda m: add(m, *_tested(_model("int_orders_misplaced", "marts", STG))),
        {"resource_name": "int_orders_misplaced", "model_type": "intermediate"},
    ),
    "fct_chained_views_dependencies": (
        lambda m: add(m, *_views(4)),
        {"parent": "stg_erp__orders", "child": "fct_orders_stepped", "distance": 5},
    ),
    "fct_exposure_parents_materializations": (
        lambda m: add(m, _exposure("report", STG)),
        {"parent_resource_name": "stg_erp__orders", "exposure_name": "report", "parent_model_materialization": "view"},
    ),
    "fct_public_models_without_contract": (
        lambda m: change(m, FCT, contract={"enforced": False}),
        {"resource_name": "fct_orders"},
    ),
    "fct_exposures_dependent_on_private_models": (
        lambda m: add(m, _exposure("report", INT)),
        {"exposure_name": "report", "parent_resource_name": "int_orders_enriched", "parent_access": "protected"},
    ),
    "fct_undocumented_public_models": (
        lambda m: change(m, FCT, columns={"id": {"name": "id", "description": "", "constraints": []}}),
        {"resource_name": "fct_orders", "total_defined_columns": 1, "total_described_columns": 0},
    ),
    "fct_column_documentation_coverage": (
        lambda m: change(m, INT, columns={"id": {"name": "id", "description": "", "constraints": []}}),
        {"model_type": "intermediate", "missing": "int_orders_enriched.id"},
    ),
}


def test_the_synthetic_project_is_clean_under_every_rule() -> None:
    results = evaluate(Project.from_manifest(clean()))
    assert not any(results.values()), violation_table(results)


def test_every_rule_has_a_case_that_breaks_it() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_reports_the_violation_its_case_introduces(rule: str) -> None:
    breaks, expected = CASES[rule]
    rows = RULES[rule](Project.from_manifest(breaks(clean())))
    assert any(expected.items() <= row.items() for row in rows), f"{rule} returned {rows}"


def test_a_rejoin_through_a_model_with_other_children_is_accepted() -> None:
    # The evaluator's precise definition: the in-between model may be shared code, so it is flagged
    # only when the rejoining child is its one child.
    breaks, _ = CASES["fct_rejoining_of_upstream_concepts"]
    shared = add(breaks(clean()), *_tested(_model("fct_prices", "marts", "model.shop.int_orders_priced")))
    assert RULES["fct_rejoining_of_upstream_concepts"](Project.from_manifest(shared)) == []


def test_a_model_an_exposure_reads_is_no_leaf_for_the_fanout_rule() -> None:
    breaks, _ = CASES["fct_model_fanout"]
    read = add(breaks(clean()), _exposure("report", "model.shop.fct_orders_a"))
    assert RULES["fct_model_fanout"](Project.from_manifest(read)) == []


def test_a_unique_combination_of_columns_test_is_a_primary_key_test() -> None:
    for macro in ("dbt_utils.test_unique_combination_of_columns", "smcost.test_unique_combination_of_columns"):
        model = _model("int_orders_by_day", "intermediate", STG)
        combined = add(clean(), model, _test(model, macro, column=None))
        assert RULES["fct_missing_primary_key_tests"](Project.from_manifest(combined)) == [], macro


def test_a_not_null_constraint_and_a_unique_test_are_a_primary_key_test() -> None:
    constrained = {"id": {"name": "id", "description": "The key.", "constraints": [{"type": "not_null"}]}}
    model = _model("int_orders_kept", "intermediate", STG, columns=constrained)
    combined = add(clean(), model, _test(model, UNIQUE))
    assert RULES["fct_missing_primary_key_tests"](Project.from_manifest(combined)) == []


def test_a_source_with_a_loaded_at_field_but_no_threshold_fails() -> None:
    # The evaluator's own condition (the case above is this project's addition: no loaded_at_field).
    rows = RULES["fct_sources_without_freshness"](Project.from_manifest(change(clean(), SRC, config={"enabled": True})))
    assert rows == [{"resource_name": "erp.orders", "is_freshness_enabled": False, "loaded_at_field": "loaded_at"}]


def test_an_exception_removes_the_rows_its_like_pattern_matches() -> None:
    breaks, _ = CASES["fct_too_many_joins"]
    project = Project.from_manifest(breaks(clean()))
    excepted = AcceptedException("fct_too_many_joins", "resource_name", "int_orders_w%", "a union, not a join")
    assert evaluate(project, [excepted])["fct_too_many_joins"] == []
    other = AcceptedException("fct_too_many_joins", "resource_name", "int_other_%", "another model")
    assert evaluate(project, [other])["fct_too_many_joins"] != []


def test_like_matches_as_sql_does() -> None:
    assert like("stg_erp__orders", "stg_%")
    assert like("int_a", "int__")
    assert not like("int_ab", "int__")
    assert not like("xstg_erp", "stg_%")
    assert like("50%", "50%")


def test_hard_coded_references_ignore_refs_comments_and_cte_names() -> None:
    code = """
        -- select * from raw.orders (a comment)
        with orders as (select * from {{ ref('stg_erp__orders') }})
        select * from orders join "analytics"."customers" on true
    """
    assert hard_coded_references(code) == ['"analytics"."customers"']
