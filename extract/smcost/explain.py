"""Explain one month's SageMaker bill on one screen: the answer to the VP who asks "explain this".

For one billing period (default: the latest in the marts) and each billing currency on its own
(amounts in two currencies are never added):

  total         the SageMaker total (effective cost: after the Savings Plan, credits and refunds;
                billed beside it) and its trend over the months before
  growth        the teams and models that moved the bill most since the month before, each with
                its reason (new, ended, grew, shrank) and its biggest driver (volume, instance mix,
                price, Savings Plan, idle, other)
  idle          idle and forgotten spend: idle endpoint capacity and its share, the forgotten
                endpoints (owner team, environment, age, monthly cost), notebooks' after-hours cost
  fully_loaded  the hidden share: what the models cost on top of the SageMaker line in S3, ECR,
                CloudWatch, data transfer and storage
  tag_coverage  the tag coverage gap: taggable spend without all four attribution tags in the bill
  actions       the three biggest savings, with their monthly saving and what to do

It reads the DuckDB file `dbt build --target local` wrote (default data/smcost.duckdb), and only
its public marts (never the staging or intermediate models, never the lake): the sections table
SECTIONS below says which. A new mart adds a section there: a function that reads it into a dict
(the JSON) and one that lays the dict out as headings, lines and tables (the text and Markdown).

--format json prints one object (keys stable, amounts as numbers in the currency, shares as
fractions 0-1, null where there is nothing to say):

  {"billing_period": "2026-10", "previous_billing_period": "2026-09" | null,
   "periods_available": ["2026-08", ...], "database": "data/smcost.duckdb",
   "currencies": [{
     "billing_currency": "USD",
     "total": {"effective_cost", "billed_cost", "previous_effective_cost", "change", "change_share",
               "trend": [{"billing_period", "effective_cost", "billed_cost", "change"}]},
     "growth": {"previous_billing_period", "cost_change",
                "by_team" | "by_model": {"drivers": [{"name", "team", "change_type", "previous_cost",
                     "current_cost", "cost_change", "driver", "driver_change",
                     "components": {"volume", "mix", "price", "savings_plan", "idle", "other"}}],
                   "others_count", "others_change"}},
     "idle": {"waste_cost", "waste_share", "endpoint_cost", "idle_cost", "idle_share",
              "idle_share_of_total", "unknown_cost", "forgotten_cost", "forgotten_count",
              "forgotten": [{"endpoint_name", "model", "team", "environment", "age_days", "idle_days",
                             "effective_cost"}],
              "notebook_cost", "out_of_hours_cost", "after_hours_cost", "weekend_cost",
              "always_on_count", "always_on_cost", "never_tagged_count", "never_tagged_cost",
              "always_on": [{"resource_name", "resource_type", "instance_type", "team", "environment",
                             "effective_cost"}]},
     "fully_loaded": {"sagemaker_line_cost", "neighbour_cost", "hidden_share", "unowned_neighbour_cost",
                      "models": [{"model", "sagemaker_line_cost", "neighbour_cost", "hidden_share"}]},
     "tag_coverage": {"taggable_cost", "all_bill_tags_cost", "gap_cost", "gap_share",
                      "by_key": [{"tag_key", "bill_tag_cost", "api_tag_only_cost", "inferred_cost",
                                  "missing_cost", "bill_tag_share"}],
                      "teams": [{"team", "taggable_cost", "gap_cost", "gap_share"}]},
     "actions": {"opportunity_count", "monthly_saving", "items_monthly_saving",
                 "items": [{"saving_rank", "opportunity_type", "resource_type", "resource_arn",
                            "resource_name", "team", "model", "environment", "current_cost",
                            "monthly_saving", "confidence", "evidence", "action"}]}}]}

waste_cost is idle endpoint capacity (idle_cost: single-model endpoints' hours without an invocation
and shared endpoints' __idle__ allocation) plus notebooks' out_of_hours_cost, never the same dollar
twice; shares are of the period's total (waste_share, idle_share_of_total) or of the endpoints'
cost (idle_share). driver is the component that pushed the change hardest in its direction.
Lists are the top rows (forgotten 5, always_on 2, drivers 3 per dimension, models and teams 3,
actions 3); the counts and sums beside them cover every row.

For a period with no month before it in the marts, growth's previous_billing_period, cost_change,
by_team and by_model are null (and total's change fields too): nothing is compared, no zero invented.
The same growth nulls, with a non-null previous_billing_period, mean the change mart holds no rows
for the period and currency (a build older than the other marts).

Exit status: 0 printed; 2 the database is missing or unreadable, a mart it needs is missing (an
older build: run `dbt build`), or --period names a period the marts do not hold (the message lists
those they do); 141 the reader of stdout went away (`smcost explain | head`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from smcost.marts import MartsUnavailable, connect_marts, first_line

# The marts explain reads (all public, contracted): models/marts/sagemaker, governance, fully_loaded, explain.
BY_TEAM = "fct_sagemaker_cost_by_team_monthly"
CHANGE = "fct_sagemaker_cost_change_monthly"
ENDPOINT_IDLE = "fct_sagemaker_endpoint_idle_monthly"
NOTEBOOK_HOURS = "fct_sagemaker_notebook_hours_monthly"
MODEL_FULLY_LOADED = "fct_model_fully_loaded_cost_monthly"
COVERAGE = "fct_sagemaker_tag_coverage_monthly"
OPPORTUNITIES = "fct_sagemaker_savings_opportunities"

WIDTH = 100  # the text format's width
TREND_MONTHS = 6  # the period and up to five before it
TOP_DRIVERS = 3  # per dimension (team, model)
TOP_FORGOTTEN = 5
TOP_ALWAYS_ON = 2
TOP_MODELS = 3
TOP_TEAMS = 3
TOP_ACTIONS = 3
BAR_WIDTH = 24
COMPONENTS = ("volume", "mix", "price", "savings_plan", "idle", "other")  # the change mart's *_change columns
COMPONENT_LABELS = {
    "volume": "volume",
    "mix": "instance mix",
    "price": "price",
    "savings_plan": "Savings Plan",
    "idle": "idle",
    "other": "other",
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# --------------------------------------------------------------------------------------------
# The document: what a section lays out, rendered as text or Markdown
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Line:
    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    align: str  # one letter per column: l(eft) or r(ight)


@dataclass(frozen=True)
class Item:
    """A numbered entry: a one-line head and a body (a sentence or two)."""

    number: int
    head: str
    body: str


Block = Heading | Line | Table | Item


def _text_table(table: Table) -> list[str]:
    widths = [max(len(c) for c in column) for column in zip(table.columns, *table.rows, strict=True)]

    def row(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, table.align, strict=True))
        return ("  " + "  ".join(padded)).rstrip()

    return [row(table.columns), *(row(r) for r in table.rows)]


def render_text(blocks: Iterable[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["", block.text]
        elif isinstance(block, Line):
            out += textwrap.wrap(
                block.text, WIDTH, break_on_hyphens=False, initial_indent="  ", subsequent_indent="    "
            )
        elif isinstance(block, Item):
            out += textwrap.wrap(
                block.head,
                WIDTH,
                break_on_hyphens=False,
                initial_indent=f"  {block.number}. ",
                subsequent_indent="     ",
            )
            out += textwrap.wrap(
                block.body, WIDTH, break_on_hyphens=False, initial_indent="     ", subsequent_indent="     "
            )
        else:
            out += _text_table(block)
    return out


def _md(text: str) -> str:
    """Names such as __idle__ or a_b*c as themselves, not as emphasis."""
    return re.sub(r"([\\`*_|<>\[\]])", r"\\\1", text)


def render_markdown(blocks: Iterable[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["", f"### {_md(block.text)}", ""]
        elif isinstance(block, Line):
            out += [_md(block.text), ""]
        elif isinstance(block, Item):
            out += [f"{block.number}. **{_md(block.head)}**  ", f"   {_md(block.body)}"]
        else:
            if out and out[-1] != "":
                out.append("")
            out.append("| " + " | ".join(_md(c) or " " for c in block.columns) + " |")
            out.append("|" + "|".join("---:" if a == "r" else ":---" for a in block.align) + "|")
            out += ["| " + " | ".join(_md(c) or " " for c in r) + " |" for r in block.rows]
            out.append("")
    return out


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """Amounts in one currency: $1,234.56 for USD, the code for a currency without a symbol."""

    currency: str

    def __call__(self, amount: float | None, signed: bool = False) -> str:
        if amount is None:
            return "-"
        symbol = SYMBOLS.get(self.currency, f"{self.currency} ")
        sign = "-" if round(amount, 2) < 0 else ("+" if signed else "")
        return f"{sign}{symbol}{abs(amount):,.2f}"


def percent(share: float | None, signed: bool = False) -> str:
    if share is None:
        return "-"
    return f"{share * 100:+.1f}%" if signed else f"{share * 100:.1f}%"


def bar(value: float, largest: float) -> str:
    if largest <= 0 or value <= 0:
        return ""
    filled = value / largest * BAR_WIDTH
    return "█" * int(filled) + ("▌" if filled - int(filled) >= 0.5 else "")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def clip(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def sentence(text: str | None) -> str:
    text = (text or "").strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def ratio(part: float | None, whole: float | None) -> float | None:
    return (part or 0.0) / whole if whole else None


# --------------------------------------------------------------------------------------------
# The sections: each reads its marts into a dict (the JSON) and lays that dict out as blocks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What every section is laid out for: one period and one currency."""

    period: str
    previous: str | None  # the calendar month before, when the marts hold it
    currency: str

    @property
    def money(self) -> Money:
        return Money(self.currency)


