"""The QuickSight assets (dashboards/quicksight, CloudFormation), offline: cfn-lint passes; every
resource's properties (the Definition included) match botocore's QuickSight service model — unknown
keys, missing required members, wrong types and enum values, which botocore's own ParamValidator
does not check; the Definition's fields name declared data sets and their columns; every data set's
SQL is Athena SQL over the marts only and on the demo's DuckDB build returns its declared columns
and the marts' and ground truth's numbers. Each check is shown to fail on a broken copy."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import botocore.session
import duckdb
import pytest
import yaml
from botocore.model import Shape

from dashboards_testing import DATABASE, DemoMarts, marts_read
from smcost_testing import REPO

pytestmark = pytest.mark.dbt
CENT = 0.005
TEMPLATE = REPO / "dashboards/quicksight/smcost-quicksight.yaml"
MONTH, PREVIOUS = "2026-10", "2026-09"
# CloudFormation resource type -> the API operation whose input its properties are (the property
# names are the API's member names for these four types).
OPERATIONS = {
    "AWS::QuickSight::DataSource": "CreateDataSource",
    "AWS::QuickSight::DataSet": "CreateDataSet",
    "AWS::QuickSight::Analysis": "CreateAnalysis",
    "AWS::QuickSight::Dashboard": "CreateDashboard",
}
INTRINSICS = {"Ref", "Fn::Sub", "Fn::GetAtt", "Fn::Join", "Fn::If", "Fn::Select", "Fn::ImportValue"}
SCALARS = {"string": str, "boolean": bool, "integer": int, "long": int, "double": (int, float), "float": (int, float)}


def template() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text())


SERVICE = botocore.session.get_session().get_service_model("quicksight")


def shape_problems(value: Any, shape: Shape, path: str) -> list[str]:
    """Walk a value against a botocore shape: structure members (unknown and missing required),
    lists, maps, scalar types and enums. An intrinsic function stands for a scalar CloudFormation
    resolves at deploy time."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in INTRINSICS:
        return (
            []
            if shape.type_name in SCALARS or shape.type_name == "timestamp"
            else [f"{path}: {value} for a {shape.type_name}"]
        )
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({shape.name}), got {type(value).__name__}"]
        members = shape.members
        problems = [f"{path}: unknown key {key!r} in {shape.name}" for key in value if key not in members]
        problems += [
            f"{path}: missing required {name!r} of {shape.name}"
            for name in shape.required_members
            if name not in value and name != "AwsAccountId"  # the template sets it; kept for other shapes
        ]
        if shape.metadata.get("union") and len(value) != 1:
            problems.append(f"{path}: {shape.name} is a union: exactly one of its members, got {sorted(value)}")
        for key, item in value.items():
            if key in members:
                problems += shape_problems(item, members[key], f"{path}.{key}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list ({shape.name})"]
        problems = []
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append(f"{path}: {len(value)} items, at most {shape.metadata['max']}")
        for i, item in enumerate(value):
            problems += shape_problems(item, shape.member, f"{path}[{i}]")
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map ({shape.name})"]
        problems = []
        for key, item in value.items():
            problems += shape_problems(key, shape.key, f"{path} key {key!r}")
            problems += shape_problems(item, shape.value, f"{path}.{key}")
        return problems
    if kind in SCALARS:
        if not isinstance(value, SCALARS[kind]) or (kind != "boolean" and isinstance(value, bool)):
            return [f"{path}: expected {kind} ({shape.name}), got {value!r}"]
        if kind == "string" and shape.enum and value not in shape.enum:
            return [f"{path}: {value!r} is not one of {shape.name}'s values {shape.enum}"]
        pattern = shape.metadata.get("pattern") if kind == "string" else None
        if pattern and not re.fullmatch(pattern, value, flags=re.DOTALL):
            return [f"{path}: {value!r} does not match {shape.name}'s pattern {shape.metadata['pattern']}"]
        return []
    return [f"{path}: cannot check a {kind} ({shape.name})"]


def template_problems(document: dict[str, Any]) -> list[str]:
    problems = []
    for logical_id, resource in document["Resources"].items():
        operation = SERVICE.operation_model(OPERATIONS[resource["Type"]])
        problems += shape_problems(resource["Properties"], operation.input_shape, logical_id)
    return problems


