"""The Grafana dashboard and the QuickSight assets over the marts, rendered from one declaration.

`python -m smcost.dashboards` writes every file under dashboards/ (`--check`: exit 1 when a
committed file differs from what this module renders; tests/python/test_grafana_dashboard.py and
test_quicksight_assets.py fail then too). Generated rather than hand-written because both formats
repeat themselves: a Grafana panel is ~40 lines of JSON around its SQL, a QuickSight visual ~30
lines of field wells around a column name. Here each panel and visual is one line of intent, the
SQL is written once per view, and the import and provisioning forms of the Grafana dashboard cannot
drift apart.

Both surfaces read only the public marts (models/marts, `fct_*`), in the Glue database dbt writes
them to; the exposures in models/marts/sagemaker/_exposures.yml list exactly the marts each reads
(a test derives them from the SQL below).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "dashboards"

PLUGIN_ID = "grafana-athena-datasource"
DASHBOARD_UID = "smcost-sagemaker-cost"
PROVISIONED_DATASOURCE_UID = "smcost-athena"
DEFAULT_CATALOG = "AwsDataCatalog"
DEFAULT_DATABASE = "smcost"  # profiles.yml.example's SMCOST_GLUE_DATABASE default

# --------------------------------------------------------------------------------------------------
# SQL (Athena / Trino). {db} is the Glue database, quoted: Grafana's "${database}", QuickSight's
# CloudFormation "${GlueDatabase}" (Fn::Sub).

# Grafana: "the month" is the month holding the end of the dashboard's time range; the previous
# month the one before it. $__timeTo() expands to TIMESTAMP 'yyyy-MM-dd HH:mm:ss' (UTC).
MONTH = "date_format($__timeTo(), '%Y-%m')"
PREVIOUS_MONTH = "date_format(date_add('month', -1, $__timeTo()), '%Y-%m')"
# Partition pruning on Athena (the marts are partitioned by billing_period) for the whole range.
PERIODS_IN_RANGE = "billing_period between date_format($__timeFrom(), '%Y-%m') and date_format($__timeTo(), '%Y-%m')"
GRAFANA_CURRENCY = "billing_currency = '${currency}'"


def monthly_summary_sql(db: str) -> str:
    """One row per billing period and currency: the month's headline figures, each from the mart
    that owns it. Idle is idle endpoint hours plus notebook hours out of working hours (never the
    same dollar; smcost explain adds them the same way); unattributed is the `unattributed` model;
    tag coverage is the taggable spend carrying all four keys in the bill."""
    return f"""with totals as (
    select billing_period, billing_currency, sum(effective_cost) as effective_cost, sum(billed_cost) as billed_cost
    from "{db}".fct_sagemaker_cost_by_team_monthly
    group by billing_period, billing_currency
),

unattributed as (
    select billing_period, billing_currency, sum(effective_cost) as unattributed_cost
    from "{db}".fct_sagemaker_cost_by_model_monthly
    where model = 'unattributed'
    group by billing_period, billing_currency
),

endpoint_idle as (
    select billing_period, billing_currency, sum(idle_cost) as idle_cost
    from "{db}".fct_sagemaker_endpoint_idle_monthly
    group by billing_period, billing_currency
),

notebooks as (
    select billing_period, billing_currency, sum(out_of_hours_saving) as out_of_hours_cost
    from "{db}".fct_sagemaker_notebook_hours_monthly
    group by billing_period, billing_currency
),

coverage as (
    select
        billing_period,
        billing_currency,
        sum(taggable_cost) as taggable_cost,
        sum(all_bill_tags_cost) as all_bill_tags_cost
    from "{db}".fct_sagemaker_tag_coverage_monthly
    where dimension = 'team'
    group by billing_period, billing_currency
)

select
    totals.billing_period,
    totals.billing_currency,
    cast(date_parse(totals.billing_period || '-01', '%Y-%m-%d') as date) as period_start,
    totals.effective_cost,
    totals.billed_cost,
    coalesce(endpoint_idle.idle_cost, 0) + coalesce(notebooks.out_of_hours_cost, 0) as idle_cost,
    coalesce(unattributed.unattributed_cost, 0) as unattributed_cost,
    coalesce(coverage.taggable_cost, 0) as taggable_cost,
    coalesce(coverage.all_bill_tags_cost, 0) as all_bill_tags_cost
from totals
left join unattributed
    on totals.billing_period = unattributed.billing_period and totals.billing_currency = unattributed.billing_currency
left join endpoint_idle
    on totals.billing_period = endpoint_idle.billing_period and totals.billing_currency = endpoint_idle.billing_currency
left join notebooks
    on totals.billing_period = notebooks.billing_period and totals.billing_currency = notebooks.billing_currency
left join coverage
    on totals.billing_period = coverage.billing_period and totals.billing_currency = coverage.billing_currency"""


def _indent(sql: str) -> str:
    return "\n".join("    " + line if line else line for line in sql.splitlines())


def _summary_stat(expression: str, alias: str, db: str = "${database}") -> str:
    return f"""select {expression} as {alias}