@dataclass(frozen=True)
class Scope(View):
    """What every section reads for: a view of one database."""

    con: duckdb.DuckDBPyConnection

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, whose first two parameters are the period and the currency; decimals as
        floats (a mart may sum in DECIMAL: the JSON's numbers are plain numbers either way)."""
        rows = self.con.execute(sql, [self.period, self.currency, *params]).fetchall()
        return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


Collect = Callable[[Scope], dict[str, Any]]
Layout = Callable[[dict[str, Any], View], list[Block]]


@dataclass(frozen=True)
class Section:
    key: str  # its key in the JSON
    marts: tuple[str, ...]  # the marts it reads (checked before anything is printed)
    collect: Collect
    layout: Layout


def collect_total(scope: Scope) -> dict[str, Any]:
    months = scope.rows(
        f"""select billing_period, sum(effective_cost), sum(billed_cost) from {BY_TEAM}
            where billing_period <= ? and billing_currency = ? group by billing_period
            order by billing_period desc limit {TREND_MONTHS}"""
    )[::-1]
    trend: list[dict[str, Any]] = []
    for period, effective, billed in months:
        before = trend[-1] if trend and trend[-1]["billing_period"] == previous_period(period) else None
        trend.append(
            {
                "billing_period": period,
                "effective_cost": effective,
                "billed_cost": billed,
                "change": effective - before["effective_cost"] if before else None,
            }
        )
    current = trend[-1] if trend and trend[-1]["billing_period"] == scope.period else None
    previous = trend[-2]["effective_cost"] if current and current["change"] is not None else None
    return {
        "effective_cost": current["effective_cost"] if current else 0.0,
        "billed_cost": current["billed_cost"] if current else 0.0,
        "previous_effective_cost": previous,
        "change": current["change"] if current else None,
        "change_share": ratio(current["change"], previous) if current and previous else None,
        "trend": trend,
    }


def layout_total(data: dict[str, Any], view: View) -> list[Block]:
    money = view.money
    headline = (
        f"SageMaker cost {money(data['effective_cost'])} in {view.period} (effective: after the Savings Plan, "
        f"credits and refunds; billed {money(data['billed_cost'])})"
    )
    if data["change"] is None:
        headline += f"; no {previous_period(view.period)} in the marts to compare with."
    else:
        headline += (
            f": {money(data['change'], signed=True)} ({percent(data['change_share'], signed=True)}) on {view.previous}."
        )
    largest = max((m["effective_cost"] for m in data["trend"]), default=0.0)
    rows = [
        (
            m["billing_period"],
            money(m["effective_cost"]),
            money(m["billed_cost"]),
            money(m["change"], signed=True) if m["change"] is not None else "",
            bar(m["effective_cost"], largest),
        )
        for m in data["trend"]
    ]
    return [Line(headline), Table(("month", "effective", "billed", "change", ""), rows, "lrrrl")]


def _driver(row: dict[str, Any]) -> tuple[str, float]:
    """The component that pushed hardest in the direction of the change (a team that grew although
    its volume fell grew because of something else), with its change."""
    moved = [(c, row["components"][c] or 0.0) for c in COMPONENTS]
    along = [(c, v) for c, v in moved if v * (row["cost_change"] or 0.0) > 0]
    return max(along or moved, key=lambda kv: abs(kv[1]))


def collect_growth(scope: Scope) -> dict[str, Any]:
    if scope.previous is None:
        return {"previous_billing_period": None, "cost_change": None, "by_team": None, "by_model": None}
    rows = scope.rows(
        f"""select dimension, dimension_value, team, change_type, previous_cost, current_cost, cost_change,
                   {", ".join(f"{c}_change" for c in COMPONENTS)}
            from {CHANGE} where billing_period = ? and billing_currency = ?
            order by abs(cost_change) desc, dimension_value"""
    )
    if not rows:  # a build whose change mart lacks the period (or the currency): say so, invent nothing
        return {"previous_billing_period": scope.previous, "cost_change": None, "by_team": None, "by_model": None}
    data: dict[str, Any] = {"previous_billing_period": scope.previous}
    for dimension in ("team", "model"):
        drivers = []
        moved = (r for r in rows if r[0] == dimension and r[3] != "unchanged")
        for _, name, team, change_type, before, now, change, *components in moved:
            row = {
                "name": name,
                "team": team,
                "change_type": change_type,
                "previous_cost": before,
                "current_cost": now,
                "cost_change": change,
                "components": dict(zip(COMPONENTS, components, strict=True)),
            }
            row["driver"], row["driver_change"] = _driver(row)
            drivers.append(row)
        shown, rest = drivers[:TOP_DRIVERS], drivers[TOP_DRIVERS:]
        data[f"by_{dimension}"] = {
            "drivers": shown,
            "others_count": len(rest),
            "others_change": sum(r["cost_change"] or 0.0 for r in rest),
        }
        if dimension == "team":
            data["cost_change"] = sum(r["cost_change"] or 0.0 for r in drivers)
    return data


def layout_growth(data: dict[str, Any], view: View) -> list[Block]:
    money = view.money
    if data["previous_billing_period"] is None:
        return [
            Heading("Why it changed"),
            Line(f"No growth figures: the marts hold no {previous_period(view.period)} to compare {view.period} with."),
        ]
    if data["cost_change"] is None:
        return [
            Heading("Why it changed"),
            Line(f"No growth figures: {CHANGE} holds no {view.period} in {view.currency} (rebuild it: `dbt build`)."),
        ]
    blocks: list[Block] = [
        Heading(
            f"Why it changed: {money(data['cost_change'], signed=True)} on {data['previous_billing_period']}, "
            "the biggest movers"
        )
    ]
    for dimension, label in (("team", "team"), ("model", "model / team")):
        part = data[f"by_{dimension}"]
        rows = []
        for d in part["drivers"]:
            name = d["name"] if dimension == "team" else f"{d['name']} / {d['team']}"
            reason = f"{d['change_type']}: {COMPONENT_LABELS[d['driver']]} {money(d['driver_change'], signed=True)}"
            rows.append((clip(name, 34), money(d["current_cost"]), money(d["cost_change"], signed=True), reason))
        if part["others_count"]:
            rows.append((f"{part['others_count']} more", "", money(part["others_change"], signed=True), ""))
        if rows:
            blocks.append(Table((label, view.period, "change", "why"), rows, "lrrl"))
    if len(blocks) == 1:
        blocks.append(Line(f"No team or model cost changed in {view.period}."))
    return blocks


FORGOTTEN_FIELDS = ("endpoint_name", "model", "team", "environment", "age_days", "idle_days", "effective_cost")
ALWAYS_ON_FIELDS = ("resource_name", "resource_type", "instance_type", "team", "environment", "effective_cost")
NOTEBOOK_FIELDS = (
    "notebook_cost",
    "out_of_hours_cost",  # evenings and weekends: what stopping them outside working hours saves
    "after_hours_cost",
    "weekend_cost",
    "always_on_count",
    "always_on_cost",
    "never_tagged_count",
    "never_tagged_cost",
)


def collect_idle(scope: Scope) -> dict[str, Any]:
    endpoint_cost, idle, unknown = scope.rows(
        f"""select coalesce(sum(effective_cost), 0), coalesce(sum(idle_cost), 0), coalesce(sum(unknown_cost), 0)
            from {ENDPOINT_IDLE} where billing_period = ? and billing_currency = ?"""
    )[0]
    (total,) = scope.rows(
        f"select sum(effective_cost) from {BY_TEAM} where billing_period = ? and billing_currency = ?"
    )[0]
    forgotten = [
        dict(zip(FORGOTTEN_FIELDS, r, strict=True))
        for r in scope.rows(
            f"""select endpoint_name, min(model), min(team), min(environment), max(age_days), max(idle_days),
                       sum(effective_cost)
                from {ENDPOINT_IDLE} where billing_period = ? and billing_currency = ? and is_forgotten
                group by endpoint_arn, endpoint_name order by sum(effective_cost) desc, endpoint_name"""
        )
    ]
    notebooks = dict(
        zip(
            NOTEBOOK_FIELDS,
            scope.rows(
                f"""select coalesce(sum(effective_cost), 0), coalesce(sum(out_of_hours_saving), 0),
                           coalesce(sum(after_hours_cost), 0), coalesce(sum(weekend_cost), 0),
                           count(*) filter (where is_always_on),
                           coalesce(sum(effective_cost) filter (where is_always_on), 0),
                           count(*) filter (where is_never_tagged),
                           coalesce(sum(effective_cost) filter (where is_never_tagged), 0)
                    from {NOTEBOOK_HOURS} where billing_period = ? and billing_currency = ?"""
            )[0],
            strict=True,
        )
    )
    always_on = scope.rows(
        f"""select {", ".join(ALWAYS_ON_FIELDS)} from {NOTEBOOK_HOURS}
            where billing_period = ? and billing_currency = ? and is_always_on
            order by effective_cost desc, resource_name limit {TOP_ALWAYS_ON}"""
    )
    # Endpoints' idle hours and notebooks' hours out of working hours: never the same dollar.
    waste = idle + notebooks["out_of_hours_cost"]
    return {
        "waste_cost": waste,
        "waste_share": ratio(waste, total),
        "endpoint_cost": endpoint_cost,
        "idle_cost": idle,
        "idle_share": ratio(idle, endpoint_cost),
        "idle_share_of_total": ratio(idle, total),
        "unknown_cost": unknown,
        "forgotten_cost": sum(f["effective_cost"] or 0.0 for f in forgotten),
        "forgotten_count": len(forgotten),
        "forgotten": forgotten[:TOP_FORGOTTEN],
        **notebooks,
        "always_on": [dict(zip(ALWAYS_ON_FIELDS, r, strict=True)) for r in always_on],
    }


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} d"


