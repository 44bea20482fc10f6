"""Write one month's SageMaker bill as a single HTML file: charts and sortable tables over the marts.

The file is self-contained: it opens from file:// with no server and no network (every script and
style is inlined; the charts are Vega-Lite specs that vega-embed draws, bundled by vl-convert at
write time). For one billing period (default: the latest in the marts, as `smcost explain`) and each
billing currency on its own, it shows:

  the answer       the month's total and its change, idle and forgotten spend, the hidden
                   (fully-loaded) share, the tag coverage gap and the savings on offer, then the
                   words of `smcost explain` (growth drivers, forgotten endpoints, top actions)
  trend            the SageMaker total per month, and the cost by team and by model over time
  growth           each team's change on the month before, split into its drivers
  models           the top models, and what they cost fully loaded (S3, ECR, CloudWatch, ...)
  endpoints        the top endpoints fully loaded, and each endpoint's idle and unknown hours
  notebooks        notebooks and Studio apps in and out of working hours
  savings          every savings opportunity, largest first
  multi-model      how the multi-model endpoints' cost divides among the models they serve
  unattributed     spend without a model or team, by reason
  tag coverage     each attribution tag key's share of taggable spend, and the gap by team

It reads the DuckDB file `dbt build --target local` wrote (default data/smcost.duckdb), and only
its public marts (never staging, intermediate or the lake). Each chart and table is a declaration
in SECTIONS below (title, caption, marts, query, chart, columns): a new mart adds a section.

Exit status: 0 written (the path is printed); 2 the database is missing or unreadable, a mart it
needs is missing (an older build: run `dbt build`), --period is malformed or names a period the
marts do not hold (the message lists those they do), or the file cannot be written.
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from smcost import explain as ex
from smcost.marts import MartsUnavailable, connect_marts, first_line
from smcost.summary import ENDPOINT_FULLY_LOADED, FACT

# The marts the report reads beyond explain's (explain.SECTIONS says which those are).
BY_MODEL = "fct_sagemaker_cost_by_model_monthly"
ALLOCATIONS = FACT
TREND_MONTHS = 12  # months shown in the charts over time: the period and up to eleven before it
TOP_MODELS = 8  # models drawn one by one over time; the rest are "other models"
SHARE_OF = "sum(sum(effective_cost)) over ()"  # a grouped query's total

Spec = dict[str, Any]
Row = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Section declarations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column: the query's field, its heading, and how its values read and sort."""

    field: str
    label: str
    kind: str = "text"  # text | money | signed (money with +/-) | share | count | days


@dataclass(frozen=True)
class Section:
    """One chart and/or table. ``title`` and ``caption`` may name {period}, {previous} and
    {currency}; ``query`` gets the named parameters $period, $currency and $since (the first month
    the charts over time show) and returns the rows that both the chart (as the dataset "rows")
    and the table read."""

    key: str
    title: str
    caption: str
    marts: tuple[str, ...]
    query: str
    chart: Callable[[ex.View], Spec] | None = None
    chart_rows: int | None = None  # draw the first rows only (the table holds them all)
    columns: tuple[Column, ...] = ()
    totals: bool = False  # a footer row summing the money columns
    empty: str = "Nothing in {period}."


def _money_axis(field_: str, title: str, view: ex.View, **extra: Any) -> Spec:
    return {
        "field": field_,
        "type": "quantitative",
        "title": f"{title} ({view.currency})",
        "axis": {"format": "$,.0f"},
        **extra,
    }


def _tooltip(*fields: tuple[str, str], money: Iterable[str] = ()) -> list[Spec]:
    money = set(money)
    return [
        {"field": f, "title": t, **({"type": "quantitative", "format": "$,.2f"} if f in money else {})}
        for f, t in fields
    ]


def chart_monthly_total(view: ex.View) -> Spec:
    bars: Spec = {
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "billing_period", "type": "ordinal", "title": "billing period", "axis": {"labelAngle": 0}},
            "y": _money_axis("effective_cost", "effective cost", view),
            "color": {
                "condition": {"test": f"datum.billing_period === '{view.period}'", "value": "#1f5f99"},
                "value": "#9fbfdc",
            },
            "tooltip": _tooltip(
                ("billing_period", "month"),
                ("effective_cost", "effective"),
                ("billed_cost", "billed"),
                money=("effective_cost", "billed_cost"),
            ),
        },
    }
    labels: Spec = {
        "mark": {"type": "text", "dy": -6, "fontSize": 11},
        "encoding": {
            "x": {"field": "billing_period", "type": "ordinal"},
            "y": {"field": "effective_cost", "type": "quantitative"},
            "text": {"field": "effective_cost", "type": "quantitative", "format": "$,.0f"},
        },
    }
    return {"height": 220, "layer": [bars, labels]}


def chart_stacked_over_time(color: str, label: str) -> Callable[[ex.View], Spec]:
    def spec(view: ex.View) -> Spec:
        return {
            "height": 260,
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x": {
                    "field": "billing_period",
                    "type": "ordinal",
                    "title": "billing period",
                    "axis": {"labelAngle": 0},
                },
                "y": _money_axis("effective_cost", "effective cost", view),
                "color": {"field": color, "type": "nominal", "title": label, "sort": {"field": "rank"}},
                "order": {"field": "rank"},
                "tooltip": _tooltip(
                    ("billing_period", "month"),
                    (color, label),
                    ("effective_cost", "effective"),
                    money=("effective_cost",),
                ),
            },
        }

    return spec


