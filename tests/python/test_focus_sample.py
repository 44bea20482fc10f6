"""The real FinOps Foundation FOCUS 1.0 sample (CSV, JSON-text tags, literal NULLs) builds.

The CSV is converted to Parquet here, column types taken from the FOCUS 1.0 schema, Tags kept as
JSON text and the extra `Id` column kept: the pipeline is configured for it by vars alone
(focus_version 1.0, focus_tags_format json, focus_aws_columns false: it has no x_ columns). It has no SageMaker rows, so zero dollars may be
classified as SageMaker, and every dollar must survive staging.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from smcost import lake
from smcost.schemas import DATASETS, focus_schema
from smcost_testing import REPO, run_dbt

# In the repository with its licence and source (tests/fixtures/focus-sample-1.0/SOURCE.md).
SAMPLE = REPO / "tests" / "fixtures" / "focus-sample-1.0" / "focus_sample.csv"


def sample_totals_by_period() -> dict[str, tuple[float, float, int]]:
    """Billed, effective cost and rows per billing period, read straight from the CSV."""
    totals: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0])
    with SAMPLE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            period = row["BillingPeriodStart"][:7]
            totals[period][0] += float(row["BilledCost"]) if row["BilledCost"] != "NULL" else 0.0
            totals[period][1] += float(row["EffectiveCost"]) if row["EffectiveCost"] != "NULL" else 0.0
            totals[period][2] += 1
    return {k: tuple(v) for k, v in totals.items()}


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample-lake")
    types = {f.name: f.type for f in focus_schema("1.0") if f.name != "Tags"}
    table = pacsv.read_csv(
        SAMPLE,
        convert_options=pacsv.ConvertOptions(
            null_values=["NULL"],
            strings_can_be_null=True,
            column_types={**{k: v for k, v in types.items()}, "Tags": pa.string(), "Id": pa.string()},
            timestamp_parsers=["%Y-%m-%d %H:%M:%S"],
        ),
    )
    for period in sorted(set(sample_totals_by_period())):
        rows = table.filter(pc.equal(pc.strftime(table["BillingPeriodStart"], "%Y-%m"), period))
        folder = Path(root) / lake.billing_partition(period, "focus-sample")
        folder.mkdir(parents=True)
        pq.write_table(rows, folder / "part-0.parquet")
    for name, ds in DATASETS.items():  # a lake whose extractor has not run yet: empty datasets
        lake.write_partition(str(root), lake.dataset_partition(name, "2024-10-01"), ds.schema, [])
    work = tmp_path_factory.mktemp("dbt-sample")
    database = work / "sample.duckdb"
    run_dbt(
        ["build"],
        lake_root=Path(root),
        database=database,
        work=work,
        vars={
            "focus_version": "1.0",
            "focus_tags_format": "json",
            "focus_export_name": "focus-sample",
            "focus_aws_columns": False,
        },
    )
    return database


def test_sample_is_fully_staged_and_reconciles(sample_build):
    expected = sample_totals_by_period()
    with duckdb.connect(str(sample_build), read_only=True) as con:
        staged = {
            p: (b, e, n)
            for p, b, e, n in con.execute(
                "select billing_period, sum(billed_cost), sum(effective_cost), count(*) "
                "from stg_focus__charges group by 1"
            ).fetchall()
        }
    assert staged.keys() == expected.keys()
    for period, (billed, effective, rows) in expected.items():
        assert staged[period][2] == rows
        assert math.isclose(staged[period][0], billed, abs_tol=1e-6)
        assert math.isclose(staged[period][1], effective, abs_tol=1e-6)


def test_sample_classifies_zero_dollars_as_sagemaker(sample_build):
    with duckdb.connect(str(sample_build), read_only=True) as con:
        sagemaker_rows = con.execute("select count(*) from int_sagemaker_charges_classified").fetchone()[0]
        flagged = con.execute("select count(*) from stg_focus__charges where is_sagemaker").fetchone()[0]
    assert sagemaker_rows == 0
    assert flagged == 0


def test_sample_json_tags_are_parsed_into_maps(sample_build):
    with open(SAMPLE, newline="") as handle:
        tagged_in_csv = sum(1 for row in csv.DictReader(handle) if row["Tags"] not in ("NULL", "", "{}"))
    with duckdb.connect(str(sample_build), read_only=True) as con:
        parsed = con.execute("select count(*) from stg_focus__charges where cardinality(tags) > 0").fetchone()[0]
    assert tagged_in_csv > 0
    assert parsed == tagged_in_csv