def layout_idle(data: dict[str, Any], view: View) -> list[Block]:
    money = view.money
    blocks: list[Block] = [
        Heading(
            f"Idle and forgotten: {money(data['waste_cost'])} ({percent(data['waste_share'])} of the bill) in idle "
            "endpoints and notebooks out of hours"
        ),
        Line(
            f"Endpoint capacity idle (billed hours without an invocation): {money(data['idle_cost'])}, "
            f"{percent(data['idle_share'])} of their {money(data['endpoint_cost'])} and "
            f"{percent(data['idle_share_of_total'])} of the bill; {money(data['unknown_cost'])} more had no metrics "
            "(unknown, not counted as idle)."
        ),
    ]
    if data["forgotten_count"]:
        blocks.append(
            Line(
                f"{plural(data['forgotten_count'], 'forgotten endpoint')} (still running, no invocation for days) "
                f"cost {money(data['forgotten_cost'])}:"
            )
        )
        rows = [
            (
                clip(f["endpoint_name"], 34),
                clip(f["team"], 14),
                clip(f["environment"], 12),
                _days(f["age_days"]),
                _days(f["idle_days"]),
                money(f["effective_cost"]),
            )
            for f in data["forgotten"]
        ]
        if data["forgotten_count"] > len(rows):
            rows.append((f"{data['forgotten_count'] - len(rows)} more", "", "", "", "", ""))
        blocks.append(Table(("endpoint", "team", "environment", "age", "idle", view.period), rows, "lllrrr"))
    else:
        blocks.append(Line("No forgotten endpoints."))
    always_on = ", ".join(f"{a['resource_name']} ({a['instance_type']}, {a['team']})" for a in data["always_on"])
    if data["always_on_count"] > len(data["always_on"]):
        always_on += f" and {data['always_on_count'] - len(data['always_on'])} more"
    blocks.append(
        Line(
            f"Notebooks and Studio apps: {money(data['out_of_hours_cost'])} of {money(data['notebook_cost'])} billed "
            f"outside working hours (evenings {money(data['after_hours_cost'])}, weekends "
            f"{money(data['weekend_cost'])}): what stopping them then saves. "
            + (
                f"{plural(data['always_on_count'], 'ran', 'ran')} 24/7, {money(data['always_on_cost'])}: {always_on}."
                if data["always_on_count"]
                else "None ran 24/7."
            )
        )
    )
    return blocks


