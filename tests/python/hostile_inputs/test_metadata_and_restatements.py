"""Hostile inputs beyond the export's files: a metadata snapshot that lost most of its rows or is
dated in the future (staging reads the newest snapshot only, so it would silently win), and AWS
restating a billing period older than the incremental lookback window. Each is reported by a warn
test naming it; a clean lake and a full refresh report nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from smcost import lake as lakes
from smcost.demo import generate
from smcost_testing import run_dbt

pytestmark = pytest.mark.dbt


def warned_tests(output: str) -> set[str]:
    return {name.rstrip("_") for name in re.findall(r"Warning in test (\S+)", output)}


def newest_partition(lake: Path, dataset: str) -> Path:
    return sorted((lake / "sagemaker" / dataset).glob("extract_date=*"))[-1]


def land_snapshot(lake: Path, dataset: str, extract_date: str, keep_rows: int | None = None) -> None:
    """A later extraction of `dataset`: the newest one's rows (only the first `keep_rows`)."""
    table = pq.read_table(next(newest_partition(lake, dataset).glob("*.parquet")))
    if keep_rows is not None:
        table = table.slice(0, keep_rows)
    target = lake / lakes.dataset_partition(dataset, extract_date)
    target.mkdir(parents=True)
    pq.write_table(table, target / "part-00000.parquet")


def test_a_shrunken_or_future_dated_snapshot_warns_naming_its_dataset(tmp_path):
    lake = tmp_path / "lake"
    generate(str(lake), seed=23, months=2, start_month="2026-08")
    work = tmp_path / "dbt"
    work.mkdir()
    clean = run_dbt(["build"], lake_root=lake, database=work / "db.duckdb", work=work)
    assert not {t for t in warned_tests(clean.stdout) if "snapshot_is_plausible" in t}

    newest = newest_partition(lake, "training_jobs").name.removeprefix("extract_date=")
    next_day = (date.fromisoformat(newest) + timedelta(days=1)).isoformat()
    land_snapshot(lake, "training_jobs", next_day, keep_rows=3)  # 3 of ~100 jobs: a partial run
    land_snapshot(lake, "models", "2031-01-01")  # a clock years ahead
    result = run_dbt(["build"], lake_root=lake, database=work / "db.duckdb", work=work)
    flagged = {t for t in warned_tests(result.stdout) if "snapshot_is_plausible" in t}
    assert flagged == {
        "source_snapshot_is_plausible_sagemaker_training_jobs",
        "source_snapshot_is_plausible_sagemaker_models",
    }


def redeliver_with_costs_doubled(lake: Path, period: str) -> None:
    """AWS restates `period`: the same file name, every cost doubled (the manifest stays valid)."""
    (path,) = sorted((lake / lakes.billing_partition(period)).glob("*.parquet"))
    table = pq.read_table(path)
    for name in ("BilledCost", "EffectiveCost", "ListCost"):
        table = table.set_column(table.schema.get_field_index(name), name, pc.multiply(table[name], 2.0))
    pq.write_table(table, path)


# What a restatement test needs: the allocation fact and its checks. The governance, fully-loaded
# and explain models (and their tests) read the same fact; leaving them out keeps four builds short.
FACT_ONLY = [
    "--exclude",
    *(
        f"path:models/{layer}/{family}+"
        for layer in ("intermediate", "marts")
        for family in ("governance", "fully_loaded")
    ),
    "path:models/marts/explain+",
]


def test_a_restatement_older_than_the_lookback_window_is_reported_until_rebuilt(tmp_path):
    lake = tmp_path / "lake"
    generate(str(lake), seed=29, months=3, start_month="2026-08")
    work = tmp_path / "dbt"
    work.mkdir()
    now = {"as_of_billing_period": "2026-10", "lookback_billing_periods": 2}  # rebuilds Sep and Oct
    database = work / "db.duckdb"

    run_dbt(["build", *FACT_ONLY], lake_root=lake, database=database, work=work, vars=now)
    unchanged = run_dbt(["build", *FACT_ONLY], lake_root=lake, database=database, work=work, vars=now)
    assert "assert_built_periods_match_export" not in warned_tests(unchanged.stdout)

    redeliver_with_costs_doubled(lake, "2026-08")
    incremental = run_dbt(["build", *FACT_ONLY], lake_root=lake, database=database, work=work, vars=now)
    assert "assert_built_periods_match_export" in warned_tests(incremental.stdout)
    assert re.search(r"Warning in test assert_built_periods_match_export .*\n.*Got 1 result", incremental.stdout)

    rebuilt = run_dbt(["build", "--full-refresh", *FACT_ONLY], lake_root=lake, database=database, work=work, vars=now)
    assert "assert_built_periods_match_export" not in warned_tests(rebuilt.stdout)