from (
{_indent(monthly_summary_sql(db))}
) as summary
where {GRAFANA_CURRENCY} and billing_period = {MONTH}"""


def _daily_series(mart: str, series: str) -> str:
    return f"""select cast(usage_date as timestamp) as time, {series}, sum(effective_cost) as effective_cost
from "${{database}}".{mart}
where {GRAFANA_CURRENCY}
    and {PERIODS_IN_RANGE}
    and $__dateFilter(usage_date)
group by 1, 2
order by 1, 2"""


GRAFANA_SQL: dict[str, str] = {
    "currency_variable": """select distinct billing_currency
from "${database}".fct_sagemaker_cost_by_team_monthly
order by 1""",
    "total": _summary_stat("effective_cost", "effective_cost"),
    "change": f"""select
    sum(case when billing_period = {MONTH} then effective_cost else 0 end)
    - sum(case when billing_period = {PREVIOUS_MONTH} then effective_cost else 0 end) as cost_change,
    sum(case when billing_period = {MONTH} then effective_cost else 0 end)
    / nullif(sum(case when billing_period = {PREVIOUS_MONTH} then effective_cost else 0 end), 0) - 1 as change_share
from "${{database}}".fct_sagemaker_cost_by_team_monthly
where {GRAFANA_CURRENCY} and billing_period in ({MONTH}, {PREVIOUS_MONTH})""",
    "idle": _summary_stat("idle_cost", "idle_cost"),
    "unattributed": _summary_stat("unattributed_cost", "unattributed_cost"),
    "tag_coverage": _summary_stat("all_bill_tags_cost / nullif(taggable_cost, 0)", "all_bill_tags_coverage"),
    "cost_by_team": _daily_series("fct_sagemaker_cost_by_team_daily", "team"),
    "cost_by_model": _daily_series("fct_sagemaker_cost_by_model_daily", "model"),
    "top_resources": f"""select
    resource_type,
    resource_name,
    region_id,
    case when count(distinct team) = 1 then min(team) else 'several' end as team,
    sum(usage_hours) as usage_hours,
    sum(effective_cost) as effective_cost
from "${{database}}".fct_sagemaker_cost_allocations
where {GRAFANA_CURRENCY}
    and {PERIODS_IN_RANGE}
    and $__timeFilter(charge_period_start)
    and resource_name is not null
group by resource_type, resource_name, region_id
order by effective_cost desc, resource_name
limit 20""",
    "top_endpoints": f"""select
    endpoint_name,
    region_id,
    sum(instance_cost) as instance_cost,
    sum(sagemaker_line_cost) as sagemaker_line_cost,
    sum(neighbour_cost) as neighbour_cost,
    sum(total_cost) as total_cost,
    sum(neighbour_cost) / nullif(sum(total_cost), 0) as hidden_cost_share
from "${{database}}".fct_endpoint_fully_loaded_cost_monthly
where {GRAFANA_CURRENCY} and billing_period = {MONTH}
group by endpoint_name, region_id
order by total_cost desc, endpoint_name
limit 15""",
    "idle_endpoints": f"""select
    endpoint_name,
    min(team) as team,
    min(model) as model,
    min(environment) as environment,
    sum(effective_cost) as effective_cost,
    sum(idle_cost) as idle_cost,
    max(idle_days) as idle_days,
    bool_or(is_forgotten) as is_forgotten
from "${{database}}".fct_sagemaker_endpoint_idle_monthly
where {GRAFANA_CURRENCY} and billing_period = {MONTH}
group by endpoint_arn, endpoint_name
having sum(idle_cost) > 0 or bool_or(is_forgotten)
order by idle_cost desc, endpoint_name""",
    "untagged": f"""select
    cost_rank,
    resource_type,
    resource_name,
    effective_cost,
    missing_keys,
    api_only_keys,
    fix_action,
    fix_owner_team
from "${{database}}".fct_sagemaker_untagged_resources
where {GRAFANA_CURRENCY} and billing_period = {MONTH}
order by cost_rank
limit 25""",
    "unattributed_by_reason": f"""select unattributed_reason, sum(effective_cost) as effective_cost
