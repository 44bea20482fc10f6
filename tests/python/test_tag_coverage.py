"""The tag-governance marts on the demo account: dollar-weighted coverage that reconciles to the
allocation fact exactly, untaggable charges counted apart, every attribution source classified by
the seed, and an untagged-resources ranking that agrees with the generator's ground truth.

"Really untagged" in the ground truth: a bill row whose owner is knowable other than by bill tags
(evidence api_tag, metadata, rule or none). The truth's evidence speaks of the owner (model and
team), so the mart is compared on those keys: a resource is untagged when its team key, or its
model key where the truth names a model, did not come from the bill. The mart also lists resources
that miss only ml:experiment or ml:environment (endpoints serve no experiment); those are outside
what the truth can judge.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from smcost_testing import REPO

UNTAGGABLE_CATEGORIES = ("savings_plan_fee", "savings_plan_unused", "credit", "tax")


@pytest.fixture(scope="module")
def con(demo_build: Path, demo_lake: Path):
    with duckdb.connect(str(demo_build), read_only=True) as connection:
        connection.execute(
            # The SageMaker scope: the truth also covers the neighbour services, which governance does not.
            f"create temp view truth as select * from read_parquet('{demo_lake}/demo/ground_truth/*.parquet') "
            "where service_code in ('AmazonSageMaker', 'MachineLearningSavingsPlans')"
        )
        yield connection


def test_coverage_reconciles_exactly_to_the_fact_for_every_key_and_period(con) -> None:
    rows = con.execute("""
        with coverage as (
            select billing_period, tag_key,
                   sum(cast(taggable_cost as decimal(38, 10)) + cast(untaggable_cost as decimal(38, 10))) as total,
                   sum(cast(untaggable_cost as decimal(38, 10))) as untaggable
            from fct_sagemaker_tag_coverage_monthly group by all
        ),
        fact as (
            select billing_period, sum(cast(effective_cost as decimal(38, 10))) as total,
                   sum(cast(effective_cost as decimal(38, 10))) filter (
                       where resource_arn is null or sagemaker_category in ('savings_plan_fee', 'savings_plan_unused', 'credit', 'tax')
                          or charge_category in ('Tax', 'Credit')) as untaggable
            from fct_sagemaker_cost_allocations group by all
        )
        select fact.billing_period, coverage.tag_key, fact.total, coverage.total, fact.untaggable, coverage.untaggable
        from fact left join coverage using (billing_period) order by 1, 2""").fetchall()
    assert len(rows) == 3 * 4  # three demo months x four keys
    for period, key, fact_total, coverage_total, fact_untaggable, coverage_untaggable in rows:
        # Per-row doubles summed as decimals: equal to a millionth of a cent.
        assert abs(Decimal(fact_total) - Decimal(coverage_total)) < Decimal("1e-6"), (period, key)
        assert abs(Decimal(fact_untaggable) - Decimal(coverage_untaggable)) < Decimal("1e-6"), (period, key)
    trend = con.execute("""
        select t.billing_period, t.tag_key, t.effective_cost, sum(m.effective_cost)
        from fct_sagemaker_tag_coverage_trend as t
        join fct_sagemaker_tag_coverage_monthly as m using (billing_period, billing_currency, tag_key)
        group by all""").fetchall()
    assert trend and all(abs(a - b) < 1e-6 for *_, a, b in trend)


def test_untaggable_charges_are_outside_the_denominator(con) -> None:
    # Savings Plan unused commitment, credits and tax are demo charges no tag can reach.
    untaggable, taggable, bill, api, inferred, missing = con.execute("""
        select sum(untaggable_cost), sum(taggable_cost), sum(bill_tag_cost), sum(api_tag_only_cost),
               sum(inferred_cost), sum(missing_cost)
        from fct_sagemaker_tag_coverage_trend where tag_key = 'ml:team'""").fetchone()
    assert untaggable > 0
    assert abs(bill + api + inferred + missing - taggable) < 1e-6
    ratios = con.execute(
        "select bill_tag_coverage, tagged_coverage, all_bill_tags_coverage from fct_sagemaker_tag_coverage_trend"
    ).fetchall()
    assert all(0 <= r <= 1 for row in ratios for r in row)
    listed = con.execute(
        "select count(*) from fct_sagemaker_untagged_resources where resource_arn like '%:savingsplan/%'"
    ).fetchone()[0]
    assert listed == 0


def test_every_attribution_source_has_a_row_in_the_confidence_seed(con) -> None:
    with (REPO / "seeds" / "tag_inference_confidence.csv").open(newline="") as handle:
        seed = {(r["dimension"], r["source"]): r for r in csv.DictReader(handle)}
    seen = con.execute("""
        select distinct d, s from fct_sagemaker_cost_allocations,
        lateral (values ('team', team_source), ('model', model_source), ('experiment', experiment_source),
                        ('environment', environment_source)) as v(d, s)""").fetchall()
    assert set(seen) <= set(seed), set(seen) - set(seed)
    # The classification the marts use is the seed's, row for row.
    mismatched = con.execute("""
        select count(*) from int_sagemaker_allocation_tag_keys as k
        join tag_inference_confidence as c on k.dimension = c.dimension and k.tag_source = c.source
        where k.coverage_class <> 'untaggable'
          and (k.coverage_class <> c.coverage_class
               or k.confidence is distinct from case when c.coverage_class = 'inferred' then c.confidence end)""").fetchone()
    assert mismatched[0] == 0
    assert seed[("team", "metadata")]["confidence"] == "high"
    assert seed[("team", "rule")]["confidence"] == "medium"
    assert seed[("environment", "rule")]["confidence"] == "low"


def _truth_untagged(con) -> dict[tuple[str, str], float]:
    rows = con.execute("""
        select billing_period, resource_id, sum(effective_cost)
        from truth
        where resource_id is not null and charge_category not in ('Credit', 'Tax')
          and resource_id not like '%:savingsplan/%'
        group by all
        having bool_or(evidence <> 'bill_tag')""").fetchall()
    return {(p, r): c for p, r, c in rows}


def _mart_untagged(con) -> dict[tuple[str, str], tuple[float, int]]:
    rows = con.execute("""
        with truth_models as (
            select billing_period, resource_id, bool_or(model is not null and model <> '__idle__') as has_model
            from truth group by all
        )
        select u.billing_period, u.resource_arn, u.effective_cost, u.cost_rank
        from fct_sagemaker_untagged_resources as u
        left join truth_models as t on u.billing_period = t.billing_period and u.resource_arn = t.resource_id
        where u.team_source <> 'bill_tag' or (u.model_source <> 'bill_tag' and coalesce(t.has_model, true))""").fetchall()
    return {(p, r): (c, rank) for p, r, c, rank in rows}


def test_untagged_ranking_agrees_with_the_ground_truth(con) -> None:
    truth, mart = _truth_untagged(con), _mart_untagged(con)
    assert truth, "the demo has untagged resources"
    assert set(mart) == set(truth), (sorted(set(truth) - set(mart))[:5], sorted(set(mart) - set(truth))[:5])
    for key, cost in truth.items():
        assert abs(mart[key][0] - cost) < 1e-6, key
    # The mart's rank orders the really-untagged resources as their true cost does.
    for period in {p for p, _ in truth}:
        by_rank = [
            r for (p, r), _ in sorted(((k, v[1]) for k, v in mart.items() if k[0] == period), key=lambda i: i[1])
        ]
        by_truth = [
            r
            for (p, r), _ in sorted(
                ((k, -c) for k, c in truth.items() if k[0] == period), key=lambda i: (i[1], i[0][1])
            )
        ]
        costs = {r: truth[(period, r)] for r in by_rank}
        assert [round(costs[r], 6) for r in by_rank] == [round(costs[r], 6) for r in by_truth], period


def test_report_demo_coverage_by_source_and_the_top_untagged(con) -> None:
    """Prints the figures the issue asks for (pytest -s shows them)."""
    rows = con.execute("""
        select tag_key, sum(bill_tag_cost), sum(api_tag_only_cost), sum(inferred_cost), sum(missing_cost),
               sum(taggable_cost), sum(untaggable_cost), sum(all_bill_tags_cost)
        from fct_sagemaker_tag_coverage_trend group by 1 order by 1""").fetchall()
    print("\ndemo coverage by source, three months ($-weighted share of taggable effective cost):")
    for key, bill, api, inferred, missing, taggable, untaggable, _all_four in rows:
        print(
            f"  {key:<15} bill {bill / taggable:6.1%}  api-only {api / taggable:5.1%}  inferred {inferred / taggable:5.1%}"
            f"  missing {missing / taggable:5.1%}  (taggable {taggable:,.2f}, untaggable {untaggable:,.2f} apart)"
        )
    print(f"  all four keys in the bill: {rows[0][7] / rows[0][5]:.1%}")
    top = con.execute("""
        select resource_type || '/' || resource_name, sum(effective_cost) as cost,
               max(missing_keys), max(inferred_keys), max(fix_owner_team)
        from fct_sagemaker_untagged_resources group by 1 order by cost desc limit 5""").fetchall()
    print("top 5 untagged resources (three months):")
    for name, cost, missing, inferred, owner in top:
        print(f"  {name:<48} {cost:>10,.2f}  missing {missing}  inferred {inferred}  owner {owner}")
    assert len(top) == 5
    shares = [sum(r[1:5]) / r[5] for r in rows]
    assert all(abs(s - 1) < 1e-9 for s in shares)


def test_resources_carry_age_status_and_an_owner(con) -> None:
    rows = con.execute("""
        select count(*), count(created_at), count(*) filter (where age_days >= 0),
               count(*) filter (where last_seen_status = 'not_in_metadata'),
               count(*) filter (where fix_owner_source = 'account_owner'),
               count(*) filter (where fix_owner_team = 'unassigned')
        from fct_sagemaker_untagged_resources""").fetchone()
    total, with_created, aged, unseen, account_owned, unassigned = rows
    assert total > 0 and with_created == total - unseen and aged == total
    assert account_owned > 0  # scratch notebooks and untitled jobs: no team anywhere, the account's owner
    assert unassigned == 0


@pytest.mark.dbt
def test_incremental_runs_rebuild_the_window_and_equal_a_full_refresh(tmp_path: Path) -> None:
    """Like the fact (tests/python/test_incremental.py): a run as of a later month rewrites only the
    lookback window of the governance marts, keeps older periods, and ends up equal to a full refresh
    (the untagged ranking's metadata columns aside: they say what the metadata showed at build time)."""
    from smcost.demo import generate
    from smcost_testing import run_dbt, withhold_billing_period

    lake = tmp_path / "lake"
    generate(str(lake), seed=11, months=3, start_month="2026-08")
    deliver_october = withhold_billing_period(lake, "2026-10", tmp_path / "not-yet-delivered")
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    incremental.mkdir()
    full.mkdir()
    selection = [
        "--select",
        "+fct_sagemaker_tag_coverage_trend",
        "+fct_sagemaker_untagged_resources",
        "--indirect-selection",
        "cautious",
    ]
    run_dbt(
        ["build", *selection],
        lake_root=lake,
        database=incremental / "db.duckdb",
        work=incremental,
        vars={"as_of_billing_period": "2026-09"},
    )
    deliver_october()
    run_dbt(
        ["build", *selection],
        lake_root=lake,
        database=incremental / "db.duckdb",
        work=incremental,
        vars={"as_of_billing_period": "2026-10"},
    )
    run_dbt(
        ["build", "--full-refresh", *selection],
        lake_root=lake,
        database=full / "db.duckdb",
        work=full,
        vars={"as_of_billing_period": "2026-10"},
    )
    stable = (
        "cost_rank, billing_currency, resource_arn, effective_cost, missing_keys, inferred_keys, api_only_keys, "
        "team_value, model_value, experiment_value, environment_value, fix_action, fix_owner_team, billing_period"
    )
    for table, columns in (
        ("fct_sagemaker_tag_coverage_monthly", "*"),
        ("fct_sagemaker_tag_coverage_trend", "*"),
        ("fct_sagemaker_untagged_resources", stable),
    ):
        rows = []
        for database in (incremental / "db.duckdb", full / "db.duckdb"):
            with duckdb.connect(str(database), read_only=True) as con:
                fetched = con.execute(f"select {columns} from {table}").fetchall()
            rows.append(
                sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in fetched), key=repr)
            )
        assert rows[0] == rows[1], table
        assert {r[-1] for r in rows[0]} == {"2026-08", "2026-09", "2026-10"}, table


def test_drifted_keys_and_sloppy_values_count_as_tagged_not_missing(con) -> None:
    # The demo's "drift" profile bills `ML:Team` = "Fraud " and `environment` (an alias): the same
    # normalisation as the attribution (macros/normalised_tags.sql) makes them bill-tagged keys with
    # allowed values, counted as coverage rather than as missing keys or disallowed values.
    rows = con.execute("""
        select k.coverage_class, bool_or(k.is_disallowed_value), count(*)
        from stg_focus__charges as c
        join int_sagemaker_allocation_tag_keys as k on c.charge_id = k.charge_id
        where map_contains(c.tags, 'ML:Team') and k.coverage_class <> 'untaggable'
        group by all""").fetchall()
    assert rows and {r[0] for r in rows} == {"bill"} and not any(r[1] for r in rows)
    drifted_values = con.execute("""
        select count(*) from stg_focus__charges
        where map_contains(tags, 'ML:Team') and tags['ML:Team'] <> lower(trim(tags['ML:Team']))""").fetchone()[0]
    assert drifted_values > 0  # the raw values really are sloppy