def collect_fully_loaded(scope: Scope) -> dict[str, Any]:
    line, neighbours, unowned = scope.rows(
        f"""select coalesce(sum(effective_cost) filter (where is_sagemaker_line), 0),
                   coalesce(sum(effective_cost) filter (where not is_sagemaker_line), 0),
                   coalesce(sum(effective_cost) filter (where not is_sagemaker_line and model = 'unattributed'), 0)
            from {MODEL_FULLY_LOADED} where billing_period = ? and billing_currency = ?"""
    )[0]
    models = scope.rows(
        f"""select model, max(model_sagemaker_line_cost), max(model_neighbour_cost), max(hidden_cost_share)
            from {MODEL_FULLY_LOADED} where billing_period = ? and billing_currency = ?
              and model not in ('unattributed', '__idle__')
            group by model order by max(model_neighbour_cost) desc, model limit {TOP_MODELS}"""
    )
    return {
        "sagemaker_line_cost": line,
        "neighbour_cost": neighbours,
        "hidden_share": ratio(neighbours, line),
        "unowned_neighbour_cost": unowned,
        "models": [
            dict(zip(("model", "sagemaker_line_cost", "neighbour_cost", "hidden_share"), m, strict=True))
            for m in models
        ],
    }


def layout_fully_loaded(data: dict[str, Any], view: View) -> list[Block]:
    money = view.money
    blocks: list[Block] = [
        Heading("Hidden cost: what SageMaker work costs outside the SageMaker line"),
        Line(
            f"{money(data['neighbour_cost'])} in S3, ECR, CloudWatch, data transfer and storage, "
            f"{percent(data['hidden_share'])} on top of the SageMaker line ({money(data['unowned_neighbour_cost'])} "
            "of it without an owning model)."
        ),
    ]
    if data["models"]:
        rows = [
            (
                clip(m["model"], 34),
                money(m["sagemaker_line_cost"]),
                money(m["neighbour_cost"]),
                percent(m["hidden_share"]),
            )
            for m in data["models"]
        ]
        blocks.append(Table(("model", "SageMaker line", "hidden", "share"), rows, "lrrr"))
    return blocks