from "${{database}}".fct_sagemaker_cost_allocations
where {GRAFANA_CURRENCY} and billing_period = {MONTH} and unattributed_reason is not null
group by unattributed_reason
order by effective_cost desc""",
}

# --------------------------------------------------------------------------------------------------
# Grafana

TIME_SERIES, TABLE = 0, 1  # the plugin's FormatOptions


def _target(sql: str, fmt: int) -> dict[str, Any]:
    return {
        "datasource": {"type": PLUGIN_ID, "uid": "${datasource}"},
        "refId": "A",
        "format": fmt,
        "rawSQL": sql,
        "connectionArgs": {
            "region": "__default",
            "catalog": "${catalog}",
            "database": "${database}",
            # Athena's query result reuse: a dashboard reload within the hour scans nothing.
            "resultReuseEnabled": True,
            "resultReuseMaxAgeInMinutes": 60,
        },
    }


def _panel(
    kind: str, title: str, description: str, sql_key: str, grid: tuple[int, int, int, int], **config: Any
) -> dict[str, Any]:
    x, y, w, h = grid
    unit = config.pop("unit", "currencyUSD")
    panel: dict[str, Any] = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": {"type": PLUGIN_ID, "uid": "${datasource}"},
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [_target(GRAFANA_SQL[sql_key], TIME_SERIES if kind == "timeseries" else TABLE)],
        "fieldConfig": {
            "defaults": {"unit": unit, "decimals": 2 if unit.startswith("currency") else 1},
            "overrides": config.pop("overrides", []),
        },
        "options": config.pop("options", {}),
    }
    panel.update(config)
    return panel


def _unit(column: str, unit: str) -> dict[str, Any]:
    return {"matcher": {"id": "byName", "options": column}, "properties": [{"id": "unit", "value": unit}]}


STAT_OPTIONS = {
    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    "colorMode": "none",
    "graphMode": "none",
    "textMode": "value",
}
SERIES_OPTIONS = {
    "legend": {"displayMode": "table", "placement": "right", "calcs": ["sum"]},
    "tooltip": {"mode": "multi", "sort": "desc"},
}
STACKED = {"custom": {"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 30, "drawStyle": "line"}}


def grafana_panels() -> list[dict[str, Any]]:
    month = "in the month that holds the end of the time range"
    panels = [
        _panel("stat", "SageMaker cost", f"Effective cost (after the Savings Plan, credits and refunds) {month}.",
               "total", (0, 0, 5, 4), options=STAT_OPTIONS),
        _panel("stat", "Change on the month before", "Effective cost of the month minus the month before, and the change in percent.",
               "change", (5, 0, 5, 4), options={**STAT_OPTIONS, "textMode": "value_and_name"},
               overrides=[_unit("change_share", "percentunit")]),
        _panel("stat", "Idle and out of hours", f"Idle endpoint hours plus notebook hours outside working hours {month}.",
               "idle", (10, 0, 5, 4), options=STAT_OPTIONS),
        _panel("stat", "Unattributed", f"Effective cost no model could be found for {month} (the table below gives the reasons).",
               "unattributed", (15, 0, 5, 4), options=STAT_OPTIONS),
        _panel("stat", "Tag coverage", f"Share of taggable spend that carried all four attribution keys in the bill {month}.",
               "tag_coverage", (20, 0, 4, 4), options=STAT_OPTIONS, unit="percentunit"),
        _panel("timeseries", "Cost by team (daily)", "Effective cost per day by owning team, stacked.",
               "cost_by_team", (0, 4, 12, 10), options=SERIES_OPTIONS),
        _panel("timeseries", "Cost by model (daily)", "Effective cost per day by model, stacked (__idle__: a shared endpoint's hours without traffic).",
               "cost_by_model", (12, 4, 12, 10), options=SERIES_OPTIONS),
        _panel("table", "Top resources", "The 20 resources with the most effective cost whose charges start in the time range.",
               "top_resources", (0, 14, 12, 10), overrides=[_unit("usage_hours", "h")]),
        _panel("table", "Top endpoints, fully loaded", f"Endpoints by their true cost {month}: instances plus the S3, ECR, CloudWatch and data transfer they cause.",
               "top_endpoints", (12, 14, 12, 10), overrides=[_unit("hidden_cost_share", "percentunit")]),
        _panel("table", "Idle and forgotten endpoints", f"Endpoints with idle hours {month}; forgotten: still running, no invocation for days.",
               "idle_endpoints", (0, 24, 12, 10), overrides=[_unit("idle_days", "d")]),
        _panel("table", "Untagged spend", f"Resources missing attribution keys in the bill {month}, by cost, with the fix and its owner.",
               "untagged", (12, 24, 12, 10), overrides=[_unit("cost_rank", "none")]),
        _panel("table", "Unattributed by reason", f"Why cost has no model {month}.",
               "unattributed_by_reason", (0, 34, 12, 6)),
    ]  # fmt: skip
    for panel in panels:
        if panel["type"] == "timeseries":
            panel["fieldConfig"]["defaults"].update(STACKED)
    for number, panel in enumerate(panels, start=1):
        panel["id"] = number
    return panels


def _constant(name: str, label: str, value: str) -> dict[str, Any]:
    return {
        "type": "constant",
        "name": name,
        "label": label,
        "hide": 2,
        "query": value,
        "current": {"selected": False, "text": value, "value": value},
        "options": [{"selected": False, "text": value, "value": value}],
        "skipUrlSync": False,
    }


def grafana_dashboard() -> dict[str, Any]:
    """The dashboard in Grafana's exported-for-sharing form: import asks for the Athena data source
    and the Glue database ( __inputs), and lists what it needs ( __requires)."""
    return {
        "__inputs": [
            {
                "name": "DS_ATHENA",
                "label": "Amazon Athena",
                "description": "The Athena data source (grafana-athena-datasource) in the region of smcost's Glue database",
                "type": "datasource",
                "pluginId": PLUGIN_ID,
                "pluginName": "Amazon Athena",
            },
            {
                "name": "VAR_CATALOG",
                "label": "Athena data catalog",
                "description": "The catalog holding the Glue database (AwsDataCatalog unless you federate)",
                "type": "constant",
                "value": DEFAULT_CATALOG,
            },
            {
                "name": "VAR_DATABASE",
                "label": "Glue database of the marts",
                "description": "Where dbt writes the marts: the athena target's schema (SMCOST_GLUE_DATABASE)",
                "type": "constant",
                "value": DEFAULT_DATABASE,
            },
        ],
        "__elements": {},
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
            {"type": "datasource", "id": PLUGIN_ID, "name": "Amazon Athena", "version": "2.17.0"},
            {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
            {"type": "panel", "id": "table", "name": "Table", "version": ""},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": "SageMaker cost attribution from smcost's marts: cost by team and model, the month's "
        "headline figures, top resources and endpoints, idle and untagged spend.",
        "editable": True,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": grafana_panels(),
        "refresh": "",
        "schemaVersion": 39,
        "tags": ["smcost", "sagemaker", "finops", "athena"],
        "templating": {
            "list": [
                {
                    "type": "datasource",
                    "name": "datasource",
                    "label": "Data source",
                    "query": PLUGIN_ID,
                    "current": {"selected": False, "text": "${DS_ATHENA}", "value": "${DS_ATHENA}"},
                    "hide": 0,
                    "includeAll": False,
                    "multi": False,
                    "options": [],
                    "refresh": 1,
                    "regex": "",
                    "skipUrlSync": False,
                },
                _constant("catalog", "Athena data catalog", "${VAR_CATALOG}"),
                _constant("database", "Glue database", "${VAR_DATABASE}"),
                {
                    "type": "query",
                    "name": "currency",
                    "label": "Currency",
                    "datasource": {"type": PLUGIN_ID, "uid": "${datasource}"},
                    "query": _target(GRAFANA_SQL["currency_variable"], TABLE),
                    "definition": GRAFANA_SQL["currency_variable"],
                    "current": {},
                    "hide": 0,
                    "includeAll": False,
                    "multi": False,
                    "options": [],
                    "refresh": 1,
                    "regex": "",
                    "skipUrlSync": False,
                    "sort": 1,
                },
            ]
        },
        # The marts hold whole billing periods: the last three months by default, in UTC like the bill.
        "time": {"from": "now-2M/M", "to": "now/M"},
        "timepicker": {},
        "timezone": "utc",
        "title": "SageMaker cost attribution (smcost)",
        "uid": DASHBOARD_UID,
        "version": 1,
        "weekStart": "",
    }


def grafana_provisioned_dashboard() -> dict[str, Any]:
    """The same dashboard for file provisioning, which does not resolve __inputs: the provisioned
    data source's uid and the default catalog and database are filled in."""
    text = json.dumps({k: v for k, v in grafana_dashboard().items() if not k.startswith("__")})
    for placeholder, value in (
        ("${DS_ATHENA}", PROVISIONED_DATASOURCE_UID),
        ("${VAR_CATALOG}", DEFAULT_CATALOG),
        ("${VAR_DATABASE}", DEFAULT_DATABASE),
    ):
        text = text.replace(placeholder, value)
    dashboard: dict[str, Any] = json.loads(text)
    return dashboard


