"""Multi-model traffic, whatever the team publishes, on the demo account (issue 13 item 3).

The demo's multi-model endpoint publishes its per-model metric as teams do (demo/multi_model.py):
one model by its artifact key, one by a logical name, one by an alias only the seed maps, and a
shadow stream nothing maps. Expected values come from the demo module's declarations, the landed
raw metric and the ground truth, never from the models under test.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pytest

from smcost.demo import multi_model
from smcost_testing import run_dbt

ENDPOINT = "tabular-mme-prod"
# The bill-row key the ground truth documents (as test_attribution_accuracy joins it).
KEY = ["billing_period", "sub_account_id", "resource_id", "charge_period_start", "usage_type", "charge_category"]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def test_each_published_value_maps_by_the_step_the_story_planted(demo_build: Path) -> None:
    expected = {
        multi_model.PUBLISHED_AS["churn-predictor"]: ("churn-predictor", "exact_artifact_key"),
        multi_model.PUBLISHED_AS["ltv-model"]: ("ltv-model", "stripped_artifact_name"),
        multi_model.PUBLISHED_AS["price-forecaster"]: ("price-forecaster", "alias_seed"),
        multi_model.UNMAPPED_VALUE: (f"unmapped:{multi_model.UNMAPPED_VALUE}", "unmapped"),
    }
    with duckdb.connect(str(demo_build), read_only=True) as con:
        mapped = _rows(
            con,
            "select target_value, model, mapping_method from int_sagemaker_multi_model_targets_mapped "
            "where endpoint_name_lower = ?",
            ENDPOINT,
        )
    assert {value: (model, method) for value, model, method in mapped} == expected


def test_the_unmapped_value_is_counted_by_the_warn_test_with_its_traffic_share(
    demo_build: Path, demo_lake: Path, tmp_path: Path
) -> None:
    raw = pads.dataset(demo_lake / "sagemaker" / "endpoint_invocations", partitioning="hive").to_table().to_pylist()
    per_value: dict[str, float] = {}
    for r in raw:
        if r["metric_dimension"] == "target_model" and r["endpoint_name"] == ENDPOINT:
            per_value[r["target_model"]] = per_value.get(r["target_model"], 0.0) + r["invocations"]
    with duckdb.connect(str(demo_build), read_only=True) as con:
        unmapped = _rows(
            con,
            "select target_value, invocations, endpoint_traffic_share from int_sagemaker_multi_model_targets_mapped "
            "where is_unmapped",
        )
    value = multi_model.UNMAPPED_VALUE
    assert unmapped == [(value, per_value[value], pytest.approx(per_value[value] / sum(per_value.values())))]
    # About UNMAPPED_SHARE of the traffic, as the story draws it (rounded per hour).
    assert unmapped[0][2] == pytest.approx(multi_model.UNMAPPED_SHARE / (1 + multi_model.UNMAPPED_SHARE), rel=0.02)

    result = run_dbt(
        ["test", "--select", "multi_model_metric_values_are_mapped"],
        lake_root=demo_lake,
        database=demo_build,
        work=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]  # a warning, not an error
    assert "Got 1 result, configured to warn if != 0" in result.stdout
    assert "WARN=1" in result.stdout


def test_unmapped_traffic_keeps_its_true_dollars_and_the_endpoint_reconciles(demo_build: Path, demo_lake: Path) -> None:
    join = " and ".join(f"t.{k} is not distinct from a.{k}" for k in KEY)
    with duckdb.connect(str(demo_build), read_only=True) as con:
        con.execute(
            f"create temp view truth as select * from read_parquet('{demo_lake}/demo/ground_truth/*.parquet') "
            f"where resource_id like '%:endpoint/{ENDPOINT}'"
        )
        # Hours split by invocations: the unmapped value's dollars are its true model's, row by row.
        unmapped, true = _rows(
            con,
            f"""
            with allocations as (
                select billing_period, sub_account_id, resource_arn as resource_id, charge_period_start,
                       usage_type, charge_category, sum(effective_cost) as effective_cost
                from fct_sagemaker_cost_allocations
                where model = 'unmapped:{multi_model.UNMAPPED_VALUE}' and allocation_method = 'multi_model_invocations'
                group by all
            ),
            truth_rows as (
                select {", ".join(KEY)}, sum(effective_cost) as effective_cost
                from truth where model = '{multi_model.UNMAPPED_MODEL}'
                group by all
            )
            select sum(a.effective_cost), sum(t.effective_cost)
            from allocations as a
            inner join truth_rows as t on {join}
            """,
        )[0]
        assert unmapped > 0
        assert unmapped == pytest.approx(true, rel=1e-9)
        # Every dollar of the endpoint is allocated exactly once, the unmapped ones included.
        allocated, billed = _rows(
            con,
            f"""
            select (select sum(effective_cost) from fct_sagemaker_cost_allocations
                    where resource_arn like '%:endpoint/{ENDPOINT}'),
                   (select sum(effective_cost) from truth)
            """,
        )[0]
        assert allocated == pytest.approx(billed, abs=1e-6)


def test_summary_names_the_unmapped_dollars_and_what_to_do(demo_build: Path) -> None:
    from smcost.summary import render

    with duckdb.connect(str(demo_build), read_only=True) as con:
        text = render(con)
        (dollars,) = _rows(
            con,
            "select sum(effective_cost) from fct_sagemaker_cost_allocations where model = ?",
            f"unmapped:{multi_model.UNMAPPED_VALUE}",
        )[0]
    assert f"unmapped:{multi_model.UNMAPPED_VALUE}" in text
    assert f"  unmapped:<value> ({dollars:,.2f}): a metric value no artifact key or " in text
    assert "seeds/multi_model_target_aliases.csv row names; add a row and rebuild" in text