def chart_lines_over_time(color: str, label: str) -> Callable[[ex.View], Spec]:
    def spec(view: ex.View) -> Spec:
        return {
            "height": 260,
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": {
                    "field": "billing_period",
                    "type": "ordinal",
                    "title": "billing period",
                    "axis": {"labelAngle": 0},
                },
                "y": _money_axis("effective_cost", "effective cost", view),
                "color": {"field": color, "type": "nominal", "title": label, "sort": {"field": "rank"}},
                "tooltip": _tooltip(
                    ("billing_period", "month"),
                    (color, label),
                    ("effective_cost", "effective"),
                    money=("effective_cost",),
                ),
            },
        }

    return spec


def chart_bars(
    category: str, label: str, value: str = "effective_cost", title: str = "effective cost"
) -> Callable[[ex.View], Spec]:
    """Horizontal bars, largest first."""

    def spec(view: ex.View) -> Spec:
        return {
            "height": {"step": 20},
            "mark": {"type": "bar", "tooltip": True, "color": "#1f5f99"},
            "encoding": {
                "y": {"field": category, "type": "nominal", "title": label, "sort": "-x"},
                "x": _money_axis(value, title, view, aggregate="sum"),
                "tooltip": [
                    {"field": category, "title": label},
                    {"field": value, "aggregate": "sum", "title": title, "type": "quantitative", "format": "$,.2f"},
                ],
            },
        }

    return spec


def chart_stacked_bars(
    category: str, label: str, parts: tuple[str, ...], legend: str, normalize: bool = False
) -> Callable[[ex.View], Spec]:
    """Horizontal bars of ``parts`` (columns of the rows, folded into one legend) stacked per ``category``."""

    def spec(view: ex.View) -> Spec:
        transform: list[Spec] = [{"fold": list(parts), "as": [legend, "amount"]}]
        x = (
            {
                "field": "amount",
                "type": "quantitative",
                "stack": "normalize",
                "title": "share of taggable spend",
                "axis": {"format": "%"},
            }
            if normalize
            else _money_axis("amount", "effective cost", view)
        )
        return {
            "height": {"step": 20},
            "transform": transform,
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": {"field": category, "type": "nominal", "title": label, "sort": {"field": "rank"}},
                "x": x,
                "color": {
                    "field": legend,
                    "type": "nominal",
                    "title": legend,
                    "sort": list(parts),
                    "scale": {"domain": list(parts)},
                },
                "tooltip": _tooltip((category, label), (legend, legend), ("amount", "cost"), money=("amount",)),
            },
        }

    return spec


GROWTH_PARTS = tuple(ex.COMPONENT_LABELS[c] for c in ex.COMPONENTS)


def chart_growth(view: ex.View) -> Spec:
    spec = chart_stacked_bars("team", "team", GROWTH_PARTS, "driver")(view)
    spec["encoding"]["x"] = _money_axis("amount", f"change on {view.previous}", view)
    return spec


def _growth_part_columns() -> str:
    return ", ".join(f'{c}_change as "{ex.COMPONENT_LABELS[c]}"' for c in ex.COMPONENTS)


def _ranked(order_by: str) -> str:
    return f"row_number() over (order by {order_by}) as rank"


