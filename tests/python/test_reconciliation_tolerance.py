"""The reconciliation tolerance (macros/tests/money_tolerance.sql: 0.000001 plus 1e-10 of the amount)
is float noise, not a place to lose money: a dollar gap just past it fails the build, one well
inside it passes. Planted in a copy of the demo build's fully-loaded fact, checked by the build's own
test of the fully-loaded total against the raw export."""

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

    result = run_dbt(
        ["test", "--select", TEST],
        lake_root=demo_lake,
        database=database,
        work=tmp_path,
        vars={"as_of_billing_period": PERIOD},
        check=False,
    )
    assert (result.returncode != 0) is fails, result.stdout[-3000:]
    assert (f"FAIL 1 {TEST}" in result.stdout) is fails, result.stdout[-3000:]