def collect_tag_coverage(scope: Scope) -> dict[str, Any]:
    # dimension = 'team': each key's rows hold the whole taggable spend, so one key's rows count it once.
    taggable, all_tags = scope.rows(
        f"""select coalesce(sum(taggable_cost), 0), coalesce(sum(all_bill_tags_cost), 0)
            from {COVERAGE} where billing_period = ? and billing_currency = ? and dimension = 'team'"""
    )[0]
    keys = scope.rows(
        f"""select tag_key, sum(bill_tag_cost), sum(api_tag_only_cost), sum(inferred_cost), sum(missing_cost),
                   sum(bill_tag_cost) / nullif(sum(taggable_cost), 0)
            from {COVERAGE} where billing_period = ? and billing_currency = ?
            group by tag_key order by min(dimension = 'team') desc, tag_key"""
    )
    teams = scope.rows(
        f"""select team, sum(taggable_cost), sum(taggable_cost) - sum(all_bill_tags_cost)
            from {COVERAGE} where billing_period = ? and billing_currency = ? and dimension = 'team'
            group by team having sum(taggable_cost) - sum(all_bill_tags_cost) > 0.005
            order by 3 desc, team limit {TOP_TEAMS}"""
    )
    gap = taggable - all_tags
    return {
        "taggable_cost": taggable,
        "all_bill_tags_cost": all_tags,
        "gap_cost": gap,
        "gap_share": ratio(gap, taggable),
        "by_key": [
            dict(
                zip(
                    (
                        "tag_key",
                        "bill_tag_cost",
                        "api_tag_only_cost",
                        "inferred_cost",
                        "missing_cost",
                        "bill_tag_share",
                    ),
                    k,
                    strict=True,
                )
            )
            for k in keys
        ],
        "teams": [{"team": t, "taggable_cost": c, "gap_cost": g, "gap_share": ratio(g, c)} for t, c, g in teams],
    }


