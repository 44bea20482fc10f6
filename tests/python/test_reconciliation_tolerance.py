"""The reconciliation tolerance (macros/tests/money_tolerance.sql: 0.000001 plus 1e-10 of the amount)
is float noise, not a place to lose money: a dollar gap just past it fails the build, one well
inside it passes. Planted in a copy of the demo build's fully-loaded fact, checked by the build's own
test of the fully-loaded total against the raw export. And the exact sums themselves do not drift
with the number of rows (macros/money_decimal.sql): one charge split into 700,000 rows still
reconciles. And a monthly rollup, added up from its daily twin, is checked against the fact."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from smcost_testing import run_dbt

FACT = "fct_sagemaker_fully_loaded_cost"
TEST = "assert_fully_loaded_total_matches_export"
PERIOD = "2026-10"


def money_tolerance(amount: float) -> float:
    """The rule, written out independently of the macro."""
    return 0.000001 + 1e-10 * abs(amount)


def run_check(check: str, demo_lake, database, tmp_path):
    """The build's own data test `check`, on the planted copy, as of the demo's last month."""
    return run_dbt(
        ["test", "--select", check],
        lake_root=demo_lake,
        database=database,
        work=tmp_path,
        vars={"as_of_billing_period": PERIOD},
        check=False,
    )


@pytest.mark.parametrize("share_of_tolerance, fails", [(1.5, True), (0.25, False)])
def test_a_gap_just_past_the_tolerance_fails_and_one_inside_it_passes(
    demo_build, demo_lake, tmp_path, share_of_tolerance, fails
):
    database = tmp_path / "smcost.duckdb"
    shutil.copyfile(demo_build, database)
    with duckdb.connect(str(database)) as con:
        (total,) = con.execute(f"select sum(billed_cost) from {FACT} where billing_period = ?", [PERIOD]).fetchone()
        gap = share_of_tolerance * money_tolerance(total)
        # One line loses `gap` dollars of billed cost: the biggest, so the change is surely stored.
        con.execute(
            f"update {FACT} set billed_cost = billed_cost - ? where rowid = "
            f"(select rowid from {FACT} where billing_period = ? order by billed_cost desc limit 1)",
            [gap, PERIOD],
        )
        (after,) = con.execute(f"select sum(billed_cost) from {FACT} where billing_period = ?", [PERIOD]).fetchone()
    assert total - after == pytest.approx(gap, rel=0.01)  # the gap was planted
    assert 1e-6 < gap < 1e-4  # a ten-thousandth of a dollar or less on a ~$50 k month

    result = run_check(TEST, demo_lake, database, tmp_path)
    assert (result.returncode != 0) is fails, result.stdout[-3000:]
    assert (f"FAIL 1 {TEST}" in result.stdout) is fails, result.stdout[-3000:]


def test_a_charge_split_into_many_rows_still_reconciles(demo_build, demo_lake, tmp_path):
    """The exact sums cast each row to the money decimal before adding: a cut of each row to 10
    digits lost $0.0000020 over 710 k allocation rows of one month (make bench-growth at demo
    --scale 43), which failed the build. The same loss is planted here in one step: the biggest
    neighbour allocation of the month becomes 700,000 equal rows whose digits run past the tenth."""
    database = tmp_path / "smcost.duckdb"
    shutil.copyfile(demo_build, database)
    pieces = 700_000
    with duckdb.connect(str(database)) as con:
        exact_total = f"select sum(cast(billed_cost as decimal(38, 18))) from {FACT} where billing_period = ?"
        (total,) = con.execute(exact_total, [PERIOD]).fetchone()
        con.execute(
            f"create temp table biggest as select rowid as row_id, * from {FACT} where billing_period = ? "
            "and not is_sagemaker_line order by billed_cost desc limit 1",
            [PERIOD],
        )
        (cost,) = con.execute("select billed_cost from biggest").fetchone()
        con.execute(f"delete from {FACT} where rowid = (select row_id from biggest)")
        con.execute(
            f"insert into {FACT} by name select * exclude (row_id, piece, allocation_id, allocation_share, billed_cost, "
            "effective_cost, list_cost), allocation_id || '-' || cast(piece as varchar) as allocation_id, "
            f"allocation_share / {pieces} as allocation_share, billed_cost / {pieces} as billed_cost, "
            f"effective_cost / {pieces} as effective_cost, list_cost / {pieces} as list_cost "
            f"from biggest, range({pieces}) as pieces(piece)"
        )
        (after,) = con.execute(exact_total, [PERIOD]).fetchone()
        # Cut to 10 digits, each piece would lose more than the tolerance altogether (as it did).
        cut = con.execute(
            f"select {pieces} * (cast(? as double) / {pieces} - cast(cast(? as double) / {pieces} as decimal(38, 10)))",
            [cost, cost],
        ).fetchone()[0]
    assert abs(after - total) < 1e-9  # the dollars are all there
    assert abs(cut) > money_tolerance(float(total)), "pick a split whose pieces have digits past the tenth"

    result = run_check(TEST, demo_lake, database, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    "defect",
    [
        # A charge counted twice: a month's distinct charges are no longer its days' sum.
        "update fct_sagemaker_cost_by_team_monthly set charge_count = charge_count + 1 where rowid = "
        "(select min(rowid) from fct_sagemaker_cost_by_team_monthly where billing_period = '2026-10')",
        # A group lost from a monthly rollup (its days not added up).
        "delete from fct_sagemaker_cost_by_model_monthly where rowid = "
        "(select min(rowid) from fct_sagemaker_cost_by_model_monthly where billing_period = '2026-10')",
    ],
)
def test_a_monthly_rollup_that_differs_from_the_fact_fails(demo_build, demo_lake, tmp_path, defect):
    """The monthly rollups are added up from their daily twins (macros/cost_rollup.sql); the build
    checks each against the fact itself (tests/data/assert_monthly_rollups_match_allocations.sql)."""
    database = tmp_path / "smcost.duckdb"
    shutil.copyfile(demo_build, database)
    with duckdb.connect(str(database)) as con:
        con.execute(defect)
    check = "assert_monthly_rollups_match_allocations"
    result = run_check(check, demo_lake, database, tmp_path)
    assert result.returncode != 0 and f"FAIL 1 {check}" in result.stdout, result.stdout[-3000:]