def grafana_datasource_yaml() -> str:
    config = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "smcost Athena",
                "uid": PROVISIONED_DATASOURCE_UID,
                "type": PLUGIN_ID,
                "editable": True,
                "jsonData": {
                    # The AWS SDK's default chain: the instance or task role, AWS_PROFILE, env vars.
                    "authType": "default",
                    "defaultRegion": "${SMCOST_AWS_REGION}",
                    "catalog": DEFAULT_CATALOG,
                    "database": "${SMCOST_GLUE_DATABASE}",
                    "workgroup": "${SMCOST_ATHENA_WORKGROUP}",
                    # Optional: where Athena writes results when the work group does not set it.
                    "outputLocation": "${SMCOST_GRAFANA_OUTPUT_LOCATION}",
                    # Optional: a read-only role to assume (dashboards/README.md, IAM).
                    "assumeRoleArn": "${SMCOST_GRAFANA_ROLE_ARN}",
                },
            }
        ],
    }
    header = (
        "# Grafana data source provisioning for smcost's dashboard (dashboards/README.md).\n"
        "# Rendered by `python -m smcost.dashboards`: edit extract/smcost/dashboards.py, not this file.\n"
        "# Grafana fills ${VARIABLES} from its environment; unset optional ones are left empty.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False)


def grafana_provider_yaml() -> str:
    config = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "smcost",
                "folder": "SageMaker cost",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": "/var/lib/grafana/dashboards/smcost"},
            }
        ],
    }
    header = (
        "# Grafana dashboard provider: loads dashboards/grafana/provisioning/dashboards/*.json, copied or\n"
        "# mounted at options.path (dashboards/README.md). Rendered by `python -m smcost.dashboards`.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False)


# --------------------------------------------------------------------------------------------------
# QuickSight (CloudFormation)

QS_DB = "${GlueDatabase}"  # Fn::Sub


def _columns(*names_and_types: str) -> list[dict[str, str]]:
    return [{"Name": name, "Type": kind} for name, kind in (item.split(":") for item in names_and_types)]


# Each data set: its identifier in the Definition, its SQL over the marts, and its columns (lower
# case: QuickSight's Athena connector and the Glue tables both are). CustomSql rather than a
# RelationalTable: each set is a small aggregate (a month, a day, a resource), so the dashboard
# reads kilobytes per visual instead of the allocation fact.
QS_DATASETS: dict[str, tuple[str, list[dict[str, str]]]] = {
    "monthly_summary": (
        monthly_summary_sql(QS_DB),
        _columns(
            "billing_period:STRING",
            "billing_currency:STRING",
            "period_start:DATETIME",
            "effective_cost:DECIMAL",
            "billed_cost:DECIMAL",
            "idle_cost:DECIMAL",
            "unattributed_cost:DECIMAL",
            "taggable_cost:DECIMAL",
            "all_bill_tags_cost:DECIMAL",
        ),
    ),
    "cost_by_team_daily": (
        f"""select usage_date, billing_period, billing_currency, team, effective_cost, billed_cost
from "{QS_DB}".fct_sagemaker_cost_by_team_daily""",
        _columns(
            "usage_date:DATETIME",
            "billing_period:STRING",
            "billing_currency:STRING",
            "team:STRING",
            "effective_cost:DECIMAL",
            "billed_cost:DECIMAL",
        ),
    ),
    "cost_by_model_daily": (
        f"""select usage_date, billing_period, billing_currency, model, team, effective_cost
from "{QS_DB}".fct_sagemaker_cost_by_model_daily""",
        _columns(
            "usage_date:DATETIME",
            "billing_period:STRING",
            "billing_currency:STRING",
            "model:STRING",
            "team:STRING",
            "effective_cost:DECIMAL",
        ),
    ),
    "top_resources": (
        f"""select
    billing_period,
    billing_currency,
    resource_type,
    resource_name,
    region_id,
    case when count(distinct team) = 1 then min(team) else 'several' end as team,
    sum(usage_hours) as usage_hours,
    sum(effective_cost) as effective_cost
from "{QS_DB}".fct_sagemaker_cost_allocations
where resource_name is not null
group by billing_period, billing_currency, resource_type, resource_name, region_id""",
        _columns(
            "billing_period:STRING",
            "billing_currency:STRING",
            "resource_type:STRING",
            "resource_name:STRING",
            "region_id:STRING",
            "team:STRING",
            "usage_hours:DECIMAL",
            "effective_cost:DECIMAL",
        ),
    ),
    "endpoints_fully_loaded": (
        f"""select
    billing_period,
    billing_currency,
    endpoint_name,
    region_id,
    instance_cost,
    sagemaker_line_cost,
    neighbour_cost,
    total_cost
from "{QS_DB}".fct_endpoint_fully_loaded_cost_monthly""",
        _columns(
            "billing_period:STRING",
            "billing_currency:STRING",
            "endpoint_name:STRING",
            "region_id:STRING",
            "instance_cost:DECIMAL",
            "sagemaker_line_cost:DECIMAL",
            "neighbour_cost:DECIMAL",
            "total_cost:DECIMAL",
        ),
    ),
    "idle_endpoints": (
        f"""select
    billing_period,
    billing_currency,
    endpoint_name,
    min(team) as team,
    min(model) as model,
    min(environment) as environment,
    sum(effective_cost) as effective_cost,
    sum(idle_cost) as idle_cost,
    max(idle_days) as idle_days,
    case when bool_or(is_forgotten) then 'forgotten' else 'idle' end as status
from "{QS_DB}".fct_sagemaker_endpoint_idle_monthly
group by billing_period, billing_currency, endpoint_arn, endpoint_name
having sum(idle_cost) > 0 or bool_or(is_forgotten)""",
        _columns(
            "billing_period:STRING",
            "billing_currency:STRING",
            "endpoint_name:STRING",
            "team:STRING",
            "model:STRING",
            "environment:STRING",
            "effective_cost:DECIMAL",
            "idle_cost:DECIMAL",
            "idle_days:DECIMAL",
            "status:STRING",
        ),
    ),
    "untagged_resources": (
        f"""select
    billing_period,
    billing_currency,
    cost_rank,
    resource_type,
    resource_name,
    effective_cost,
    missing_keys,
    api_only_keys,
    fix_action,
    fix_owner_team
from "{QS_DB}".fct_sagemaker_untagged_resources""",
        _columns(
            "billing_period:STRING",
            "billing_currency:STRING",
            "cost_rank:INTEGER",
            "resource_type:STRING",
            "resource_name:STRING",
            "effective_cost:DECIMAL",
            "missing_keys:STRING",
            "api_only_keys:STRING",
            "fix_action:STRING",
            "fix_owner_team:STRING",
        ),
    ),
}


def _logical_id(dataset: str) -> str:
    return "DataSet" + "".join(part.title() for part in dataset.split("_"))


def _column(dataset: str, name: str) -> dict[str, str]:
    return {"DataSetIdentifier": dataset, "ColumnName": name}


def _sum(field_id: str, dataset: str, column: str) -> dict[str, Any]:
    return {
        "NumericalMeasureField": {
            "FieldId": field_id,
            "Column": _column(dataset, column),
            "AggregationFunction": {"SimpleNumericalAggregation": "SUM"},
        }
    }


def _category(field_id: str, dataset: str, column: str) -> dict[str, Any]:
    return {"CategoricalDimensionField": {"FieldId": field_id, "Column": _column(dataset, column)}}


def _date(field_id: str, dataset: str, column: str, granularity: str) -> dict[str, Any]:
    return {
        "DateDimensionField": {"FieldId": field_id, "Column": _column(dataset, column), "DateGranularity": granularity}
    }


def _titles(title: str, subtitle: str) -> dict[str, Any]:
    return {
        "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": title}},
        "Subtitle": {"Visibility": "VISIBLE", "FormatText": {"PlainText": subtitle}},
    }