def field_problems(definition: dict[str, Any], datasets: dict[str, set[str]]) -> list[str]:
    """What botocore cannot see: every column a visual reads is a column of a declared data set,
    visual and field ids are unique, and every sort names a field of its visual."""
    problems = []
    declared = {d["Identifier"] for d in definition["DataSetIdentifierDeclarations"]}
    if declared != set(datasets):
        problems.append(f"declared data sets {sorted(declared)} are not the template's {sorted(datasets)}")
    visual_ids, field_ids = [], []

    def walk(node: Any, visual: str) -> None:
        if isinstance(node, dict):
            if "ColumnName" in node and "DataSetIdentifier" in node:
                columns = datasets.get(node["DataSetIdentifier"], set())
                if node["ColumnName"] not in columns:
                    problems.append(f"{visual}: {node['DataSetIdentifier']}.{node['ColumnName']} is no data set column")
            if "FieldId" in node and "Direction" not in node:
                field_ids.append(node["FieldId"])
            for item in node.values():
                walk(item, visual)
        elif isinstance(node, list):
            for item in node:
                walk(item, visual)

    for sheet in definition["Sheets"]:
        for visual in sheet["Visuals"]:
            (body,) = visual.values()
            visual_ids.append(body["VisualId"])
            before = len(field_ids)
            walk(body, body["VisualId"])
            own = set(field_ids[before:])
            sorts = body.get("ChartConfiguration", {}).get("SortConfiguration", {}).get("RowSort", [])
            for sort in sorts:
                if sort["FieldSort"]["FieldId"] not in own:
                    problems.append(
                        f"{body['VisualId']}: sorts by {sort['FieldSort']['FieldId']}, not one of its fields"
                    )
    for ids, what in ((visual_ids, "visual"), (field_ids, "field")):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            problems.append(f"{what} ids repeat: {repeated}")
    return problems


def datasets(document: dict[str, Any]) -> dict[str, tuple[str, list[dict[str, str]]]]:
    """Identifier -> (SQL with the Glue database filled in, declared columns)."""
    found = {}
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::QuickSight::DataSet":
            ((table,),) = [resource["Properties"]["PhysicalTableMap"].values()]
            custom = table["CustomSql"]
            sql = custom["SqlQuery"]["Fn::Sub"].replace("${GlueDatabase}", DATABASE)
            found[custom["Name"]] = (sql, custom["Columns"])
    return found


def definitions(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, r["Properties"]["Definition"])
        for logical_id, r in document["Resources"].items()
        if "Definition" in r["Properties"]
    ]


# --------------------------------------------------------------------------------------------------
# The template


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_resource_matches_botocores_quicksight_model_enums_included():
    assert template_problems(template()) == []


def test_the_definitions_fields_are_columns_of_the_declared_data_sets():
    document = template()
    columns = {name: {c["Name"] for c in cols} for name, (_, cols) in datasets(document).items()}
    for logical_id, definition in definitions(document):
        assert field_problems(definition, columns) == [], logical_id


def test_the_analysis_and_the_dashboard_show_the_same_definition():
    ((_, analysis), (_, dashboard)) = definitions(template())
    assert analysis == dashboard