def layout_tag_coverage(data: dict[str, Any], view: View) -> list[Block]:
    money = view.money
    blocks: list[Block] = [
        Heading("Tag coverage gap"),
        Line(
            f"{money(data['gap_cost'])} of {money(data['taggable_cost'])} taggable spend "
            f"({percent(data['gap_share'])}) lacks one of the four attribution tags in the bill"
            + (
                "; most of it in " + ", ".join(f"{t['team']} {money(t['gap_cost'])}" for t in data["teams"]) + "."
                if data["teams"]
                else "."
            )
        ),
    ]
    if data["by_key"]:
        blocks.append(
            Line(
                "Each key's share of taggable spend in the bill: "
                + ", ".join(f"{k['tag_key']} {percent(k['bill_tag_share'])}" for k in data["by_key"])
                + "."
            )
        )
    return blocks


ACTION_FIELDS = (
    "saving_rank",
    "opportunity_type",
    "resource_type",
    "resource_arn",
    "resource_name",
    "team",
    "model",
    "environment",
    "current_cost",
    "monthly_saving",
    "confidence",
    "evidence",
    "action",
)


def collect_actions(scope: Scope) -> dict[str, Any]:
    count, saving = scope.rows(
        f"""select count(*), coalesce(sum(monthly_saving), 0) from {OPPORTUNITIES}
            where billing_period = ? and billing_currency = ?"""
    )[0]
    items = [
        dict(zip(ACTION_FIELDS, i, strict=True))
        for i in scope.rows(
            f"""select {", ".join(ACTION_FIELDS)} from {OPPORTUNITIES}
                where billing_period = ? and billing_currency = ? order by saving_rank limit {TOP_ACTIONS}"""
        )
    ]
    # The mart counts no dollar twice (an idle endpoint's saving is not also its rightsizing's): sums hold.
    return {
        "opportunity_count": count,
        "monthly_saving": saving,
        "items_monthly_saving": sum(i["monthly_saving"] or 0.0 for i in items),
        "items": items,
    }