def _kpi(visual_id: str, title: str, subtitle: str, value: dict[str, Any]) -> dict[str, Any]:
    """The latest month's value beside the month before (the trend group is the billing period)."""
    return {
        "KPIVisual": {
            "VisualId": visual_id,
            **_titles(title, subtitle),
            "ChartConfiguration": {
                "FieldWells": {
                    "Values": [value],
                    "TrendGroups": [_date(f"{visual_id}-period", "monthly_summary", "period_start", "MONTH")],
                },
                "KPIOptions": {
                    "Comparison": {"ComparisonMethod": "DIFFERENCE"},
                    "PrimaryValueDisplayType": "ACTUAL",
                },
            },
        }
    }


def _daily_lines(visual_id: str, title: str, subtitle: str, dataset: str, series: str) -> dict[str, Any]:
    return {
        "LineChartVisual": {
            "VisualId": visual_id,
            **_titles(title, subtitle),
            "ChartConfiguration": {
                "FieldWells": {
                    "LineChartAggregatedFieldWells": {
                        "Category": [_date(f"{visual_id}-day", dataset, "usage_date", "DAY")],
                        "Values": [_sum(f"{visual_id}-cost", dataset, "effective_cost")],
                        "Colors": [_category(f"{visual_id}-{series}", dataset, series)],
                    }
                },
                "Type": "STACKED_AREA",
            },
        }
    }


