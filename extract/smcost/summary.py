"""Print what the marts say about the SageMaker bill: the answer to "explain this".

Reads the DuckDB file that `dbt build --target local` wrote (default data/smcost.duckdb): totals
per billing period, the top models and teams, the unattributed share and why, how the
multi-model endpoints were split, and how much of the spend carried complete tags.

It reads the public marts only (the exposure smcost_summary_cli in models/marts/sagemaker/_exposures.yml):
the allocation fact, fct_sagemaker_bill_reconciliation (the staged bill's totals), the governance
marts and the fully-loaded marts (what each model costs once S3, ECR, CloudWatch and the rest are added).

The reconciliation line compares like with like: per billing period and currency, the allocation
fact against the staged bill's totals, for the periods the last build staged. An incremental build
stages only its lookback window (the fact keeps older periods from earlier builds), so the line
names the periods it checked and those it did not; the tag coverage covers the same periods.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from smcost.marts import MartsUnavailable, connect_marts, first_line

BAR_WIDTH = 28
TOLERANCE = 1e-6  # the build's reconciliation test uses the same bound
FACT = "fct_sagemaker_cost_allocations"
STAGED = "fct_sagemaker_bill_reconciliation"  # one row per period, payer and currency the last build staged
COVERAGE = "fct_sagemaker_tag_coverage_monthly"  # the governance marts (models/marts/governance)
UNTAGGED = "fct_sagemaker_untagged_resources"
# The fully-loaded marts (models/marts/fully_loaded): the SageMaker line plus the neighbours it causes.
FULLY_LOADED = "fct_sagemaker_fully_loaded_cost"
MODEL_FULLY_LOADED = "fct_model_fully_loaded_cost_monthly"
ENDPOINT_FULLY_LOADED = "fct_endpoint_fully_loaded_cost_monthly"
STALE = "fct_sagemaker_stale_artifacts"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of rows, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default="data/smcost.duckdb", help="DuckDB file (default: %(default)s)")
    parser.add_argument(
        "--top", type=_positive_int, default=8, help="rows in the top-N tables, at least 1 (default: %(default)s)"
    )


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


def reconciliation(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The reconciliation lines: the fact against the staged bill, per billing period and currency,
    for exactly the periods the last build staged; billed, effective and list."""
    totals = "sum(billed_cost), sum(effective_cost), sum(list_cost)"
    staged_periods = [
        p
        for (p,) in con.execute(
            f"select distinct billing_period from {STAGED} where billing_period is not null order by 1"
        ).fetchall()
    ]
    staged = {
        (p, c): v
        for p, c, *v in con.execute(
            f"select billing_period, billing_currency, {totals} from {STAGED} group by all"
        ).fetchall()
    }
    allocated = {
        (p, c): v
        for p, c, *v in con.execute(
            f"select billing_period, billing_currency, {totals} from {FACT} "
            f"where billing_period in (select billing_period from {STAGED}) group by all"
        ).fetchall()
    }
    others = [
        p
        for (p,) in con.execute(
            f"select distinct billing_period from {FACT} "
            f"where billing_period not in (select billing_period from {STAGED} where billing_period is not null) "
            "order by 1"
        ).fetchall()
    ]
    if not staged_periods:
        return [f"  reconciles to the staged bill: NOT CHECKED ({STAGED} holds no billing period)"]
    differences: dict[str, float] = {}
    for key in staged.keys() | allocated.keys():
        pairs = zip(staged.get(key, (0.0, 0.0, 0.0)), allocated.get(key, (0.0, 0.0, 0.0)), strict=True)
        gap = max(abs((a or 0.0) - (b or 0.0)) for a, b in pairs)
        differences[key[0]] = max(differences.get(key[0], 0.0), gap)
    largest = max(differences.values(), default=0.0)
    off = [p for p in staged_periods if differences.get(p, 0.0) >= TOLERANCE]
    checked = ", ".join(staged_periods)
    if off:
        lines = [
            f"  reconciles to the staged bill: NO for {', '.join(off)} (checked {checked}; "
            f"largest difference {largest:.6f})"
        ]
    else:
        lines = [f"  reconciles to the staged bill: yes, for {checked} (difference {largest:.6f})"]
    if others:
        lines.append(
            f"  not checked here: {', '.join(others)} (kept from an earlier build; the last build "
            "staged only the periods above)"
        )
    return lines


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
        lines.append(
            f"  {period} ({currency})                          {billed:>12,.2f} {effective:>14,.2f} {listed:>12,.2f}"
        )
    lines += reconciliation(con)
    lines.append("")
    lines += _table(
        "Top models (effective cost)",
        q(f"""
        select model, team, sum(effective_cost) c from fct_sagemaker_cost_allocations
        where model not in ('unattributed') group by all order by c desc limit {top}"""),
        total,
    )
    lines.append("")
    lines += _table(
        "Teams",
        q(f"""
        select team, sum(effective_cost) c from fct_sagemaker_cost_allocations
        group by all order by c desc limit {top}"""),
        total,
    )
    lines.append("")
    lines += _table(
        "By category",
        q(f"""
        select sagemaker_category, sum(effective_cost) c from fct_sagemaker_cost_allocations
        group by all order by c desc limit {top}"""),
        total,
    )
    lines.append("")
    unattributed = q("""
        select coalesce(unattributed_reason, 'attributed'), sum(effective_cost) c
        from fct_sagemaker_cost_allocations group by all order by c desc""")
    unattributed_total = sum(c for reason, c in unattributed if reason != "attributed")
    lines += _table(
        f"Unattributed (model or team): {unattributed_total:,.2f} "
        f"({unattributed_total / total * 100 if total else 0:.1f}% of effective cost), by reason",
        [r for r in unattributed if r[0] != "attributed"],
        total,
    )
    mme = q("""
        select resource_name, model, sum(effective_cost) c from fct_sagemaker_cost_allocations
        where endpoint_mode = 'multi_model' group by all order by 1, c desc""")
    if mme:
        lines.append("")
        lines += _table(
            "Multi-model endpoint split (by invocations; __idle__ = hours without traffic)",
            [(r[0], r[1], r[2]) for r in mme],
            sum(r[2] for r in mme),
        )
        unmapped = sum(r[2] for r in mme if str(r[1]).startswith("unmapped:"))
        if unmapped:
            lines.append(
                f"  unmapped:<value> ({unmapped:,.2f}): a metric value no artifact key or "
                "seeds/multi_model_target_aliases.csv row names; add a row and rebuild"
            )
    tagged = q(f"""
        select sum(effective_cost) filter (where has_all_bill_tags), sum(effective_cost),
               string_agg(distinct billing_period, ', ' order by billing_period)
        from {FACT} where billing_period in (select billing_period from {STAGED})""")[0]
    if tagged[1]:
        # The periods the last build staged, as in the reconciliation line: maybe fewer than the fact's.
        scope = "" if set(tagged[2].split(", ")) == {p[0] for p in periods} else f" ({tagged[2]})"
        lines.append("")
        lines.append(
            f"Tag coverage{scope}: {(tagged[0] or 0) / tagged[1] * 100:.1f}% of SageMaker effective cost "
            "carries all four attribution tags in the bill"
        )
    lines += governance(con, top)
    lines += fully_loaded(con, top)
    lines.append("")
    lines.append('Query the marts: duckdb data/smcost.duckdb "select * from fct_sagemaker_cost_by_model_monthly"')
    return "\n".join(lines)