def layout_actions(data: dict[str, Any], view: View) -> list[Block]:
    money = view.money
    if not data["items"]:
        return [Heading("Top actions"), Line("No savings opportunities found.")]
    blocks: list[Block] = [
        Heading(
            f"Top {len(data['items'])} actions, {money(data['items_monthly_saving'])} a month "
            f"(all {data['opportunity_count']} opportunities: {money(data['monthly_saving'])})"
        )
    ]
    for a in data["items"]:
        owner = ", ".join(x for x in (a["team"], a["environment"]) if x)
        head = (
            f"{money(a['monthly_saving'])} a month, {a['opportunity_type'].replace('_', ' ')}: "
            f"{a['resource_name'] or a['resource_type']} ({owner})"
        )
        body = f"{sentence(a['action'])} {sentence(a['evidence'])} ({a['confidence']} confidence)"
        blocks.append(Item(a["saving_rank"], head, body))
    return blocks


SECTIONS: tuple[Section, ...] = (
    Section("total", (BY_TEAM,), collect_total, layout_total),
    Section("growth", (CHANGE,), collect_growth, layout_growth),
    Section("idle", (ENDPOINT_IDLE, NOTEBOOK_HOURS, BY_TEAM), collect_idle, layout_idle),
    Section("fully_loaded", (MODEL_FULLY_LOADED,), collect_fully_loaded, layout_fully_loaded),
    Section("tag_coverage", (COVERAGE,), collect_tag_coverage, layout_tag_coverage),
    Section("actions", (OPPORTUNITIES,), collect_actions, layout_actions),
)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


class ExplainError(Exception):
    """A problem the user can fix; the message says how."""


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def missing_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    wanted = sorted({m for s in SECTIONS for m in s.marts})
    present = {
        name
        for (name,) in con.execute(
            f"select table_name from information_schema.tables where table_name in ({', '.join('?' * len(wanted))})",
            wanted,
        ).fetchall()
    }
    return [m for m in wanted if m not in present]