SECTIONS: tuple[Section, ...] = (
    Section(
        key="monthly_total",
        title="SageMaker cost by month",
        caption=(
            "Effective cost ({currency}: after the Savings Plan, credits and refunds) of the SageMaker line per "
            "billing month, {period} highlighted. Source: fct_sagemaker_cost_by_team_monthly."
        ),
        marts=(ex.BY_TEAM,),
        query=f"""select billing_period, sum(effective_cost) as effective_cost, sum(billed_cost) as billed_cost
                  from {ex.BY_TEAM} where billing_currency = $currency and billing_period between $since and $period
                  group by billing_period order by billing_period""",
        chart=chart_monthly_total,
        columns=(
            Column("billing_period", "month"),
            Column("effective_cost", "effective", "money"),
            Column("billed_cost", "billed", "money"),
        ),
    ),
    Section(
        key="by_team",
        title="Cost by team over time",
        caption=(
            "Effective cost ({currency}) of each owning team per billing month; 'unattributed' is spend no tag, "
            "rule or inference gives a team, '__idle__' a shared endpoint's hours without traffic. "
            "Source: fct_sagemaker_cost_by_team_monthly."
        ),
        marts=(ex.BY_TEAM,),
        query=f"""with months as (
                      select billing_period, team, sum(effective_cost) as effective_cost from {ex.BY_TEAM}
                      where billing_currency = $currency and billing_period between $since and $period group by all
                  )
                  select *, dense_rank() over (order by total desc, team) as rank
                  from (select *, sum(effective_cost) over (partition by team) as total from months)
                  order by billing_period, rank""",
        chart=chart_stacked_over_time("team", "team"),
    ),
    Section(
        key="by_model",
        title="Cost by model over time",
        caption=(
            f"Effective cost ({{currency}}) of the {TOP_MODELS} models that cost most over these months, per billing "
            "month; every other model is summed in 'other models'. Source: fct_sagemaker_cost_by_model_monthly."
        ),
        marts=(BY_MODEL,),
        query=f"""with months as (
                      select billing_period, model, sum(effective_cost) as effective_cost from {BY_MODEL}
                      where billing_currency = $currency and billing_period between $since and $period group by all
                  ),
                  ranked as (
                      select model, dense_rank() over (order by sum(effective_cost) desc, model) as rank
                      from months group by model
                  )
                  select billing_period,
                         case when rank <= {TOP_MODELS} then model else 'other models' end as model,
                         least(rank, {TOP_MODELS + 1}) as rank, sum(effective_cost) as effective_cost
                  from months inner join ranked using (model) group by all order by billing_period, rank""",
        chart=chart_lines_over_time("model", "model"),
    ),
    Section(
        key="growth",
        title="Why it changed: each team's change on {previous}, by driver",
        caption=(
            "Change in effective cost ({currency}) of each team from {previous} to {period}, split into volume, "
            "instance mix, price, Savings Plan, idle and other; the parts add up to the change. "
            "Source: fct_sagemaker_cost_change_monthly."
        ),
        marts=(ex.CHANGE,),
        query=f"""select dimension_value as team, change_type, previous_cost, current_cost, cost_change,
                         {_growth_part_columns()}, {_ranked("cost_change desc, dimension_value")}
                  from {ex.CHANGE}
                  where billing_period = $period and billing_currency = $currency and dimension = 'team'
                  order by rank""",
        chart=chart_growth,
        columns=(
            Column("team", "team"),
            Column("change_type", "change"),
            Column("previous_cost", "{previous}", "money"),
            Column("current_cost", "{period}", "money"),
            Column("cost_change", "change", "signed"),
            *(Column(label, label, "signed") for label in GROWTH_PARTS),
        ),
        totals=True,
        empty="No month before {period} in the marts: nothing to compare.",
    ),
    Section(
        key="model_growth",
        title="Models that moved the bill on {previous}",
        caption=(
            "The models whose effective cost ({currency}) changed most from {previous} to {period} (either way), "
            "with the driver of each change. Source: fct_sagemaker_cost_change_monthly."
        ),
        marts=(ex.CHANGE,),
        query=f"""select dimension_value as model, team, change_type, previous_cost, current_cost, cost_change,
                         {_growth_part_columns()}
                  from {ex.CHANGE}
                  where billing_period = $period and billing_currency = $currency and dimension = 'model'
                    and change_type <> 'unchanged'
                  order by abs(cost_change) desc, dimension_value limit 15""",
        columns=(
            Column("model", "model"),
            Column("team", "team"),
            Column("change_type", "change"),
            Column("previous_cost", "{previous}", "money"),
            Column("current_cost", "{period}", "money"),
            Column("cost_change", "change", "signed"),
            *(Column(label, label, "signed") for label in GROWTH_PARTS),
        ),
        empty="No model's cost changed from {previous} to {period} (or no month before it in the marts).",
    ),
    Section(
        key="top_models",
        title="Top models in {period}",
        caption=(
            "Effective cost ({currency}) of each model in {period} on the SageMaker line, and its share of the "
            "SageMaker total; the 15 largest. Source: fct_sagemaker_cost_by_model_monthly."
        ),
        marts=(BY_MODEL,),
        query=f"""select model, string_agg(distinct team, ', ' order by team) as team,
                         sum(effective_cost) as effective_cost, sum(billed_cost) as billed_cost,
                         sum(effective_cost) / nullif({SHARE_OF}, 0) as share
                  from {BY_MODEL} where billing_period = $period and billing_currency = $currency
                  group by model qualify row_number() over (order by sum(effective_cost) desc, model) <= 15
                  order by effective_cost desc, model""",
        chart=chart_bars("model", "model"),
        columns=(
            Column("model", "model"),
            Column("team", "team"),
            Column("effective_cost", "effective", "money"),
            Column("billed_cost", "billed", "money"),
            Column("share", "share", "share"),
        ),
    ),
    Section(
        key="fully_loaded",
        title="What models really cost in {period}: the SageMaker line and the hidden rest",
        caption=(
            "Effective cost ({currency}) per model in {period}: its SageMaker line beside the S3, ECR, "
            "CloudWatch, data transfer and storage it causes outside it (hidden share = the rest over the line); "
            "the 12 largest drawn. Source: fct_model_fully_loaded_cost_monthly."
        ),
        marts=(ex.MODEL_FULLY_LOADED,),
        query=f"""select model, string_agg(distinct team, ', ' order by team) as team,
                         coalesce(sum(effective_cost) filter (where is_sagemaker_line), 0) as "SageMaker line",
                         coalesce(sum(effective_cost) filter (where not is_sagemaker_line), 0) as "outside the line",
                         sum(effective_cost) as total,
                         "outside the line" / nullif("SageMaker line", 0) as hidden_share,
                         {_ranked("sum(effective_cost) desc, model")}
                  from {ex.MODEL_FULLY_LOADED} where billing_period = $period and billing_currency = $currency
                  group by model order by rank""",
        chart=chart_stacked_bars("model", "model", ("SageMaker line", "outside the line"), "cost"),
        chart_rows=12,
        columns=(
            Column("model", "model"),
            Column("team", "team"),
            Column("SageMaker line", "SageMaker line", "money"),
            Column("outside the line", "outside the line", "money"),
            Column("total", "fully loaded", "money"),
            Column("hidden_share", "hidden share", "share"),
        ),
        totals=True,
    ),
    Section(
        key="top_endpoints",
        title="Top endpoints in {period}, fully loaded",
        caption=(
            "Effective cost ({currency}) of each endpoint in {period}: instances and ML storage on the SageMaker "
            "line, plus the data transfer, CloudWatch, S3 artifacts and ECR images it causes. "
            f"Source: {ENDPOINT_FULLY_LOADED}."
        ),
        marts=(ENDPOINT_FULLY_LOADED,),
        query=f"""select endpoint_name, instance_cost + sagemaker_storage_cost as "instances and storage",
                         data_transfer_cost as "data transfer", cloudwatch_cost as "CloudWatch", s3_cost as "S3",
                         ecr_cost as "ECR", total_cost, hidden_cost_share,
                         {_ranked("total_cost desc, endpoint_name")}
                  from {ENDPOINT_FULLY_LOADED} where billing_period = $period and billing_currency = $currency
                  order by rank limit 20""",
        chart=chart_stacked_bars(
            "endpoint_name",
            "endpoint",
            ("instances and storage", "data transfer", "CloudWatch", "S3", "ECR"),
            "cost",
        ),
        columns=(
            Column("endpoint_name", "endpoint"),
            Column("instances and storage", "instances and storage", "money"),
            Column("data transfer", "data transfer", "money"),
            Column("CloudWatch", "CloudWatch", "money"),
            Column("S3", "S3", "money"),
            Column("ECR", "ECR", "money"),
            Column("total_cost", "total", "money"),
            Column("hidden_cost_share", "hidden share", "share"),
        ),
        totals=True,
    ),
    Section(
        key="endpoint_idle",
        title="Endpoints in {period}: in use, idle and forgotten",
        caption=(
            "Effective cost ({currency}) of each endpoint's instance hours in {period}: hours with an invocation "
            "(in use), billed hours without one (idle; a shared endpoint's __idle__ share), and hours with no "
            "metric at all (unknown, never counted idle). Forgotten: still running, no invocation for days. "
            "Source: fct_sagemaker_endpoint_idle_monthly."
        ),
        marts=(ex.ENDPOINT_IDLE,),
        query=f"""select endpoint_name, min(team) as team, min(environment) as environment,
                         min(instance_type) as instance_type,
                         sum(effective_cost) - sum(idle_cost) - sum(unknown_cost) as "in use",
                         sum(idle_cost) as "idle", sum(unknown_cost) as "unknown",
                         sum(effective_cost) as effective_cost, sum(idle_cost) / nullif(sum(effective_cost), 0) as idle_share,
                         bool_or(is_forgotten) as forgotten, max(age_days) as age_days, max(idle_days) as idle_days,
                         {_ranked("sum(effective_cost) desc, endpoint_name")}
                  from {ex.ENDPOINT_IDLE} where billing_period = $period and billing_currency = $currency
                  group by endpoint_arn, endpoint_name order by rank""",
        chart=chart_stacked_bars("endpoint_name", "endpoint", ("in use", "idle", "unknown"), "hours"),
        columns=(
            Column("endpoint_name", "endpoint"),
            Column("team", "team"),
            Column("environment", "environment"),
            Column("instance_type", "instance"),
            Column("effective_cost", "cost", "money"),
            Column("idle", "idle", "money"),
            Column("idle_share", "idle share", "share"),
            Column("unknown", "unknown", "money"),
            Column("forgotten", "forgotten"),
            Column("age_days", "age", "days"),
            Column("idle_days", "idle for", "days"),
        ),
        totals=True,
    ),
    Section(
        key="notebooks",
        title="Notebooks and Studio apps in {period}: working hours and out of hours",
        caption=(
            "Effective cost ({currency}) of each notebook instance and Studio app in {period}, by when it was "
            "billed: working hours, evenings and weekends (what stopping it out of hours saves). "
            "Source: fct_sagemaker_notebook_hours_monthly."
        ),
        marts=(ex.NOTEBOOK_HOURS,),
        query=f"""select resource_name, resource_type, instance_type, team, environment,
                         working_hours_cost as "working hours", after_hours_cost as "evenings",
                         weekend_cost as "weekends", effective_cost, out_of_hours_saving,
                         is_always_on as always_on, {_ranked("effective_cost desc, resource_name")}
                  from {ex.NOTEBOOK_HOURS} where billing_period = $period and billing_currency = $currency
                  order by rank""",
        chart=chart_stacked_bars(
            "resource_name", "notebook or app", ("working hours", "evenings", "weekends"), "billed"
        ),
        columns=(
            Column("resource_name", "name"),
            Column("resource_type", "type"),
            Column("instance_type", "instance"),
            Column("team", "team"),
            Column("environment", "environment"),
            Column("effective_cost", "cost", "money"),
            Column("out_of_hours_saving", "out of hours", "money"),
            Column("always_on", "24/7"),
        ),
        totals=True,
    ),
    Section(
        key="savings",
        title="Savings opportunities in {period}",
        caption=(
            "Monthly saving ({currency}) of every opportunity the marts found in {period}, by kind; no dollar "
            "counted twice (an idle endpoint's saving is not also its rightsizing's). "
            "Source: fct_sagemaker_savings_opportunities."
        ),
        marts=(ex.OPPORTUNITIES,),
        query=f"""select saving_rank, replace(opportunity_type, '_', ' ') as opportunity, resource_type,
                         coalesce(resource_name, resource_type) as resource, team, environment, current_cost,
                         monthly_saving, confidence, action
                  from {ex.OPPORTUNITIES} where billing_period = $period and billing_currency = $currency
                  order by saving_rank""",
        chart=chart_bars("opportunity", "opportunity", "monthly_saving", "monthly saving"),
        columns=(
            Column("saving_rank", "#", "count"),
            Column("opportunity", "opportunity"),
            Column("resource", "resource"),
            Column("team", "team"),
            Column("environment", "environment"),
            Column("current_cost", "cost now", "money"),
            Column("monthly_saving", "saving a month", "money"),
            Column("confidence", "confidence"),
            Column("action", "what to do"),
        ),
        totals=True,
    ),
    Section(
        key="multi_model",
        title="Multi-model endpoints in {period}: the split among their models",
        caption=(
            "Effective cost ({currency}) of each multi-model endpoint in {period}, divided among the models it "
            "served by their invocations; __idle__ is its hours without traffic. "
            "Source: fct_sagemaker_cost_allocations."
        ),
        marts=(ALLOCATIONS,),
        query=f"""select resource_name as endpoint_name, model, min(team) as team, sum(effective_cost) as effective_cost,
                         sum(effective_cost) / nullif(sum(sum(effective_cost)) over (partition by resource_name), 0)
                             as share
                  from {ALLOCATIONS}
                  where billing_period = $period and billing_currency = $currency and endpoint_mode = 'multi_model'
                  group by resource_name, model order by resource_name, effective_cost desc""",
        chart=lambda view: {
            "height": {"step": 28},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": {"field": "endpoint_name", "type": "nominal", "title": "endpoint"},
                "x": _money_axis("effective_cost", "effective cost", view),
                "color": {"field": "model", "type": "nominal", "title": "model"},
                "tooltip": _tooltip(
                    ("endpoint_name", "endpoint"),
                    ("model", "model"),
                    ("effective_cost", "cost"),
                    money=("effective_cost",),
                ),
            },
        },
        columns=(
            Column("endpoint_name", "endpoint"),
            Column("model", "model"),
            Column("team", "team"),
            Column("effective_cost", "cost", "money"),
            Column("share", "share of the endpoint", "share"),
        ),
        totals=True,
        empty="No multi-model endpoint billed in {period}.",
    ),
    Section(
        key="unattributed",
        title="Unattributed spend in {period}, by reason",
        caption=(
            "Effective cost ({currency}) in {period} that has no model or team, by why: no tag or rule matched, "
            "a shared commitment (the Savings Plan's unused part), a charge with no resource, ... "
            "Source: fct_sagemaker_cost_allocations."
        ),
        marts=(ALLOCATIONS,),
        query=f"""select reason, effective_cost, effective_cost / nullif(total, 0) as share from (
                      select coalesce(unattributed_reason, 'attributed') as reason, sum(effective_cost) as effective_cost,
                             sum(sum(effective_cost)) over () as total
                      from {ALLOCATIONS} where billing_period = $period and billing_currency = $currency group by 1
                  ) where reason <> 'attributed' order by effective_cost desc, reason""",
        chart=chart_bars("reason", "reason"),
        columns=(
            Column("reason", "reason"),
            Column("effective_cost", "cost", "money"),
            Column("share", "share of the bill", "share"),
        ),
        totals=True,
        empty="Every dollar of {period} has a model and a team.",
    ),
    Section(
        key="tag_coverage",
        title="Tag coverage in {period}, by attribution tag key",
        caption=(
            "Share of taggable effective spend ({currency}) in {period} whose resource carries each attribution "
            "tag key in the bill, only on the API side (not activated as a cost allocation tag), inferred from a "
            "role, experiment or name, or nowhere. Source: fct_sagemaker_tag_coverage_monthly."
        ),
        marts=(ex.COVERAGE,),
        query=f"""select tag_key, sum(bill_tag_cost) as "in the bill", sum(api_tag_only_cost) as "API only",
                         sum(inferred_cost) as "inferred", sum(missing_cost) as "missing",
                         sum(taggable_cost) as taggable_cost,
                         sum(bill_tag_cost) / nullif(sum(taggable_cost), 0) as bill_share,
                         {_ranked("tag_key")}
                  from {ex.COVERAGE} where billing_period = $period and billing_currency = $currency
                  group by tag_key order by rank""",
        chart=chart_stacked_bars(
            "tag_key", "tag key", ("in the bill", "API only", "inferred", "missing"), "tag found", normalize=True
        ),
        columns=(
            Column("tag_key", "tag key"),
            Column("taggable_cost", "taggable", "money"),
            Column("in the bill", "in the bill", "money"),
            Column("API only", "API only", "money"),
            Column("inferred", "inferred", "money"),
            Column("missing", "missing", "money"),
            Column("bill_share", "in the bill", "share"),
        ),
    ),
    Section(
        key="tag_gap_by_team",
        title="Tag coverage gap in {period}, by team",
        caption=(
            "Taggable effective spend ({currency}) of each team in {period} that lacks one of the four attribution "
            "tags in the bill (the gap), beside its taggable total. Source: fct_sagemaker_tag_coverage_monthly."
        ),
        marts=(ex.COVERAGE,),
        query=f"""select team, sum(taggable_cost) as taggable_cost,
                         sum(taggable_cost) - sum(all_bill_tags_cost) as gap_cost,
                         (sum(taggable_cost) - sum(all_bill_tags_cost)) / nullif(sum(taggable_cost), 0) as gap_share
                  from {ex.COVERAGE}
                  where billing_period = $period and billing_currency = $currency and dimension = 'team'
                  group by team order by gap_cost desc, team""",
        chart=chart_bars("team", "team", "gap_cost", "spend without all four tags"),
        columns=(
            Column("team", "team"),
            Column("taggable_cost", "taggable", "money"),
            Column("gap_cost", "without all four tags", "money"),
            Column("gap_share", "gap share", "share"),
        ),
        totals=True,
    ),
)


