"""The Grafana dashboard (dashboards/grafana), offline: the committed files are what
extract/smcost/dashboards.py renders; the JSON holds together as a shareable Grafana dashboard for
the Athena plugin; every panel's SQL, with the plugin's macros expanded for a fixed time range, is
Athena SQL over the marts only, and on the demo's DuckDB build returns what the marts and the demo's
ground truth say. Each check is shown to fail on a broken copy."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import duckdb
import jsonschema
import pytest
import yaml

from dashboards_testing import DATABASE, DemoMarts, UndefinedMacroOrVariable, expand, marts_read, variables_in
from smcost import dashboards
from smcost_testing import REPO

pytestmark = pytest.mark.dbt
CENT = 0.005
PLUGIN = dashboards.PLUGIN_ID
# The dashboard's default range ("now-2M/M" to "now/M") when now is in the demo's last month.
START, END = datetime(2026, 8, 1), datetime(2026, 10, 31, 23, 59, 59)
MONTH, PREVIOUS = "2026-10", "2026-09"
VARIABLES = {"database": DATABASE, "catalog": "AwsDataCatalog", "currency": "USD"}
SHARED = REPO / "dashboards/grafana/smcost-sagemaker-cost.json"
PROVISIONED = REPO / "dashboards/grafana/provisioning/dashboards/smcost-sagemaker-cost.json"


def load(path) -> dict[str, Any]:
    return json.loads(path.read_text())


# --------------------------------------------------------------------------------------------------
# The dashboard JSON

# The parts of Grafana's dashboard model (schemaVersion 39) this dashboard uses, strictly enough to
# catch a misplaced or misspelt key where Grafana would silently ignore it.
TARGET = {
    "type": "object",
    "required": ["datasource", "refId", "format", "rawSQL", "connectionArgs"],
    "additionalProperties": False,
    "properties": {
        "datasource": {"$ref": "#/$defs/datasource"},
        "refId": {"type": "string"},
        "format": {"enum": [0, 1, 2]},  # time series, table, logs
        "rawSQL": {"type": "string", "minLength": 1},
        "connectionArgs": {
            "type": "object",
            "additionalProperties": False,
            "required": ["region", "catalog", "database"],
            "properties": {
                "region": {"type": "string"},
                "catalog": {"type": "string"},
                "database": {"type": "string"},
                "resultReuseEnabled": {"type": "boolean"},
                "resultReuseMaxAgeInMinutes": {"type": "integer"},
            },
        },
    },
}
SCHEMA = {
    "type": "object",
    "required": ["__inputs", "__requires", "panels", "templating", "time", "title", "uid", "schemaVersion"],
    "$defs": {
        "datasource": {
            "type": "object",
            "required": ["type", "uid"],
            "additionalProperties": False,
            "properties": {"type": {"type": "string"}, "uid": {"type": "string"}},
        },
    },
    "properties": {
        "__inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "label", "type"],
                "properties": {"type": {"enum": ["datasource", "constant"]}},
                "if": {"properties": {"type": {"const": "datasource"}}},
                "then": {"required": ["pluginId", "pluginName"]},
                "else": {"required": ["value"]},
            },
        },
        "__requires": {
            "type": "array",
            "items": {"type": "object", "required": ["type", "id", "name", "version"]},
        },
        "schemaVersion": {"type": "integer", "minimum": 36},
        "time": {"type": "object", "required": ["from", "to"]},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {
                "list": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "name", "hide"],
                        "properties": {"type": {"enum": ["datasource", "constant", "query", "custom"]}},
                    },
                }
            },
        },
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "description", "gridPos", "datasource", "targets", "fieldConfig"],
                "properties": {
                    "id": {"type": "integer"},
                    "type": {"enum": ["stat", "timeseries", "table", "barchart", "piechart"]},
                    "title": {"type": "string", "minLength": 1},
                    "datasource": {"$ref": "#/$defs/datasource"},
                    "gridPos": {
                        "type": "object",
                        "required": ["x", "y", "w", "h"],
                        "additionalProperties": False,
                        "properties": {k: {"type": "integer", "minimum": 0} for k in "xywh"},
                    },
                    "targets": {"type": "array", "minItems": 1, "items": TARGET},
                    "fieldConfig": {"type": "object", "required": ["defaults", "overrides"]},
                },
            },
        },
    },
}


def dashboard_problems(dashboard: dict[str, Any]) -> list[str]:
    """Everything wrong with the dashboard, empty when nothing is."""
    problems = [
        f"schema: {e.json_path}: {e.message}" for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(dashboard)
    ]
    if problems:
        return problems
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    if len(ids) != len(set(ids)):
        problems.append(f"panel ids repeat: {ids}")
    cells: dict[tuple[int, int], str] = {}
    for p in panels:
        g = p["gridPos"]
        if g["x"] + g["w"] > 24 or g["w"] < 1 or g["h"] < 1:
            problems.append(f"{p['title']}: gridPos {g} leaves the 24-column grid")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    problems.append(f"{p['title']} overlaps {cells[(x, y)]}")
                    break
                cells[(x, y)] = p["title"]
            else:
                continue
            break

    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != PLUGIN:
        problems.append(f"no data source variable of type {PLUGIN}")
    for name in ("catalog", "database"):
        if variables.get(name, {}).get("hide") != 2:
            problems.append(f"the {name} variable is not a hidden variable")
    expected_source = {"type": PLUGIN, "uid": "${datasource}"}
    queries = [
        (f"variable {v['name']}", v["datasource"], [v["query"]]) for v in variables.values() if v["type"] == "query"
    ]
    queries += [(p["title"], p["datasource"], p["targets"]) for p in panels]
    for where, panel_source, targets in queries:
        if panel_source != expected_source:
            problems.append(f"{where}: data source {panel_source} is not the variable")
        for target in targets:
            if target.get("datasource", expected_source) != expected_source:
                problems.append(f"{where}: a target's data source {target['datasource']} is not the variable")
            args = target["connectionArgs"]
            if (args["catalog"], args["database"]) != ("${catalog}", "${database}"):
                problems.append(f"{where}: connectionArgs do not use the catalog and database variables")
            undefined = variables_in(json.dumps(target)) - set(variables)
            if undefined:
                problems.append(f"{where}: undefined variables {sorted(undefined)}")

    placeholders = {name for name in variables_in(json.dumps(dashboard)) if name.isupper()}
    inputs = {i["name"] for i in dashboard["__inputs"]}
    if placeholders != inputs:
        problems.append(f"placeholders {sorted(placeholders)} are not the __inputs {sorted(inputs)}")
    required = {(r["type"], r["id"]) for r in dashboard["__requires"]}
    needed = {("panel", p["type"]) for p in panels} | {("datasource", PLUGIN), ("grafana", "grafana")}
    if not needed <= required:
        problems.append(f"__requires misses {sorted(needed - required)}")
    return problems


def test_committed_files_are_what_the_generator_renders():
    for relative, render in dashboards.GENERATED.items():
        assert (dashboards.OUT / relative).read_text() == render(), (
            f"dashboards/{relative}: python -m smcost.dashboards"
        )


def test_the_shared_dashboard_is_a_valid_grafana_dashboard_for_the_athena_plugin():
    assert dashboard_problems(load(SHARED)) == []


def test_the_provisioned_dashboard_is_the_shared_one_with_the_provisioned_data_source_filled_in():
    provisioned, shared = load(PROVISIONED), load(SHARED)
    assert "__inputs" not in provisioned and "${DS_ATHENA}" not in json.dumps(provisioned)
    assert provisioned["panels"] == shared["panels"]
    source = next(v for v in provisioned["templating"]["list"] if v["name"] == "datasource")
    assert source["current"]["value"] == dashboards.PROVISIONED_DATASOURCE_UID


def test_provisioning_yaml_declares_the_athena_data_source_and_a_file_provider():
    files = REPO / "dashboards/grafana/provisioning"
    (source,) = yaml.safe_load((files / "datasources/smcost-athena.yaml").read_text())["datasources"]
    assert source["type"] == PLUGIN and source["uid"] == dashboards.PROVISIONED_DATASOURCE_UID
    # jsonData keys the plugin reads (src/types.ts AthenaDataSourceOptions and @grafana/aws-sdk's).
    plugin_keys = {"authType", "defaultRegion", "catalog", "database", "workgroup", "outputLocation", "assumeRoleArn"}
    assert set(source["jsonData"]) <= plugin_keys and {"authType", "defaultRegion", "workgroup"} <= set(
        source["jsonData"]
    )
    (provider,) = yaml.safe_load((files / "dashboards/smcost.yaml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (lambda d: d["panels"][1].update(id=d["panels"][0]["id"]), "panel ids repeat"),
        (lambda d: d["panels"][0]["gridPos"].update(x=22), "leaves the 24-column grid"),
        (lambda d: d["panels"][6]["gridPos"].update(y=5), "overlaps"),
        (
            lambda d: d["panels"][2]["targets"][0].update(datasource={"type": PLUGIN, "uid": "abc123"}),
            "is not the variable",
        ),
        (
            lambda d: d["panels"][3].update(datasource={"type": "prometheus", "uid": "${datasource}"}),
            "is not the variable",
        ),
        (lambda d: d["panels"][4]["targets"][0].update(rawSQL="select 1 from ${glue_db}.t"), "undefined variables"),
        (lambda d: d["panels"][4]["targets"][0].update(rawSql="select 1"), "schema"),
        (lambda d: d["templating"]["list"][2].update(hide=0), "database variable is not a hidden"),
        (lambda d: d["__inputs"].pop(), "__inputs"),
        (lambda d: d["__requires"].pop(), "__requires misses"),
    ],
)
def test_the_structural_check_catches_a_broken_dashboard(breakage, complaint):
    broken = copy.deepcopy(load(SHARED))
    breakage(broken)
    assert any(complaint in problem for problem in dashboard_problems(broken)), dashboard_problems(broken)


# --------------------------------------------------------------------------------------------------
# The SQL


def panel_sql() -> dict[str, str]:
    dashboard = load(SHARED)
    sql = {p["title"]: p["targets"][0]["rawSQL"] for p in dashboard["panels"]}
    sql.update({f"${v['name']}": v["query"]["rawSQL"] for v in dashboard["templating"]["list"] if v["type"] == "query"})
    return sql


def expanded(title: str, start: datetime = START, end: datetime = END) -> str:
    return expand(panel_sql()[title], start, end, VARIABLES)


def test_macros_expand_as_the_plugin_documents():
    sql = "where $__timeFilter(t) and $__dateFilter(d) and x < $__timeTo() and $__timeGroup(t, '1d') > $__timeFrom()"
    assert expand(sql, START, END, {}) == (
        "where t BETWEEN TIMESTAMP '2026-08-01 00:00:00' AND TIMESTAMP '2026-10-31 23:59:59' "
        "and d BETWEEN date '2026-08-01' AND date '2026-10-31' and x < TIMESTAMP '2026-10-31 23:59:59' "
        "and FROM_UNIXTIME(FLOOR(TO_UNIXTIME(t)/86400)*86400) > TIMESTAMP '2026-08-01 00:00:00'"
    )
    with pytest.raises(UndefinedMacroOrVariable):
        expand("where $__timeFilterr(t)", START, END, {})


@pytest.mark.parametrize("title", list(panel_sql()))
def test_every_panel_reads_only_marts_in_athena_sql(title):
    sql = expanded(title)
    assert "$" not in sql, "every macro and variable expanded"
    assert marts_read(sql)


def test_a_panel_reading_a_staging_model_or_another_database_is_caught():
    with pytest.raises(AssertionError, match="only the marts"):
        marts_read('select * from "smcost".stg_focus__charges')
    with pytest.raises(AssertionError, match="only the marts"):
        marts_read('select * from "other".fct_sagemaker_cost_allocations')
    with pytest.raises(AssertionError, match="only the marts"):
        marts_read("select * from fct_sagemaker_cost_allocations")  # unqualified: whatever the default is
    with pytest.raises(Exception):  # noqa: B017 - sqlglot's ParseError: not Athena SQL at all
        marts_read('select * from "smcost".fct_sagemaker_cost_allocations where (')


@pytest.fixture(scope="module")
def marts(demo_build) -> DemoMarts:
    return DemoMarts(demo_build)


@pytest.fixture(scope="module")
def truth(demo_lake) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("ground_truth", "ground_truth_findings"):
        con.execute(f"create view {name} as select * from read_parquet('{demo_lake}/demo/{name}/*.parquet')")
    return con


def stat(marts: DemoMarts, title: str) -> dict[str, Any]:
    (row,) = marts.athena_dicts(expanded(title))
    return row


def test_every_panel_returns_rows_on_the_demo(marts):
    for title in panel_sql():
        assert marts.athena(expanded(title))[1], f"{title}: no rows"


def test_month_total_is_the_allocations_and_the_ground_truth(marts, truth):
    total = stat(marts, "SageMaker cost")["effective_cost"]
    allocated = marts.one(
        "select sum(effective_cost) from {mart}fct_sagemaker_cost_allocations where billing_period = ? "
        "and billing_currency = 'USD'",
        MONTH,
    )
    (true_total,) = truth.execute(
        "select sum(effective_cost) from ground_truth where billing_period = ? "
        "and service_code in ('AmazonSageMaker', 'MachineLearningSavingsPlans')",
        [MONTH],
    ).fetchone()
    assert total == pytest.approx(allocated, abs=CENT) and total == pytest.approx(true_total, abs=CENT)


def test_change_is_the_month_minus_the_month_before(marts):
    totals = dict(
        marts.rows("select billing_period, sum(effective_cost) from {mart}fct_sagemaker_cost_allocations group by 1")
    )
    change = stat(marts, "Change on the month before")
    assert change["cost_change"] == pytest.approx(totals[MONTH] - totals[PREVIOUS], abs=CENT)
    assert change["change_share"] == pytest.approx(totals[MONTH] / totals[PREVIOUS] - 1, abs=1e-9)


def test_idle_is_the_ground_truths_idle_endpoints_hours_and_notebooks_out_of_hours(marts, truth):
    (planted,) = truth.execute(
        "select sum(amount) from ground_truth_findings where billing_period = ? "
        "and finding in ('endpoint_idle', 'notebook_after_hours')",
        [MONTH],
    ).fetchone()
    (shared_idle,) = truth.execute(
        "select sum(effective_cost) from ground_truth where billing_period = ? and model = '__idle__'", [MONTH]
    ).fetchone()
    assert stat(marts, "Idle and out of hours")["idle_cost"] == pytest.approx(planted + shared_idle, abs=CENT)


def test_unattributed_is_the_allocations_with_a_reason_and_the_table_splits_it(marts):
    unattributed = marts.one(
        "select sum(effective_cost) from {mart}fct_sagemaker_cost_allocations "
        "where billing_period = ? and unattributed_reason is not null",
        MONTH,
    )
    assert stat(marts, "Unattributed")["unattributed_cost"] == pytest.approx(unattributed, abs=CENT)
    by_reason = marts.athena_dicts(expanded("Unattributed by reason"))
    assert sum(r["effective_cost"] for r in by_reason) == pytest.approx(unattributed, abs=CENT)


def test_tag_coverage_is_the_share_of_taggable_spend_with_all_keys_in_the_bill(marts):
    taggable, tagged = marts.rows(
        "select sum(taggable_cost), sum(all_bill_tags_cost) from {mart}fct_sagemaker_tag_coverage_monthly "
        "where billing_period = ? and tag_key = 'ml:team'",
        MONTH,
    )[0]
    assert 0 < tagged < taggable
    assert stat(marts, "Tag coverage")["all_bill_tags_coverage"] == pytest.approx(tagged / taggable, abs=1e-9)


@pytest.mark.parametrize(("title", "series"), [("Cost by team (daily)", "team"), ("Cost by model (daily)", "model")])
def test_daily_series_add_up_to_the_allocations_in_the_range(marts, title, series):
    september = (datetime(2026, 9, 1), datetime(2026, 9, 30, 23, 59, 59))
    points = marts.athena_dicts(expand(panel_sql()[title], *september, VARIABLES))
    assert {p["time"].date().isoformat()[:7] for p in points} == {PREVIOUS}
    got: dict[str, float] = {}
    for p in points:
        got[p[series]] = got.get(p[series], 0.0) + p["effective_cost"]
    expected = dict(
        marts.rows(
            f"select {series}, sum(effective_cost) from {{mart}}fct_sagemaker_cost_allocations "
            "where cast(charge_period_start as date) between date '2026-09-01' and date '2026-09-30' group by 1"
        )
    )
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert got[key] == pytest.approx(cost, abs=CENT), key


def test_top_resources_are_the_allocations_biggest_resources_in_the_range(marts):
    rows = marts.athena_dicts(expanded("Top resources"))
    expected = marts.rows(
        "select resource_name, sum(effective_cost) from {mart}fct_sagemaker_cost_allocations "
        "where resource_name is not null and charge_period_start between ? and ? "
        "group by resource_type, resource_name, region_id order by 2 desc limit 20",
        START,
        END,
    )
    assert [(r["resource_name"], pytest.approx(r["effective_cost"], abs=CENT)) for r in rows] == expected


def test_top_endpoints_carry_their_fully_loaded_cost(marts):
    rows = marts.athena_dicts(expanded("Top endpoints, fully loaded"))
    biggest = marts.rows(
        "select endpoint_name, sum(total_cost) from {mart}fct_endpoint_fully_loaded_cost_monthly "
        "where billing_period = ? group by endpoint_name, region_id order by 2 desc limit 1",
        MONTH,
    )[0]
    assert (rows[0]["endpoint_name"], rows[0]["total_cost"]) == (biggest[0], pytest.approx(biggest[1], abs=CENT))
    for r in rows:
        assert r["total_cost"] == pytest.approx(r["sagemaker_line_cost"] + r["neighbour_cost"], abs=CENT)


def test_forgotten_endpoints_are_the_ground_truths(marts, truth):
    rows = marts.athena_dicts(expanded("Idle and forgotten endpoints"))
    planted = truth.execute(
        "select split_part(resource_arn, '/', 2), amount from ground_truth_findings "
        "where billing_period = ? and finding = 'forgotten_endpoint'",
        [MONTH],
    ).fetchall()
    forgotten = {r["endpoint_name"]: r["effective_cost"] for r in rows if r["is_forgotten"]}
    assert forgotten == {name: pytest.approx(amount, abs=CENT) for name, amount in planted}


def test_untagged_spend_is_the_remediation_list_in_rank_order(marts):
    rows = marts.athena_dicts(expanded("Untagged spend"))
    expected = marts.rows(
        "select cost_rank, resource_name from {mart}fct_sagemaker_untagged_resources "
        "where billing_period = ? order by cost_rank limit 25",
        MONTH,
    )
    assert [(r["cost_rank"], r["resource_name"]) for r in rows] == expected


def test_currency_variable_lists_the_marts_currencies(marts):
    assert marts.athena(expanded("$currency"))[1] == [("USD",)]


# --------------------------------------------------------------------------------------------------
# The exposure


def exposure(name: str) -> dict[str, Any]:
    exposures = yaml.safe_load((REPO / "models/marts/sagemaker/_exposures.yml").read_text())["exposures"]
    (found,) = [e for e in exposures if e["name"] == name]
    return found


def refs(entry: dict[str, Any]) -> set[str]:
    return {ref.removeprefix("ref('").removesuffix("')") for ref in entry["depends_on"]}


def test_the_exposure_depends_on_exactly_the_marts_the_dashboard_reads():
    read = set().union(*(marts_read(expanded(title)) for title in panel_sql()))
    entry = exposure("smcost_grafana_dashboard")
    assert refs(entry) == read
    assert entry["type"] == "dashboard" and entry["owner"]["name"]
    assert (REPO / entry["url"]).exists() or entry["url"].startswith("https://")