def _table(
    visual_id: str, title: str, subtitle: str, dataset: str, group_by: list[str], values: list[str], sort_by: str
) -> dict[str, Any]:
    return {
        "TableVisual": {
            "VisualId": visual_id,
            **_titles(title, subtitle),
            "ChartConfiguration": {
                "FieldWells": {
                    "TableAggregatedFieldWells": {
                        "GroupBy": [_category(f"{visual_id}-{c}", dataset, c) for c in group_by],
                        "Values": [_sum(f"{visual_id}-{c}", dataset, c) for c in values],
                    }
                },
                "SortConfiguration": {
                    "RowSort": [
                        {"FieldSort": {"FieldId": f"{visual_id}-billing_period", "Direction": "DESC"}},
                        {"FieldSort": {"FieldId": f"{visual_id}-{sort_by}", "Direction": "DESC"}},
                    ]
                },
            },
        }
    }


def quicksight_definition() -> dict[str, Any]:
    """The dashboard's Definition (the same for AWS::QuickSight::Analysis, which edits it)."""
    summary = "monthly_summary"
    visuals = [
        _kpi("kpi-total", "SageMaker cost", "Effective cost of the latest month, and its change on the month before",
             _sum("kpi-total-cost", summary, "effective_cost")),
        _kpi("kpi-idle", "Idle and out of hours", "Idle endpoint hours plus notebook hours outside working hours",
             _sum("kpi-idle-cost", summary, "idle_cost")),
        _kpi("kpi-unattributed", "Unattributed", "Effective cost no model could be found for",
             _sum("kpi-unattributed-cost", summary, "unattributed_cost")),
        _kpi("kpi-tag-coverage", "Tag coverage", "Share of taggable spend carrying all four attribution keys in the bill",
             {"CalculatedMeasureField": {"FieldId": "kpi-tag-coverage-share", "Expression": "sum({all_bill_tags_cost}) / sum({taggable_cost})"}}),
        _daily_lines("line-team", "Cost by team (daily)", "Effective cost per day by owning team", "cost_by_team_daily", "team"),
        _daily_lines("line-model", "Cost by model (daily)", "Effective cost per day by model (__idle__: a shared endpoint's hours without traffic)",
                     "cost_by_model_daily", "model"),
        _table("table-resources", "Top resources", "Resources by effective cost, per billing period", "top_resources",
               ["billing_period", "billing_currency", "resource_type", "resource_name", "region_id", "team"],
               ["usage_hours", "effective_cost"], "effective_cost"),
        _table("table-endpoints", "Top endpoints, fully loaded", "Endpoints by their true cost: instances plus the S3, ECR, CloudWatch and data transfer they cause",
               "endpoints_fully_loaded", ["billing_period", "billing_currency", "endpoint_name", "region_id"],
               ["instance_cost", "sagemaker_line_cost", "neighbour_cost", "total_cost"], "total_cost"),
        _table("table-idle", "Idle and forgotten endpoints", "Endpoints with idle hours; forgotten: still running, no invocation for days",
               "idle_endpoints", ["billing_period", "billing_currency", "endpoint_name", "team", "model", "environment", "status"],
               ["effective_cost", "idle_cost"], "idle_cost"),
        _table("table-untagged", "Untagged spend", "Resources missing attribution keys in the bill, with the fix and its owner",
               "untagged_resources", ["billing_period", "billing_currency", "resource_type", "resource_name", "missing_keys",
                                      "api_only_keys", "fix_action", "fix_owner_team"],
               ["effective_cost"], "effective_cost"),
    ]  # fmt: skip
    return {
        "DataSetIdentifierDeclarations": [
            {"Identifier": name, "DataSetArn": {"Fn::GetAtt": [_logical_id(name), "Arn"]}} for name in QS_DATASETS
        ],
        "Sheets": [
            {
                "SheetId": "smcost-overview",
                "Name": "SageMaker cost",
                "Description": "Where the SageMaker bill goes: teams, models, resources, idle and untagged spend",
                "Visuals": visuals,
            }
        ],
        "AnalysisDefaults": {
            "DefaultNewSheetConfiguration": {
                "InteractiveLayoutConfiguration": {
                    "Grid": {"CanvasSizeOptions": {"ScreenCanvasSizeOptions": {"ResizeOption": "RESPONSIVE"}}}
                },
                "SheetContentType": "INTERACTIVE",
            }
        },
    }