def marts() -> list[str]:
    """Every mart the report reads: explain's (the answer) and its sections'."""
    return sorted({m for s in ex.SECTIONS for m in s.marts} | {m for s in SECTIONS for m in s.marts})


# --------------------------------------------------------------------------------------------
# Reading the marts
# --------------------------------------------------------------------------------------------


@dataclass
class Part:
    """A section read for one view: its rows."""

    section: Section
    rows: list[Row]


def months_before(period: str, count: int) -> str:
    for _ in range(count):
        period = ex.previous_period(period)
    return period


def read_rows(con: duckdb.DuckDBPyConnection, section: Section, view: ex.View) -> list[Row]:
    params = {"period": view.period, "currency": view.currency, "since": months_before(view.period, TREND_MONTHS - 1)}
    used = {name: value for name, value in params.items() if f"${name}" in section.query}
    cursor = con.execute(section.query, used)
    names = [d[0] for d in cursor.description]
    return [
        {n: float(v) if isinstance(v, Decimal) else v for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _format(value: Any, kind: str, money: ex.Money) -> str:
    if value is None:
        return "-"
    if kind == "money":
        return money(value)
    if kind == "signed":
        return money(value, signed=True)
    if kind == "share":
        return ex.percent(value)
    if kind == "days":
        return f"{value:.0f} d"
    if isinstance(value, bool):
        return "yes" if value else ""
    if kind == "count":
        return f"{value:,}"
    return str(value)


def _sort_value(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "text":
        return str(value).lower() if not isinstance(value, bool) else str(int(value))
    return repr(round(float(value), 6))


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_table(part: Part, view: ex.View) -> str:
    section, money = part.section, view.money
    columns = section.columns
    head = "".join(
        f'<th scope="col" data-kind="{c.kind}" class="{"num" if c.kind != "text" else "txt"}">'
        f'<button type="button">{_esc(_fill(c.label, view))}</button></th>'
        for c in columns
    )
    body = []
    for row in part.rows:
        cells = "".join(
            f'<td class="{"num" if c.kind != "text" else "txt"}" data-value="{_esc(_sort_value(row.get(c.field), c.kind))}">'
            f"{_esc(_format(row.get(c.field), c.kind, money))}</td>"
            for c in columns
        )
        body.append(f"<tr>{cells}</tr>")
    foot = ""
    if section.totals:
        sums: list[str] = []
        for i, c in enumerate(columns):
            if c.kind in ("money", "signed"):
                total = sum(r.get(c.field) or 0.0 for r in part.rows)
                sums.append(
                    f'<td class="num" data-field="{_esc(c.field)}" data-value="{total!r}">'
                    f"{_esc(_format(total, c.kind, money))}</td>"
                )
            else:
                sums.append(f'<td class="txt">{"total" if i == 0 else ""}</td>')
        foot = f"<tfoot><tr>{''.join(sums)}</tr></tfoot>"
    return (
        f'<div class="table-wrap"><table class="sortable" data-table="{section.key}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>{foot}</table></div>"
    )


def _fill(text: str, view: ex.View) -> str:
    return text.format(
        period=view.period, previous=view.previous or ex.previous_period(view.period), currency=view.currency
    )


def render_section(part: Part, view: ex.View, chart_id: str) -> str:
    section = part.section
    title, caption = _fill(section.title, view), _fill(section.caption, view)
    out = [f'<section class="part" data-section="{section.key}" id="{chart_id}-section">', f"<h2>{_esc(title)}</h2>"]
    if not part.rows:
        out += [f'<p class="empty">{_esc(_fill(section.empty, view))}</p>', f'<p class="caption">{_esc(caption)}</p>']
    else:
        if section.chart is not None:
            spec = section.chart(view)
            drawn = part.rows[: section.chart_rows] if section.chart_rows else part.rows
            if isinstance(spec.get("height"), dict):  # a step per bar, as a number: a step and a fitted
                y = spec["encoding"]["y"]["field"]  # width make Vega-Lite warn
                spec["height"] = spec["height"]["step"] * len({r[y] for r in drawn})
            spec = {
                "title": {"text": title, "anchor": "start", "fontSize": 13},
                "width": "container",
                "autosize": {"type": "fit-x", "contains": "padding"},
                "datasets": {"rows": drawn},
                "data": {"name": "rows"},
                "config": {"view": {"stroke": None}, "axis": {"labelLimit": 240}},
                **spec,
            }
            out.append(
                f'<figure class="chart"><div class="vis" id="{chart_id}" role="img" aria-label="{_esc(title)}"></div>'
                f"<figcaption>{_esc(caption)}</figcaption></figure>"
                f'<script type="application/json" class="chart-spec" data-target="{chart_id}" '
                f'data-currency="{_esc(ex.SYMBOLS.get(view.currency, view.currency + " "))}">{_json(spec)}</script>'
            )
        else:
            out.append(f'<p class="caption">{_esc(caption)}</p>')
        if section.columns:
            out.append(render_table(part, view))
    out.append("</section>")
    return "\n".join(out)


def _json(value: Any) -> str:
    """JSON safe inside <script>: no "</" can close the element."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str).replace("</", "<\\/")


def _tile(key: str, label: str, value: float | None, text: str, note: str) -> str:
    data = "" if value is None else f' data-value="{value!r}"'
    return (
        f'<div class="tile" data-figure="{key}"{data}><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(text)}</div><div class="note">{_esc(note)}</div></div>'
    )


def render_answer(entry: dict[str, Any], view: ex.View) -> str:
    """The month's answer: the figures as tiles, then `smcost explain`'s words as HTML."""
    money = view.money
    total, idle, hidden, tags, actions = (
        entry["total"],
        entry["idle"],
        entry["fully_loaded"],
        entry["tag_coverage"],
        entry["actions"],
    )
    change = total["change"]
    tiles = [
        _tile(
            "total",
            f"SageMaker cost, {view.period}",
            total["effective_cost"],
            money(total["effective_cost"]),
            f"effective; billed {money(total['billed_cost'])}",
        ),
        _tile(
            "change",
            f"change on {view.previous}" if view.previous else "change",
            change,
            money(change, signed=True) if change is not None else "-",
            ex.percent(total["change_share"], signed=True) if change is not None else "no month before in the marts",
        ),
        _tile(
            "waste",
            "idle and out of hours",
            idle["waste_cost"],
            money(idle["waste_cost"]),
            f"{ex.percent(idle['waste_share'])} of the bill; {ex.plural(idle['forgotten_count'], 'forgotten endpoint')} "
            f"{money(idle['forgotten_cost'])}",
        ),
        _tile(
            "hidden",
            "hidden cost outside the line",
            hidden["neighbour_cost"],
            money(hidden["neighbour_cost"]),
            f"{ex.percent(hidden['hidden_share'])} on top of the SageMaker line",
        ),
        _tile(
            "tag_gap",
            "taggable spend without all tags",
            tags["gap_cost"],
            money(tags["gap_cost"]),
            f"{ex.percent(tags['gap_share'])} of {money(tags['taggable_cost'])} taggable",
        ),
        _tile(
            "savings",
            "savings on offer, a month",
            actions["monthly_saving"],
            money(actions["monthly_saving"]),
            f"{actions['opportunity_count']} opportunities; top {len(actions['items'])}: "
            f"{money(actions['items_monthly_saving'])}",
        ),
    ]
    words = "".join(
        f'<div class="card">{render_blocks(section.layout(entry[section.key], view))}</div>'
        for section in ex.SECTIONS
        if section.key != "total"  # the tiles and the monthly chart show it
    )
    return (
        f'<section class="answer" data-section="answer"><h2>The answer: {_esc(view.period)} ({_esc(view.currency)})</h2>'
        f'<div class="tiles">{"".join(tiles)}</div>'
        f'<div class="words">{words}</div></section>'
    )


def render_blocks(blocks: Iterable[ex.Block]) -> str:
    """explain's document (headings, lines, tables, numbered items) as HTML."""
    out: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if items:
            out.append(f"<ol>{''.join(items)}</ol>")
            items.clear()

    for block in blocks:
        if isinstance(block, ex.Item):
            items.append(f'<li value="{block.number}"><strong>{_esc(block.head)}</strong><br>{_esc(block.body)}</li>')
            continue
        flush()
        if isinstance(block, ex.Heading):
            out.append(f"<h3>{_esc(block.text)}</h3>")
        elif isinstance(block, ex.Line):
            out.append(f"<p>{_esc(block.text)}</p>")
        else:
            head = "".join(
                f'<th class="{"num" if a == "r" else "txt"}">{_esc(c)}</th>'
                for c, a in zip(block.columns, block.align, strict=True)
            )
            rows = "".join(
                "<tr>"
                + "".join(
                    f'<td class="{"num" if a == "r" else "txt"}">{_esc(c)}</td>'
                    for c, a in zip(r, block.align, strict=True)
                )
                + "</tr>"
                for r in block.rows
            )
            out.append(
                f'<div class="table-wrap"><table class="plain"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
            )
    flush()
    return "\n".join(out)


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """vega-embed, Vega-Lite and Vega as one script (window.vegaEmbed), from the installed
    vl-convert: the same libraries vl-convert renders with, no network at write or view time."""
    import vl_convert

    globals_ = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"
    return vl_convert.javascript_bundle(globals_).replace("</script", "<\\/script")


CSS = """
:root { --ink: #1d2733; --muted: #5b6775; --line: #d8dee6; --accent: #1f5f99; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { font-size: 24px; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
nav { margin: 14px 0 0; font-size: 13px; display: flex; flex-wrap: wrap; gap: 2px 14px; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: 10px; margin: 12px 0; }
.tile { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .label { font-size: 12px; color: var(--muted); }
.tile .value { font-size: 21px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .note { font-size: 12px; color: var(--muted); }
.words { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 0 28px; }
.words .card:last-child { grid-column: 1 / -1; }
.words p { margin: 4px 0; max-width: 80ch; }
figure.chart { margin: 10px 0 6px; }
.vis { width: 100%; }
figcaption, .caption, .empty { color: var(--muted); font-size: 12.5px; margin: 4px 0 8px; max-width: 100ch; }
.table-wrap { overflow-x: auto; margin: 6px 0 10px; }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { text-align: left; background: var(--bg); }
.num { text-align: right; white-space: nowrap; }
tfoot td { font-weight: 600; border-top: 2px solid var(--ink); }
table.sortable th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
                           cursor: pointer; color: inherit; text-align: inherit; }
table.sortable th[aria-sort="ascending"] button::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"] button::after { content: " \\25BC"; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
.vg-tooltip { font-size: 12px; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; }
  .words { display: block; }
  section.part, .tile, .card, figure, tr { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  table.sortable th button::after { content: "" !important; }
  .vis svg { max-width: 100%; height: auto; }
  a { color: inherit; text-decoration: none; }
}
"""

# Draws every chart from its JSON spec and sorts tables by their column's data-value. Errors reach
# the console (the browser test fails on any). window.smcostReady settles when every chart is drawn,
# and window.smcostViews holds each chart's Vega view by its element id.
SCRIPT = """
(function () {
  window.smcostViews = {};
  var specs = Array.prototype.slice.call(document.querySelectorAll("script.chart-spec"));
  window.smcostReady = Promise.all(specs.map(function (el) {
    var symbol = el.getAttribute("data-currency");
    return vegaEmbed("#" + el.getAttribute("data-target"), JSON.parse(el.textContent), {
      actions: false, renderer: "svg",
      formatLocale: { decimal: ".", thousands: ",", grouping: [3], currency: [symbol, ""] }
    }).then(function (result) { window.smcostViews[el.getAttribute("data-target")] = result.view; })
      .catch(function (error) { console.error("chart " + el.getAttribute("data-target") + ": " + error); });
  }));
  document.querySelectorAll("table.sortable th button").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode, table = th.closest("table"), body = table.tBodies[0];
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var text = th.getAttribute("data-kind") === "text";
      var current = th.getAttribute("aria-sort");
      var order = current ? (current === "ascending" ? "descending" : "ascending") : (text ? "ascending" : "descending");
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", order);
      var key = function (row) {
        var v = row.cells[index].getAttribute("data-value");
        return text ? v : (v === "" ? -Infinity : Number(v));
      };
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = text ? String(x).localeCompare(String(y)) : (x < y ? -1 : x > y ? 1 : 0);
        return order === "ascending" ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""


def render(con: duckdb.DuckDBPyConnection, period: str | None, database: str) -> str:
    """The report as one HTML document; raises explain.ExplainError when the marts cannot answer."""
    missing = [m for m in marts() if m not in _tables(con)]
    if missing:
        raise ex.ExplainError(
            f"{database} has no {', '.join(missing)} (built by an older version of the models): "
            "run `dbt build --target local` (or `make demo`, `smcost pipeline`)"
        )
    answer = ex.explain(con, period, database)
    period = answer["billing_period"]
    body: list[str] = []
    nav: list[str] = []
    for entry in answer["currencies"]:
        view = ex.View(period, answer["previous_billing_period"], entry["billing_currency"])
        prefix = f"{view.currency.lower()}-"
        if len(answer["currencies"]) > 1:
            body.append(f'<h2 class="currency">In {_esc(view.currency)}</h2>')
        body.append(render_answer(entry, view))
        for section in SECTIONS:
            part = Part(section, read_rows(con, section, view))
            body.append(render_section(part, view, f"{prefix}{section.key}"))
            nav.append(f'<a href="#{prefix}{section.key}-section">{_esc(_short(section.title))}</a>')
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    currencies = ", ".join(e["billing_currency"] for e in answer["currencies"])
    title = f"SageMaker cost report {period}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="smcost report">
<title>{_esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<h1>{_esc(title)}</h1>
<p>The SageMaker line of the AWS bill, explained: billing period <strong>{_esc(period)}</strong> in
{_esc(currencies)}, from the marts in {_esc(database)} (periods {_esc(", ".join(answer["periods_available"]))}).
Written {generated} by <code>smcost report</code>.</p>
<noscript><p>The charts need JavaScript; every table's numbers are here without it.</p></noscript>
<nav>{"".join(dict.fromkeys(nav))}</nav>
</header>
{"".join(body)}
<footer>Effective cost is after the Machine Learning Savings Plan, credits and refunds; billed cost is what
the invoice line shows. Each currency is reported on its own. Marts read: {_esc(", ".join(marts()))}.</footer>
</main>
<script>{vega_bundle()}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _short(title: str) -> str:
    """A section's title without its period: "Top models in {period}" is "Top models" in the links."""
    return re.split(r":| in \{period\}| on \{previous\}", title)[0]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period", type=ex._period, help="billing period to report, YYYY-MM (default: the latest in the marts)"
    )
    parser.add_argument("--database", default="data/smcost.duckdb", help="DuckDB file (default: %(default)s)")
    parser.add_argument(
        "--out",
        help="HTML file to write (default: smcost-report.html beside the database, e.g. data/smcost-report.html)",
    )
    parser.epilog = "Example: smcost report --period 2026-09 --out bill-2026-09.html"


def run(args: argparse.Namespace) -> int:
    path = Path(args.database)
    out = Path(args.out) if args.out else path.with_name("smcost-report.html")
    try:
        con = connect_marts(path)
    except MartsUnavailable as exc:
        print(f"smcost report: {exc}", file=sys.stderr)
        return 2
    with con:
        try:
            document = render(con, args.period, str(path))
        except ex.ExplainError as exc:
            print(f"smcost report: {exc}", file=sys.stderr)
            return 2
        except duckdb.Error as exc:  # e.g. a mart from another version of the models
            print(
                f"smcost report: cannot read the marts in {path}: {first_line(exc)}. "
                "Rebuild with `dbt build --target local`.",
                file=sys.stderr,
            )
            return 2
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(document, encoding="utf-8")
    except OSError as exc:
        print(f"smcost report: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"Report written: {out} ({out.stat().st_size / 1e6:.1f} MB); open {out.resolve().as_uri()}")
    return 0
