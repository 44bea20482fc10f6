"""Incremental runs rebuild only the lookback window of billing periods and end up identical to a
full refresh — on DuckDB, with the same replace-whole-periods semantics the Athena marts use."""

from __future__ import annotations

import json

import duckdb

from smcost.demo import generate
from smcost_testing import run_dbt, withhold_billing_period

FACT = "fct_sagemaker_cost_allocations"


def table_rows(database, table: str) -> list[tuple]:
    """All rows, sorted; floats rounded to 1e-9 (sums may add up in a different order)."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(f"select * from {table}").fetchall()
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def test_run_after_a_new_month_rebuilds_only_the_lookback_window_and_equals_a_full_refresh(tmp_path):
    lake = tmp_path / "lake"
    generate(str(lake), seed=11, months=3, start_month="2026-08")
    deliver_october = withhold_billing_period(lake, "2026-10", tmp_path / "not-yet-delivered")

    incremental, full = tmp_path / "incremental", tmp_path / "full"
    incremental.mkdir()
    full.mkdir()
    # First run: two months delivered; the fact does not exist yet, so everything is built.
    run_dbt(
        ["build"],
        lake_root=lake,
        database=incremental / "db.duckdb",
        work=incremental,
        vars={"as_of_billing_period": "2026-09"},
    )
    # October arrives (with a correction restating August): a normal run rebuilds Sep-Oct only.
    deliver_october()
    run_dbt(
        ["build"],
        lake_root=lake,
        database=incremental / "db.duckdb",
        work=incremental,
        vars={"as_of_billing_period": "2026-10"},
    )
    with duckdb.connect(str(incremental / "db.duckdb"), read_only=True) as con:
        staged_periods = {
            p for (p,) in con.execute("select distinct billing_period from stg_focus__charges").fetchall()
        }
        fact_periods = {p for (p,) in con.execute(f"select distinct billing_period from {FACT}").fetchall()}
    assert staged_periods == {"2026-09", "2026-10"}  # only the lookback window was read
    assert fact_periods == {"2026-08", "2026-09", "2026-10"}  # August kept from the first run

    run_dbt(
        ["build", "--full-refresh"],
        lake_root=lake,
        database=full / "db.duckdb",
        work=full,
        vars={"as_of_billing_period": "2026-10"},
    )
    assert table_rows(incremental / "db.duckdb", FACT) == table_rows(full / "db.duckdb", FACT)
    for mart in (
        "fct_sagemaker_cost_by_team_monthly",
        "fct_sagemaker_fully_loaded_cost",
        "fct_model_fully_loaded_cost_monthly",
        "fct_endpoint_fully_loaded_cost_monthly",
        "fct_sagemaker_stale_artifacts",
        # The explain marts (models/marts/explain): the growth mart reads the period before the window.
        "fct_sagemaker_endpoint_hours",
        "fct_sagemaker_endpoint_idle_monthly",
        "fct_sagemaker_notebook_hours_monthly",
        "fct_sagemaker_training_job_costs",
        "fct_sagemaker_savings_plan_monthly",
        "fct_sagemaker_unit_costs_monthly",
        "fct_sagemaker_cost_change_monthly",
        "fct_sagemaker_savings_opportunities",
    ):
        assert table_rows(incremental / "db.duckdb", mart) == table_rows(full / "db.duckdb", mart), mart

    # The generic tests on an incremental mart read only the periods the run rebuilt (Sep-Oct): a
    # defect planted in August, which the run kept, is not re-read; test_every_period reads it; the
    # same defect in a rebuilt period fails the tests as it always did.
    def failing_tests(**extra_vars) -> set[str]:
        result = run_dbt(
            ["test", "--select", f"{FACT},test_type:generic", "--exclude-resource-type", "unit_test"],
            lake_root=lake,
            database=incremental / "db.duckdb",
            work=incremental,
            vars={"as_of_billing_period": "2026-10", **extra_vars},
            check=False,
        )
        assert result.returncode in (0, 1), result.stdout[-3000:]
        results = json.loads((incremental / "target" / "run_results.json").read_text())["results"]
        assert results  # the tests ran
        return {r["unique_id"].split(".")[2] for r in results if r["status"] == "fail"}

    def plant_null_charge_id(period: str) -> None:
        with duckdb.connect(str(incremental / "db.duckdb")) as con:
            con.execute(
                f"update {FACT} set charge_id = null where allocation_id = "
                f"(select min(allocation_id) from {FACT} where billing_period = '{period}')"
            )

    assert failing_tests() == set()
    plant_null_charge_id("2026-08")
    assert failing_tests() == set()
    assert failing_tests(test_every_period=True) == {f"not_null_{FACT}_charge_id"}
    plant_null_charge_id("2026-10")
    assert failing_tests() == {f"not_null_{FACT}_charge_id"}