def visuals(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["Resources"]["Dashboard"]["Properties"]["Definition"]["Sheets"][0]["Visuals"]


def dataset_properties(document: dict[str, Any]) -> dict[str, Any]:
    return document["Resources"]["DataSetMonthlySummary"]["Properties"]


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (lambda d: visuals(d)[0]["KPIVisual"].update(Titel={}), "unknown key 'Titel'"),
        (
            lambda d: visuals(d)[4]["LineChartVisual"]["ChartConfiguration"].update(Type="STACKED_AREAS"),
            "is not one of",
        ),
        (
            lambda d: visuals(d)[6]["TableVisual"]["ChartConfiguration"]["SortConfiguration"]["RowSort"][0][
                "FieldSort"
            ].update(Direction="DOWN"),
            "is not one of",
        ),
        (lambda d: visuals(d)[1]["KPIVisual"].pop("VisualId"), "missing required 'VisualId'"),
        (
            lambda d: d["Resources"]["Dashboard"]["Properties"]["Definition"]["Sheets"][0].update(Visuals={}),
            "expected a list",
        ),
        (lambda d: dataset_properties(d).update(ImportMode="DIRECT"), "is not one of"),
        (
            lambda d: dataset_properties(d)["PhysicalTableMap"]["monthly-summary"]["CustomSql"]["Columns"][0].update(
                Type="TEXT"
            ),
            "is not one of",
        ),
        (
            lambda d: dataset_properties(d)["PhysicalTableMap"]["monthly-summary"]["CustomSql"].pop("SqlQuery"),
            "missing required 'SqlQuery'",
        ),
        (lambda d: d["Resources"]["DataSource"]["Properties"].update(Type="AWS_ATHENA"), "is not one of"),
        (
            lambda d: visuals(d)[0]["KPIVisual"]["ChartConfiguration"]["FieldWells"]["Values"][0][
                "NumericalMeasureField"
            ]["AggregationFunction"].update(SimpleNumericalAggregation="TOTAL"),
            "is not one of",
        ),
        (
            lambda d: visuals(d)[0]["KPIVisual"]["ChartConfiguration"]["FieldWells"].update(Values="effective_cost"),
            "expected a list",
        ),
    ],
)
def test_the_model_walk_catches_a_broken_template(breakage, complaint):
    broken = template()
    breakage(broken)
    problems = template_problems(broken)
    assert any(complaint in p for p in problems), problems


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (
            lambda v: v[4]["LineChartVisual"]["ChartConfiguration"]["FieldWells"]["LineChartAggregatedFieldWells"][
                "Colors"
            ][0]["CategoricalDimensionField"]["Column"].update(ColumnName="Team"),
            "no data set column",
        ),
        (lambda v: v[1]["KPIVisual"].update(VisualId="kpi-total"), "visual ids repeat"),
        (
            lambda v: v[6]["TableVisual"]["ChartConfiguration"]["SortConfiguration"]["RowSort"][1]["FieldSort"].update(
                FieldId="nope"
            ),
            "not one of its fields",
        ),
    ],
)
def test_the_field_check_catches_a_visual_reading_what_no_data_set_has(breakage, complaint):
    broken = copy.deepcopy(template())
    breakage(visuals(broken))
    columns = {name: {c["Name"] for c in cols} for name, (_, cols) in datasets(broken).items()}
    problems = field_problems(broken["Resources"]["Dashboard"]["Properties"]["Definition"], columns)
    assert any(complaint in p for p in problems), problems


# --------------------------------------------------------------------------------------------------
# The data sets' SQL

DATASET_NAMES = sorted(datasets(template()))


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_every_data_set_reads_only_marts_in_athena_sql_with_lower_case_columns(name):
    sql, columns = datasets(template())[name]
    assert marts_read(sql)
    assert all(c["Name"] == c["Name"].lower() for c in columns)


@pytest.fixture(scope="module")
def marts(demo_build) -> DemoMarts:
    return DemoMarts(demo_build)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_every_data_set_returns_its_declared_columns_on_the_demo(marts, name):
    sql, columns = datasets(template())[name]
    got, rows = marts.athena(sql)
    assert got == [c["Name"] for c in columns]
    assert rows, "no rows on the demo"
    python_types = {"STRING": str, "DECIMAL": float, "INTEGER": int, "DATETIME": (date, datetime)}
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            assert value is None or isinstance(value, python_types[column["Type"]]), (column, value)