def governance(con: duckdb.DuckDBPyConnection, top: int = 8) -> list[str]:
    """Coverage by team and by key source, and the top untagged resources by cost, from the
    governance marts, for the periods the last build staged (the untagged ranking: the latest)."""
    present = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_name in (?, ?)", [COVERAGE, UNTAGGED]
        ).fetchall()
    }
    if present != {COVERAGE, UNTAGGED}:
        return ["", "Governance: the coverage marts are not built yet (`dbt build --target local`)"]
    staged = f"billing_period in (select billing_period from {STAGED})"
    sources = con.execute(f"""
        select sum(bill_tag_cost), sum(api_tag_only_cost), sum(inferred_cost), sum(missing_cost),
               sum(taggable_cost), sum(untaggable_cost) / 4  -- the same charges on each key's rows
        from {COVERAGE} where {staged}""").fetchone()
    if not sources or not sources[4]:
        return ["", "Governance: no taggable spend in the periods the last build staged"]
    bill, api, inferred, missing, taggable, untaggable = (v or 0.0 for v in sources)
    lines = [
        "",
        "Tag coverage by source ($-weighted, the four keys together; untaggable "
        f"{untaggable:,.2f} excluded): bill {bill / taggable * 100:.1f}%, API only {api / taggable * 100:.1f}%, "
        f"inferred {inferred / taggable * 100:.1f}%, missing {missing / taggable * 100:.1f}%",
    ]
    teams = con.execute(f"""
        select team, sum(taggable_cost) / 4 as taggable,
               sum(all_bill_tags_cost) / 4 / nullif(sum(taggable_cost) / 4, 0) as all_four,
               sum(bill_tag_cost) / nullif(sum(taggable_cost), 0) as keys_in_bill
        from {COVERAGE} where {staged} group by team having sum(taggable_cost) <> 0
        order by taggable desc limit {top}""").fetchall()
    lines.append(f"Coverage by team{'':<24}   taggable  all 4 in bill  keys in bill")
    for team, team_taggable, all_four, keys_in_bill in teams:
        lines.append(
            f"  {team:<38} {team_taggable:>12,.2f}  {(all_four or 0) * 100:12.1f}%  {(keys_in_bill or 0) * 100:11.1f}%"
        )
    latest = con.execute(f"select max(billing_period) from {UNTAGGED} where {staged}").fetchone()
    if latest and latest[0]:
        resources = con.execute(
            f"""select resource_name, resource_type, effective_cost,
                       coalesce(missing_keys, '-'), coalesce(inferred_keys, '-'), fix_owner_team
                from {UNTAGGED} where billing_period = ? order by billing_currency, cost_rank limit {top}""",
            [latest[0]],
        ).fetchall()
        lines.append("")
        lines.append(f"Top untagged resources by cost, {latest[0]} (missing keys | only inferred | fix owner)")
        for name, kind, cost, missing_keys, inferred_keys, owner in resources:
            label = f"{kind}/{name}"
            lines.append(f"  {label[:46]:<46} {cost:>10,.2f}  {missing_keys} | {inferred_keys} | {owner}")
    return lines