def explain(con: duckdb.DuckDBPyConnection, period: str | None = None, database: str = "") -> dict[str, Any]:
    """The report as one dict (the JSON); raises ExplainError when the marts cannot answer."""
    missing = missing_marts(con)
    if missing:
        raise ExplainError(
            f"{database} has no {', '.join(missing)} (built by an older version of the models): "
            "run `dbt build --target local` (or `make demo`, `smcost pipeline`)"
        )
    periods = [p for (p,) in con.execute(f"select distinct billing_period from {BY_TEAM} order by 1").fetchall()]
    if not periods:
        raise ExplainError(f"{database} holds no billing period: run `make demo` or `smcost pipeline` first")
    period = period or periods[-1]
    if period not in periods:
        raise ExplainError(f"no billing period {period} in {database}; the marts hold {', '.join(periods)}")
    previous = previous_period(period) if previous_period(period) in periods else None
    currencies = [
        c
        for (c,) in con.execute(
            f"select distinct billing_currency from {BY_TEAM} where billing_period = ? order by 1", [period]
        ).fetchall()
    ]
    report: dict[str, Any] = {
        "billing_period": period,
        "previous_billing_period": previous,
        "periods_available": periods,
        "database": database,
        "currencies": [],
    }
    for currency in currencies:
        scope = Scope(period, previous, currency, con)
        entry: dict[str, Any] = {"billing_currency": currency}
        for section in SECTIONS:
            entry[section.key] = section.collect(scope)
        report["currencies"].append(entry)
    return report


def blocks_of(report: dict[str, Any]) -> Iterable[tuple[str, list[Block]]]:
    """Per currency: its title and the blocks of every section."""
    for entry in report["currencies"]:
        view = View(report["billing_period"], report["previous_billing_period"], entry["billing_currency"])
        blocks: list[Block] = []
        for section in SECTIONS:
            blocks += section.layout(entry[section.key], view)
        yield f"SageMaker bill explained: {report['billing_period']} ({entry['billing_currency']})", blocks


def footer(quote: str = "") -> str:
    return f"Every mover and opportunity: {quote}{CHANGE}{quote}, {quote}{OPPORTUNITIES}{quote}"


def to_text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for title, blocks in blocks_of(report):
        body = render_text(blocks)
        while body and not body[0]:  # no blank line under the title
            body.pop(0)
        lines += [title, "=" * len(title), *body, ""]
    lines += textwrap.wrap(footer(), WIDTH, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines)


def to_markdown(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for title, blocks in blocks_of(report):
        lines += [f"## {title}", "", *render_markdown(blocks)]
    lines += ["", footer("`")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")


def _period(text: str) -> str:
    if not _PERIOD.fullmatch(text):
        raise argparse.ArgumentTypeError(f"must be YYYY-MM with month 01-12 and year 2000-2099, got {text!r}")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period", type=_period, help="billing period to explain, YYYY-MM (default: the latest in the marts)"
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (the terminal, default), markdown (a PR, Slack, a wiki) or json (automation; shape above)",
    )
    parser.add_argument("--database", default="data/smcost.duckdb", help="DuckDB file (default: %(default)s)")
    parser.epilog = "Example: smcost explain --period 2026-09 --format markdown > bill-2026-09.md"


def run(args: argparse.Namespace) -> int:
    path = Path(args.database)
    try:
        con = connect_marts(path)
    except MartsUnavailable as exc:
        print(f"smcost explain: {exc}", file=sys.stderr)
        return 2
    with con:
        try:
            report = explain(con, args.period, str(path))
            if args.format == "json":
                text = json.dumps(report, indent=2)
            elif args.format == "markdown":
                text = to_markdown(report)
            else:
                text = to_text(report)
        except ExplainError as exc:
            print(f"smcost explain: {exc}", file=sys.stderr)
            return 2
        except duckdb.Error as exc:  # e.g. a mart from another version of the models
            print(
                f"smcost explain: cannot read the marts in {path}: {first_line(exc)}. "
                "Rebuild with `dbt build --target local`.",
                file=sys.stderr,
            )
            return 2
    print(text.rstrip("\n"))  # a closed pipe (smcost explain | head -1) is cli.main's to handle
    return 0