def quicksight_template() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "DataSource": {
            "Type": "AWS::QuickSight::DataSource",
            "Properties": {
                "AwsAccountId": {"Ref": "AWS::AccountId"},
                "DataSourceId": {"Fn::Sub": "${ResourcePrefix}-athena"},
                "Name": {"Fn::Sub": "${ResourcePrefix} Athena"},
                "Type": "ATHENA",
                "DataSourceParameters": {"AthenaParameters": {"WorkGroup": {"Ref": "AthenaWorkGroup"}}},
                "Permissions": [
                    {
                        "Principal": {"Ref": "QuickSightPrincipalArn"},
                        "Actions": [
                            "quicksight:DescribeDataSource",
                            "quicksight:DescribeDataSourcePermissions",
                            "quicksight:PassDataSource",
                            "quicksight:UpdateDataSource",
                            "quicksight:DeleteDataSource",
                            "quicksight:UpdateDataSourcePermissions",
                        ],
                    }
                ],
            },
        }
    }
    for name, (sql, columns) in QS_DATASETS.items():
        resources[_logical_id(name)] = {
            "Type": "AWS::QuickSight::DataSet",
            "Properties": {
                "AwsAccountId": {"Ref": "AWS::AccountId"},
                "DataSetId": {"Fn::Sub": f"${{ResourcePrefix}}-{name.replace('_', '-')}"},
                "Name": {"Fn::Sub": f"${{ResourcePrefix}} {name.replace('_', ' ')}"},
                # Direct query: Athena answers each visual from the marts (kilobytes), no SPICE capacity.
                "ImportMode": "DIRECT_QUERY",
                "PhysicalTableMap": {
                    name.replace("_", "-"): {  # [0-9a-zA-Z-]* only
                        "CustomSql": {
                            "DataSourceArn": {"Fn::GetAtt": ["DataSource", "Arn"]},
                            "Name": name,
                            "SqlQuery": {"Fn::Sub": sql},
                            "Columns": columns,
                        }
                    }
                },
                "Permissions": [
                    {
                        "Principal": {"Ref": "QuickSightPrincipalArn"},
                        "Actions": [
                            "quicksight:DescribeDataSet",
                            "quicksight:DescribeDataSetPermissions",
                            "quicksight:PassDataSet",
                            "quicksight:DescribeIngestion",
                            "quicksight:ListIngestions",
                            "quicksight:UpdateDataSet",
                            "quicksight:DeleteDataSet",
                            "quicksight:CreateIngestion",
                            "quicksight:CancelIngestion",
                            "quicksight:UpdateDataSetPermissions",
                        ],
                    }
                ],
            },
        }
    resources["Analysis"] = {
        "Type": "AWS::QuickSight::Analysis",
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "AnalysisId": {"Fn::Sub": "${ResourcePrefix}-analysis"},
            "Name": "SageMaker cost attribution (smcost)",
            "Definition": quicksight_definition(),
            "Permissions": [
                {
                    "Principal": {"Ref": "QuickSightPrincipalArn"},
                    "Actions": [
                        "quicksight:RestoreAnalysis",
                        "quicksight:UpdateAnalysisPermissions",
                        "quicksight:DeleteAnalysis",
                        "quicksight:DescribeAnalysisPermissions",
                        "quicksight:QueryAnalysis",
                        "quicksight:DescribeAnalysis",
                        "quicksight:UpdateAnalysis",
                    ],
                }
            ],
        },
    }
    resources["Dashboard"] = {
        "Type": "AWS::QuickSight::Dashboard",
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DashboardId": {"Fn::Sub": "${ResourcePrefix}-dashboard"},
            "Name": "SageMaker cost attribution (smcost)",
            "Definition": quicksight_definition(),
            "DashboardPublishOptions": {
                "AdHocFilteringOption": {"AvailabilityStatus": "ENABLED"},
                "ExportToCSVOption": {"AvailabilityStatus": "ENABLED"},
                "SheetControlsOption": {"VisibilityState": "EXPANDED"},
            },
            "Permissions": [
                {
                    "Principal": {"Ref": "QuickSightPrincipalArn"},
                    "Actions": [
                        "quicksight:DescribeDashboard",
                        "quicksight:ListDashboardVersions",
                        "quicksight:UpdateDashboardPermissions",
                        "quicksight:QueryDashboard",
                        "quicksight:UpdateDashboard",
                        "quicksight:DeleteDashboard",
                        "quicksight:DescribeDashboardPermissions",
                        "quicksight:UpdateDashboardPublishedVersion",
                    ],
                }
            ],
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "smcost: QuickSight data source, data sets over the marts, analysis and dashboard "
        "(rendered by `python -m smcost.dashboards`; see dashboards/README.md)",
        "Parameters": {
            "GlueDatabase": {
                "Type": "String",
                "Default": DEFAULT_DATABASE,
                "Description": "Glue database dbt writes the marts to (SMCOST_GLUE_DATABASE)",
                "AllowedPattern": "[a-z0-9_]+",
            },
            "AthenaWorkGroup": {
                "Type": "String",
                "Default": "primary",
                "Description": "Athena work group QuickSight queries in (its result location must be set)",
            },
            "QuickSightPrincipalArn": {
                "Type": "String",
                "Description": "ARN of the QuickSight user or group that owns the assets, "
                "e.g. arn:aws:quicksight:us-east-1:111122223333:user/default/admin",
            },
            "ResourcePrefix": {
                "Type": "String",
                "Default": "smcost",
                "Description": "Prefix of the QuickSight ids",
                "AllowedPattern": "[a-z0-9-]+",
            },
        },
        "Resources": resources,
        "Outputs": {
            "DashboardId": {"Value": {"Fn::Sub": "${ResourcePrefix}-dashboard"}},
            "DashboardUrl": {
                "Value": {
                    "Fn::Sub": "https://${AWS::Region}.quicksight.aws.amazon.com/sn/dashboards/${ResourcePrefix}-dashboard"
                }
            },
        },
    }