def fully_loaded(con: duckdb.DuckDBPyConnection, top: int = 8) -> list[str]:
    """What the models really cost in the latest period the last build staged: the SageMaker line
    plus the S3, ECR, CloudWatch, data transfer and storage they cause; the most expensive
    endpoint's true monthly cost in parts; the neighbour cost nobody owns, by reason; and the
    stale-artifact saving."""
    marts = [FULLY_LOADED, MODEL_FULLY_LOADED, ENDPOINT_FULLY_LOADED, STALE]
    present = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_name in (?, ?, ?, ?)", marts
        ).fetchall()
    }
    if present != set(marts):
        return ["", "Fully-loaded cost: the marts are not built yet (`dbt build --target local`)"]
    latest = con.execute(
        f"select max(billing_period) from {MODEL_FULLY_LOADED} "
        f"where billing_period in (select billing_period from {STAGED})"
    ).fetchone()
    if not latest or not latest[0]:
        return ["", "Fully-loaded cost: no period the last build staged"]
    period = latest[0]
    models = con.execute(
        f"""select model, max(model_sagemaker_line_cost), max(model_neighbour_cost), max(hidden_cost_share)
            from {MODEL_FULLY_LOADED} where billing_period = ? and model not in ('unattributed', '__idle__')
            group by model order by max(model_sagemaker_line_cost) + max(model_neighbour_cost) desc limit {top}""",
        [period],
    ).fetchall()
    lines = ["", f"Fully-loaded cost by model, {period} (SageMaker line + what it causes in S3, ECR, CloudWatch, ...)"]
    lines.append(f"  {'model':<28} {'SageMaker':>12} {'neighbours':>12} {'total':>12}  hidden")
    for model, line_cost, neighbour_cost, share in models:
        total = (line_cost or 0) + (neighbour_cost or 0)
        lines.append(
            f"  {model[:28]:<28} {line_cost or 0:>12,.2f} {neighbour_cost or 0:>12,.2f} {total:>12,.2f}"
            f"  {(share or 0) * 100:5.1f}%"
        )
    endpoint = con.execute(
        f"""select endpoint_name, instance_cost + sagemaker_storage_cost, data_transfer_cost, cloudwatch_cost,
                   s3_cost, ecr_cost, total_cost, hidden_cost_share
            from {ENDPOINT_FULLY_LOADED} where billing_period = ? order by total_cost desc limit 1""",
        [period],
    ).fetchone()
    if endpoint:
        name, instances, transfer, cloudwatch, s3, ecr, total, share = endpoint
        lines.append("")
        lines.append(
            f"The most expensive endpoint, {name}, really costs {total:,.2f} a month "
            f"({(share or 0) * 100:.1f}% more than its SageMaker line):"
        )
        for label, cost in (
            ("instances and storage", instances),
            ("data transfer", transfer),
            ("CloudWatch", cloudwatch),
            ("S3 (its artifacts)", s3),
            ("ECR (its images)", ecr),
        ):
            lines.append(f"  {label:<38} {cost:>12,.2f}  {_bar(cost, total)}")
    neighbours = con.execute(
        f"""select coalesce(unattributed_reason, 'attributed'), sum(effective_cost)
            from {FULLY_LOADED} where billing_period = ? and not is_sagemaker_line group by all order by 2 desc""",
        [period],
    ).fetchall()
    neighbour_total = sum(c for _, c in neighbours)
    unowned = [(r, c) for r, c in neighbours if r != "attributed"]
    if neighbour_total:
        lines.append("")
        lines += _table(
            f"Neighbour cost {neighbour_total:,.2f}; without an owner {sum(c for _, c in unowned):,.2f}, by reason",
            unowned,
            neighbour_total,
        )
    stale = con.execute(
        f"""select count(distinct artifact_location), sum(storage_cost) from {STALE}
            where billing_period = ? and is_stale""",
        [period],
    ).fetchone()
    if stale and stale[0]:
        lines.append("")
        lines.append(
            f"Stale artifacts: {stale[0]} S3 prefixes and images nothing has used for 30 days cost "
            f"{stale[1] or 0:,.2f} in {period} (the list: {STALE})"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    path = Path(args.database)
    try:
        con = connect_marts(path)
    except MartsUnavailable as exc:
        print(f"smcost summary: {exc}", file=sys.stderr)
        return 2
    with con:
        try:
            text = render(con, args.top)
        except duckdb.CatalogException as exc:
            print(
                f"smcost summary: the marts are missing from {path} ({first_line(exc)}). "
                "Run `dbt build --target local`.",
                file=sys.stderr,
            )
            return 2
        except duckdb.Error as exc:  # e.g. a table from another version of the models
            print(
                f"smcost summary: cannot read the marts in {path}: {first_line(exc)}. "
                "Rebuild with `dbt build --target local`.",
                file=sys.stderr,
            )
            return 2
    print(text)  # a closed pipe (smcost summary | head -1) is cli.main's to handle
    return 0
