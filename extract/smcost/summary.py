"""Print what the marts say about the SageMaker bill: the answer to "explain this".

Reads the DuckDB file that `dbt build --target local` wrote (default data/smcost.duckdb): totals
per billing period, the top models and teams, the unattributed share and why, how the
multi-model endpoints were split, and how much of the spend carried complete tags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

BAR_WIDTH = 28


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default="data/smcost.duckdb", help="DuckDB file (default: %(default)s)")
    parser.add_argument("--top", type=int, default=8, help="rows in the top-N tables (default: %(default)s)")


def _bar(value: float, largest: float) -> str:
    if largest <= 0 or value <= 0:
        return ""
    filled = value / largest * BAR_WIDTH
    return "█" * int(filled) + ("▌" if filled - int(filled) >= 0.5 else "")


def _table(title: str, rows: list[tuple], total: float) -> list[str]:
    out = [title]
    largest = max((r[-1] for r in rows), default=0)
    for *labels, cost in rows:
        label = " / ".join(str(x) for x in labels)
        share = cost / total * 100 if total else 0
        out.append(f"  {label:<38} {cost:>12,.2f}  {share:5.1f}%  {_bar(cost, largest)}")
    return out


def render(con: duckdb.DuckDBPyConnection, top: int = 8) -> str:
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731 - tiny local helper
    lines = ["", "SageMaker cost attribution — summary", "=" * 37]
    periods = q("""
        select billing_period, billing_currency, sum(billed_cost), sum(effective_cost), sum(list_cost)
        from fct_sagemaker_cost_allocations group by all order by 1
    """)
    total = sum(p[3] for p in periods)
    lines.append("Bill (SageMaker scope, incl. ML Savings Plan)      billed      effective         list")
    for period, currency, billed, effective, listed in periods:
        lines.append(f"  {period} ({currency})                          {billed:>12,.2f} {effective:>14,.2f} {listed:>12,.2f}")
    staged = q("select sum(effective_cost) from stg_focus__charges where is_sagemaker")[0][0] or 0.0
    lines.append(f"  reconciles to the staged bill: {'yes' if abs(staged - total) < 1e-6 else 'NO'} "
                 f"(difference {abs(staged - total):.6f})")
    lines.append("")
    lines += _table("Top models (effective cost)", q(f"""
        select model, team, sum(effective_cost) c from fct_sagemaker_cost_allocations
        where model not in ('unattributed') group by all order by c desc limit {top}"""), total)
    lines.append("")
    lines += _table("Teams", q(f"""
        select team, sum(effective_cost) c from fct_sagemaker_cost_allocations
        group by all order by c desc limit {top}"""), total)
    lines.append("")
    lines += _table("By category", q(f"""
        select sagemaker_category, sum(effective_cost) c from fct_sagemaker_cost_allocations
        group by all order by c desc limit {top}"""), total)
    lines.append("")
    unattributed = q("""
        select coalesce(unattributed_reason, 'attributed'), sum(effective_cost) c
        from fct_sagemaker_cost_allocations group by all order by c desc""")
    unattributed_total = sum(c for reason, c in unattributed if reason != "attributed")
    lines += _table(f"Unattributed (model or team): {unattributed_total:,.2f} "
                    f"({unattributed_total / total * 100 if total else 0:.1f}% of effective cost), by reason",
                    [r for r in unattributed if r[0] != "attributed"], total)
    mme = q("""
        select resource_name, model, sum(effective_cost) c from fct_sagemaker_cost_allocations
        where endpoint_mode = 'multi_model' group by all order by 1, c desc""")
    if mme:
        lines.append("")
        lines += _table("Multi-model endpoint split (by invocations; __idle__ = hours without traffic)",
                        [(r[0], r[1], r[2]) for r in mme], sum(r[2] for r in mme))
    tagged = q("""
        select sum(effective_cost) filter (where tag_team is not null and tag_model is not null
                                           and tag_experiment is not null and tag_environment is not null),
               sum(effective_cost)
        from int_sagemaker_charges_classified""")[0]
    if tagged[1]:
        lines.append("")
        lines.append(f"Tag coverage: {(tagged[0] or 0) / tagged[1] * 100:.1f}% of SageMaker effective cost carries "
                     "all four attribution tags in the bill")
    lines.append("")
    lines.append("Query the marts: duckdb data/smcost.duckdb \"select * from fct_sagemaker_cost_by_model_monthly\"")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    path = Path(args.database)
    if not path.exists():
        print(f"smcost summary: {path} does not exist. Build it first: `make demo` or "
              "`dbt build --target local`.", file=sys.stderr)
        return 2
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            print(render(con, args.top))
        except duckdb.CatalogException as exc:
            print(f"smcost summary: the marts are missing from {path} ({exc}). Run `dbt build --target local`.",
                  file=sys.stderr)
            return 2
    return 0
