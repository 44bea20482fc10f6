"""The FOCUS export as files other than the current AWS 1.2 Parquet: older files with other physical
types for SkuPriceDetails / x_Discounts, and FOCUS 1.3 (renamed provider columns, split cost
allocation). Each builds staging over hand-built files and compares with totals computed here from the
rows themselves."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from focus_lake import focus_table, write_empty_datasets, write_focus_file
from smcost.schemas import TAGS, focus_schema
from smcost_testing import run_dbt

STAGING = ["build", "--select", "+stg_focus__charges", "--indirect-selection", "cautious"]


def staged(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select resource_id, provider_name, billed_cost, effective_cost from stg_focus__charges "
            "where is_sagemaker order by resource_id, billed_cost"
        ).fetchall()


def build(tmp_path: Path, vars: dict | None = None, check: bool = True):
    write_empty_datasets(tmp_path / "lake")
    return run_dbt(
        STAGING,
        lake_root=tmp_path / "lake",
        database=tmp_path / "smcost.duckdb",
        work=tmp_path,
        vars=vars,
        check=check,
    )


# --------------------------------------------------------------------------------------------------
# Physical types: AWS's Glue DDL types SkuPriceDetails map<string,string> and x_Discounts
# map<string,double>; files written before the schema followed it carry JSON text and
# map<string,string>. Both load, side by side in one billing period.


def legacy_schema() -> pa.Schema:
    schema = focus_schema("1.2")
    schema = schema.set(schema.get_field_index("SkuPriceDetails"), pa.field("SkuPriceDetails", pa.string()))
    return schema.set(schema.get_field_index("x_Discounts"), pa.field("x_Discounts", TAGS))


def test_the_shared_schema_types_the_maps_as_aws_glue_does():
    schema = focus_schema("1.2")
    assert schema.field("SkuPriceDetails").type == pa.map_(pa.string(), pa.string())
    assert schema.field("x_Discounts").type == pa.map_(pa.string(), pa.float64())


def test_old_and_new_physical_types_load_together(tmp_path: Path):
    old = focus_table(
        [
            {
                "ResourceId": "old",
                "SkuMeter": "USE1-Train:ml.m5.xlarge",
                "BilledCost": 2.0,
                "EffectiveCost": 2.0,
                "SkuPriceDetails": json.dumps({"InstanceType": "ml.m5.xlarge"}),
                "x_Discounts": [("SppDiscount", "-0.5")],
            }
        ],
        legacy_schema(),
    )
    new = focus_table(
        [
            {
                "ResourceId": "new",
                "SkuMeter": "USE1-Host:ml.g5.xlarge",
                "BilledCost": 3.0,
                "EffectiveCost": 3.0,
                "SkuPriceDetails": [("InstanceType", "ml.g5.xlarge")],
                "x_Discounts": [("SppDiscount", -0.25)],
            }
        ],
        focus_schema("1.2"),
    )
    write_focus_file(tmp_path / "lake", old, "part-0.parquet")
    write_focus_file(tmp_path / "lake", new, "part-1.parquet")
    build(tmp_path)
    assert staged(tmp_path / "smcost.duckdb") == [("new", None, 3.0, 3.0), ("old", None, 2.0, 2.0)]


def test_sku_price_details_reads_as_json_text_whatever_its_physical_type(tmp_path: Path):
    # The FOCUS re-export carries SkuPriceDetails, so stg_focus__charge_details reads the column that
    # stg_focus__charges never touches: text in one file and a map in another of the same period
    # (with a null map and a value needing JSON escaping) must build, each row's details the object
    # written, keyed to the staged charges (assert_focus_charge_details_key_the_staged_charges runs).
    old_details = {"InstanceType": "ml.m5.xlarge", "OperatingSystem": "Linux"}
    new_details = [("InstanceType", "ml.g5.xlarge"), ("Note", 'a "quoted" \\ value')]
    old = focus_table(
        [{"ResourceId": "old", "SkuMeter": "USE1-Train:ml.m5.xlarge", "SkuPriceDetails": json.dumps(old_details)}],
        legacy_schema(),
    )
    new = focus_table(
        [
            {"ResourceId": "new", "SkuMeter": "USE1-Host:ml.g5.xlarge", "SkuPriceDetails": new_details},
            {"ResourceId": "none", "SkuMeter": "USE1-Host:ml.g5.xlarge", "SkuPriceDetails": None},
        ],
        focus_schema("1.2"),
    )
    write_focus_file(tmp_path / "lake", old, "part-0.parquet")
    write_focus_file(tmp_path / "lake", new, "part-1.parquet")
    write_empty_datasets(tmp_path / "lake")
    run_dbt(
        ["build", "--select", "+stg_focus__charges", "+stg_focus__charge_details", "--indirect-selection", "cautious"],
        lake_root=tmp_path / "lake",
        database=tmp_path / "smcost.duckdb",
        work=tmp_path,
    )
    with duckdb.connect(str(tmp_path / "smcost.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select charges.resource_id, details.sku_price_details from stg_focus__charges as charges "
            "inner join stg_focus__charge_details as details using (charge_id)"
        ).fetchall()
    read = {resource: None if text is None else json.loads(text) for resource, text in rows}
    assert read == {"old": old_details, "new": dict(new_details), "none": None}


# --------------------------------------------------------------------------------------------------
# FOCUS 1.3: ServiceProviderName / HostProviderName instead of ProviderName / PublisherName, and split
# cost allocation (an origin charge replaced by allocated charges whose costs sum to it).


def focus_1_3_schema() -> pa.Schema:
    schema = focus_schema("1.2")
    for gone in ("ProviderName", "PublisherName"):
        schema = schema.remove(schema.get_field_index(gone))
    added = [
        ("AllocatedMethodDetails", pa.string()),
        ("AllocatedMethodId", pa.string()),
        ("AllocatedResourceId", pa.string()),
        ("AllocatedResourceName", pa.string()),
        ("AllocatedTags", TAGS),
        ("HostProviderName", pa.string()),
        ("ServiceProviderName", pa.string()),
    ]
    for name, type_ in added:
        schema = schema.append(pa.field(name, type_))
    return schema


ENDPOINT = "arn:aws:sagemaker:us-east-1:222222222222:endpoint/shared"
SPLIT = {"ResourceId": ENDPOINT, "SkuMeter": "USE1-Host:ml.g5.12xlarge", "SkuPriceId": "P1"}
PROVIDERS = {"ServiceProviderName": "AWS", "HostProviderName": "AWS"}


def allocated(resource: str | None, cost: float, ratio: float) -> dict:
    return {
        **SPLIT,
        **PROVIDERS,
        "BilledCost": cost,
        "EffectiveCost": cost,
        "AllocatedMethodId": "x_InferenceComponentGpuShare",
        "AllocatedMethodDetails": json.dumps({"Elements": [{"AllocatedRatio": ratio, "UsageUnit": "GPU"}]}),
        "AllocatedResourceId": resource,
        "AllocatedResourceName": resource,
    }


# An origin of $10 on the endpoint, split 6 / 3 between two components and 1 unallocated.
ALLOCATED_ROWS = [allocated("ic-a", 6.0, 0.6), allocated("ic-b", 3.0, 0.3), allocated(None, 1.0, 0.1)]
UNSPLIT_ROW = {**PROVIDERS, "ResourceId": "arn:aws:sagemaker:us-east-1:222222222222:training-job/t", "SkuMeter": "USE1-Train:ml.m5.xlarge", "BilledCost": 5.0, "EffectiveCost": 5.0}  # fmt: skip


def test_focus_1_3_split_charges_count_each_dollar_once(tmp_path: Path):
    rows = [*ALLOCATED_ROWS, UNSPLIT_ROW]
    write_focus_file(tmp_path / "lake", focus_table(rows, focus_1_3_schema()))
    build(tmp_path, vars={"focus_version": "1.3"})
    result = staged(tmp_path / "smcost.duckdb")
    assert sum(r[2] for r in result) == pytest.approx(15.0) == sum(r["BilledCost"] for r in rows)
    assert sum(r[2] for r in result if r[0] == ENDPOINT) == pytest.approx(10.0)
    assert {r[1] for r in result} == {"AWS"}  # ServiceProviderName, ProviderName absent


def test_focus_1_3_origin_repeated_beside_its_split_stops_the_build(tmp_path: Path):
    origin = {**SPLIT, **PROVIDERS, "BilledCost": 10.0, "EffectiveCost": 10.0}
    write_focus_file(tmp_path / "lake", focus_table([origin, *ALLOCATED_ROWS], focus_1_3_schema()))
    result = build(tmp_path, vars={"focus_version": "1.3"}, check=False)
    assert result.returncode != 0
    assert "assert_focus_split_charges_are_not_repeated" in result.stdout


def test_a_focus_version_staging_cannot_read_is_refused(tmp_path: Path):
    write_focus_file(tmp_path / "lake", focus_table([UNSPLIT_ROW], focus_1_3_schema()))
    result = build(tmp_path, vars={"focus_version": "1.4"}, check=False)
    assert result.returncode != 0
    assert "must be '1.0', '1.2' or '1.3'" in result.stdout + result.stderr