def test_monthly_summary_is_the_months_allocations_idle_and_coverage(marts, demo_lake):
    sql, _ = datasets(template())["monthly_summary"]
    rows = {r["billing_period"]: r for r in marts.athena_dicts(sql)}
    totals = dict(
        marts.rows("select billing_period, sum(effective_cost) from {mart}fct_sagemaker_cost_allocations group by 1")
    )
    assert rows.keys() == totals.keys()
    for period, total in totals.items():
        assert rows[period]["effective_cost"] == pytest.approx(total, abs=CENT), period
    month = rows[MONTH]
    truth = duckdb.connect()
    (planted,) = truth.execute(
        f"select sum(amount) from read_parquet('{demo_lake}/demo/ground_truth_findings/*.parquet') "
        "where billing_period = ? and finding in ('endpoint_idle', 'notebook_after_hours')",
        [MONTH],
    ).fetchone()
    (shared_idle,) = truth.execute(
        f"select sum(effective_cost) from read_parquet('{demo_lake}/demo/ground_truth/*.parquet') "
        "where billing_period = ? and model = '__idle__'",
        [MONTH],
    ).fetchone()
    assert month["idle_cost"] == pytest.approx(planted + shared_idle, abs=CENT)
    unattributed = marts.one(
        "select sum(effective_cost) from {mart}fct_sagemaker_cost_allocations "
        "where billing_period = ? and unattributed_reason is not null",
        MONTH,
    )
    assert month["unattributed_cost"] == pytest.approx(unattributed, abs=CENT)
    taggable, tagged = marts.rows(
        "select sum(taggable_cost), sum(all_bill_tags_cost) from {mart}fct_sagemaker_tag_coverage_monthly "
        "where billing_period = ? and tag_key = 'ml:team'",
        MONTH,
    )[0]
    assert (month["taggable_cost"], month["all_bill_tags_cost"]) == (
        pytest.approx(taggable, abs=CENT),
        pytest.approx(tagged, abs=CENT),
    )
    assert str(month["period_start"])[:10] == f"{MONTH}-01"
    # The KPI's comparison is this month against the one before: the bill's growth.
    assert month["effective_cost"] - rows[PREVIOUS]["effective_cost"] == pytest.approx(
        totals[MONTH] - totals[PREVIOUS], abs=CENT
    )


@pytest.mark.parametrize(
    ("name", "mart", "key"),
    [
        ("cost_by_team_daily", "fct_sagemaker_cost_allocations", "team"),
        ("cost_by_model_daily", "fct_sagemaker_cost_allocations", "model"),
        ("top_resources", "fct_sagemaker_cost_allocations", "resource_name"),
    ],
)
def test_daily_and_resource_data_sets_add_up_to_the_allocations(marts, name, mart, key):
    sql, _ = datasets(template())[name]
    got: dict[str, float] = {}
    for row in marts.athena_dicts(sql):
        got[row[key]] = got.get(row[key], 0.0) + row["effective_cost"]
    where = "where resource_name is not null" if key == "resource_name" else ""
    expected = dict(marts.rows(f"select {key}, sum(effective_cost) from {{mart}}{mart} {where} group by 1"))
    assert got.keys() == expected.keys()
    for k, cost in expected.items():
        assert got[k] == pytest.approx(cost, abs=CENT), k


def test_idle_endpoints_data_set_names_the_ground_truths_forgotten_endpoints(marts, demo_lake):
    sql, _ = datasets(template())["idle_endpoints"]
    forgotten = {
        r["endpoint_name"]: r["effective_cost"]
        for r in marts.athena_dicts(sql)
        if r["billing_period"] == MONTH and r["status"] == "forgotten"
    }
    planted = (
        duckdb.connect()
        .execute(
            f"select split_part(resource_arn, '/', 2), amount from read_parquet('{demo_lake}/demo/ground_truth_findings/*.parquet') "
            "where billing_period = ? and finding = 'forgotten_endpoint'",
            [MONTH],
        )
        .fetchall()
    )
    assert forgotten == {n: pytest.approx(a, abs=CENT) for n, a in planted}


def test_endpoint_and_untagged_data_sets_are_their_marts(marts):
    for name, mart, cost in (
        ("endpoints_fully_loaded", "fct_endpoint_fully_loaded_cost_monthly", "total_cost"),
        ("untagged_resources", "fct_sagemaker_untagged_resources", "effective_cost"),
    ):
        sql, _ = datasets(template())[name]
        rows = marts.athena_dicts(sql)
        assert len(rows) == marts.one(f"select count(*) from {{mart}}{mart}")
        assert sum(r[cost] for r in rows) == pytest.approx(
            marts.one(f"select sum({cost}) from {{mart}}{mart}"), abs=CENT
        )


# --------------------------------------------------------------------------------------------------
# The exposure


def test_the_exposure_depends_on_exactly_the_marts_the_data_sets_read():
    exposures = yaml.safe_load((REPO / "models/marts/sagemaker/_exposures.yml").read_text())["exposures"]
    (entry,) = [e for e in exposures if e["name"] == "smcost_quicksight_dashboard"]
    read = set().union(*(marts_read(sql) for sql, _ in datasets(template()).values()))
    assert {r.removeprefix("ref('").removesuffix("')") for r in entry["depends_on"]} == read
    assert entry["type"] == "dashboard" and entry["owner"]["name"] and (REPO / entry["url"]).exists()
