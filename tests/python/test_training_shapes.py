"""The 2026 training shapes on the demo account (issue 13 item 5), against its ground truth: a
flexible job bills, and is explained, on the instance type SageMaker selected; a training plan's
upfront fee lands on the jobs that ran on it by their instance-hours, its unused hours idle on the
plan's team; warm-pool retained time (TrainWarmPool) reaches the job that kept the pool and its owner."""

from __future__ import annotations

import duckdb
import pytest


def _truth(con: duckdb.DuckDBPyConnection, lake, where: str, cost: str = "effective_cost") -> dict:
    rows = con.sql(
        f"select model, team, sum({cost}) from read_parquet('{lake}/demo/ground_truth/*.parquet') "
        f"where {where} group by 1, 2"
    ).fetchall()
    return {(m, t): c for m, t, c in rows}


def _allocated(con: duckdb.DuckDBPyConnection, where: str, cost: str = "effective_cost") -> dict:
    rows = con.sql(
        f"select model, team, sum({cost}) from fct_sagemaker_cost_allocations where {where} group by 1, 2"
    ).fetchall()
    return {(m, t): c for m, t, c in rows}


@pytest.fixture(scope="module")
def con(demo_build):
    with duckdb.connect(str(demo_build), read_only=True) as connection:
        yield connection


def test_the_training_plan_fee_lands_on_its_jobs_and_the_unused_hours_on_the_plans_team(con, demo_lake):
    # The fee is BilledCost (its EffectiveCost is 0: the covered hours carry it, amortised).
    truth = _truth(con, demo_lake, "usage_type like '%TrainingPlan:%'", "billed_cost")
    allocated = _allocated(con, "sagemaker_category = 'training_plan_fee'", "billed_cost")
    assert set(truth) == {("vision-classifier", "vision"), ("__idle__", "vision")}
    assert allocated.keys() == truth.keys()
    for owner, cost in truth.items():
        assert allocated[owner] == pytest.approx(cost, abs=1e-6), owner
    ((fee,),) = con.sql("select upfront_fee from stg_sagemaker__training_plans").fetchall()
    assert sum(allocated.values()) == pytest.approx(float(fee), abs=0.005)  # every dollar of the fee, once


def test_a_flexible_job_is_billed_and_explained_on_the_selected_instance_type(con):
    jobs = con.sql(
        "select training_job_name, selected_instance_type, selected_instance_count, instance_type "
        "from stg_sagemaker__training_jobs where selected_instance_type is not null"
    ).fetchall()
    assert jobs
    for name, selected, count, requested in jobs:
        assert requested is None  # a flexible job names preferences, not a type
        billed = con.sql(
            "select distinct instance_type from fct_sagemaker_cost_allocations "
            "where resource_type = 'training-job' and resource_name = lower(?) and sagemaker_category = 'training'",
            params=[name],
        ).fetchall()
        assert billed == [(selected,)], name
        (explained,) = con.sql(
            "select instance_type, instance_count from fct_sagemaker_training_job_costs where training_job_name = lower(?)",
            params=[name],
        ).fetchall()
        assert explained == (selected, count), name


def test_warm_pool_retained_time_joins_the_job_that_kept_it_and_its_owner(con, demo_lake):
    truth = _truth(con, demo_lake, "usage_type like '%TrainWarmPool:%'")
    allocated = _allocated(con, "usage_type like '%TrainWarmPool:%' and resource_type = 'training-job'")
    assert truth and "unattributed" not in {m for m, _ in allocated}
    assert allocated.keys() == truth.keys()
    for owner, cost in truth.items():
        assert allocated[owner] == pytest.approx(cost, abs=1e-6), owner