def quicksight_template_yaml() -> str:
    header = (
        "# smcost's QuickSight assets as CloudFormation (dashboards/README.md: deploy).\n"
        "# Rendered by `python -m smcost.dashboards` from extract/smcost/dashboards.py: do not edit by hand.\n"
    )
    return header + yaml.safe_dump(quicksight_template(), sort_keys=False, width=120, allow_unicode=True)


# --------------------------------------------------------------------------------------------------
# Files


def _json(document: Callable[[], dict[str, Any]]) -> Callable[[], str]:
    return lambda: json.dumps(document(), indent=2) + "\n"


GENERATED: dict[str, Callable[[], str]] = {
    "grafana/smcost-sagemaker-cost.json": _json(grafana_dashboard),
    "grafana/provisioning/dashboards/smcost-sagemaker-cost.json": _json(grafana_provisioned_dashboard),
    "grafana/provisioning/dashboards/smcost.yaml": grafana_provider_yaml,
    "grafana/provisioning/datasources/smcost-athena.yaml": grafana_datasource_yaml,
    "quicksight/smcost-quicksight.yaml": quicksight_template_yaml,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smcost.dashboards", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file under dashboards/ is out of date")
    args = parser.parse_args(argv)
    stale = []
    for relative, render in GENERATED.items():
        path = OUT / relative
        text = render()
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print(f"out of date under dashboards/: {', '.join(stale)}; run `python -m smcost.dashboards`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
