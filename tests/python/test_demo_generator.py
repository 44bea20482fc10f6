"""Specification of `smcost demo`, the demo-account generator.

Each test states one behaviour the rest of the product relies on. Expectations come from the FOCUS
spec, REFERENCE.md §2-§4 and the arguments given to the generator, or are computed independently
from the generated data (e.g. the bill against the metadata): never copied from a previous run.

Lakes are generated once per module (about a second each at scale 1). Tests marked
``xfail(strict=True)`` pin a known generator bug: they turn into failures (XPASS) once it is fixed,
so the marker gets removed with the fix.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from smcost.demo import generate
from smcost.schemas import DATASETS, GROUND_TRUTH

REPO = Path(__file__).resolve().parents[2]
EXPORT = "sagemaker-focus"

# ---------------------------------------------------------------------------------------------
# Independent expectations, written from the FOCUS spec and REFERENCE.md §2 (not from schemas.py)
# ---------------------------------------------------------------------------------------------

# FOCUS 1.0 (tag v1.0): 43 columns.
FOCUS_1_0_COLUMNS = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
]
# FOCUS 1.1 added these seven ...
FOCUS_1_1_ADDED = [
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
]
# ... and FOCUS 1.2 these seven; nothing was removed or renamed.
FOCUS_1_2_ADDED = [
    "BillingAccountType",
    "SubAccountType",
    "InvoiceId",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
]
FOCUS_1_2_COLUMNS = FOCUS_1_0_COLUMNS + FOCUS_1_1_ADDED + FOCUS_1_2_ADDED
# AWS Data Exports: FOCUS_1_0_AWS and FOCUS_1_2_AWS append these.
AWS_1_0_COLUMNS = ["x_CostCategories", "x_Discounts", "x_Operation", "x_ServiceCode", "x_UsageType"]
AWS_1_2_COLUMNS = ["x_Discounts", "x_Operation", "x_ServiceCode"]

ALLOWED_VALUES = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"Correction", None},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"Standard", "Dynamic", "Committed", "Other", None},
    "CommitmentDiscountCategory": {"Spend", "Usage", None},
    "CommitmentDiscountStatus": {"Used", "Unused", None},
}
COST_COLUMNS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingCurrencyEffectiveCost"]
PRICE_AND_QUANTITY_COLUMNS = [
    "ListUnitPrice",
    "ContractedUnitPrice",
    "PricingCurrencyListUnitPrice",
    "PricingCurrencyContractedUnitPrice",
    "ConsumedQuantity",
    "PricingQuantity",
    "CommitmentDiscountQuantity",
]
PERIOD_COLUMNS = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"]
SAGEMAKER_SCOPE = {"AmazonSageMaker", "MachineLearningSavingsPlans"}  # REFERENCE §3
# The four canonical keys and the spellings the product tolerates (compared case-insensitively).
TAG_KEY_ALIASES = {
    "team": {"ml:team", "team"},
    "model": {"ml:model", "model"},
    "experiment": {"ml:experiment"},
    "environment": {"ml:environment", "environment"},
}

# ---------------------------------------------------------------------------------------------
# Lakes (one generation per module) and readers
# ---------------------------------------------------------------------------------------------

DEFAULT = dict(seed=42, months=3, start_month="2026-08", scale=1, focus_version="1.2")
# Seed 4 is a second, different account; its correction happens to restate a production job.
OTHER_SEED = dict(DEFAULT, seed=4)
# FOCUS 1.0 over four months across a year boundary.
FOCUS_1_0 = dict(DEFAULT, focus_version="1.0", months=4, start_month="2025-11")
SCALE_2 = dict(DEFAULT, scale=2)


def _generate(tmp_path_factory, name: str, args: dict) -> Path:
    root = tmp_path_factory.mktemp(name)
    generate(str(root), **args)
    return root


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory, "lake-default", DEFAULT)


@pytest.fixture(scope="module")
def lake_same_seed(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory, "lake-same-seed", DEFAULT)


@pytest.fixture(scope="module")
def lake_other_seed(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory, "lake-other-seed", OTHER_SEED)


@pytest.fixture(scope="module")
def lake_focus_1_0(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory, "lake-focus-1-0", FOCUS_1_0)


@pytest.fixture(scope="module")
def lake_scale_2(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory, "lake-scale-2", SCALE_2)


LAKES = {  # fixture name -> the arguments it was generated with
    "lake": DEFAULT,
    "lake_other_seed": OTHER_SEED,
    "lake_focus_1_0": FOCUS_1_0,
}


def billing_dir(root: Path) -> Path:
    return root / "billing" / EXPORT / "data"


def parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


def read_folder(folder: Path) -> pa.Table:
    files = parquet_files(folder)
    assert files, f"no Parquet file in {folder}"
    return pa.concat_tables([pq.read_table(f) for f in files])


_CACHE: dict[tuple[str, str], object] = {}


def read_bill(root: Path) -> pa.Table:
    key = (str(root), "bill")
    if key not in _CACHE:
        _CACHE[key] = pa.concat_tables([read_folder(p) for p in sorted(billing_dir(root).iterdir()) if p.is_dir()])
    return _CACHE[key]


def read_truth(root: Path) -> pa.Table:
    key = (str(root), "truth")
    if key not in _CACHE:
        _CACHE[key] = read_folder(root / "demo" / "ground_truth")
    return _CACHE[key]


def read_dataset(root: Path, name: str) -> pa.Table:
    key = (str(root), name)
    if key not in _CACHE:
        partitions = sorted((root / "sagemaker" / name).glob("extract_date=*"))
        _CACHE[key] = pa.concat_tables([read_folder(p) for p in partitions])
    return _CACHE[key]


def rows(table: pa.Table, *columns: str) -> list[dict]:
    return table.select(list(columns)).to_pylist()


def usage_type_column(args: dict) -> str:
    return {"1.0": "x_UsageType", "1.2": "SkuMeter"}[args["focus_version"]]


def sagemaker_scope(bill: pa.Table) -> pa.Table:
    return bill.filter(pc.is_in(bill["x_ServiceCode"], pa.array(sorted(SAGEMAKER_SCOPE))))


def usage_contains(bill: pa.Table, text: str, column: str = "SkuMeter") -> pa.Table:
    return bill.filter(pc.fill_null(pc.match_substring(bill[column], text), False))


def expected_periods(start_month: str, months: int) -> list[str]:
    year, month = map(int, start_month.split("-"))
    out = []
    for _ in range(months):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def first_of_next_month(day: datetime) -> datetime:
    return datetime(day.year + 1, 1, 1) if day.month == 12 else datetime(day.year, day.month + 1, 1)


def tag_keys(tags) -> set[str]:
    return {k.strip().lower() for k, _ in (tags or [])}


def carries_all_four(tags) -> bool:
    keys = tag_keys(tags)
    return all(keys & aliases for aliases in TAG_KEY_ALIASES.values())


def documented_join_key() -> list[str]:
    match = re.search(r"Joins to the bill on \(([^)]*)\)", " ".join(GROUND_TRUTH.description.split()))
    assert match, "GROUND_TRUTH.description no longer documents its join key"
    return [c.strip() for c in match.group(1).split(",")]


def bill_join_keys(bill: pa.Table, args: dict) -> list[tuple]:
    """The documented join key of each bill row, built from the FOCUS columns the key names describe."""
    from_bill = {
        "billing_period": [d.strftime("%Y-%m") for d in bill["BillingPeriodStart"].to_pylist()],
        "sub_account_id": bill["SubAccountId"].to_pylist(),
        "resource_id": bill["ResourceId"].to_pylist(),
        "charge_period_start": bill["ChargePeriodStart"].to_pylist(),
        "usage_type": bill[usage_type_column(args)].to_pylist(),
        "charge_category": bill["ChargeCategory"].to_pylist(),
        "charge_class": bill["ChargeClass"].to_pylist(),
        "pricing_category": bill["PricingCategory"].to_pylist(),
    }
    return list(zip(*(from_bill[name] for name in documented_join_key()), strict=True))


def sagemaker_truth(truth: pa.Table) -> pa.Table:
    """The ground truth of SageMaker-scope rows (the neighbours' are specified in test_demo_neighbours.py)."""
    return truth.filter(pc.is_in(truth["service_code"], pa.array(sorted(SAGEMAKER_SCOPE))))


def truth_join_keys(truth: pa.Table) -> list[tuple]:
    return list(zip(*(truth[name].to_pylist() for name in documented_join_key()), strict=True))


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


def _all_partitions(root: Path) -> dict[str, Path]:
    folders = [p for p in root.rglob("*") if p.is_dir() and parquet_files(p)]
    return {str(p.relative_to(root)): p for p in folders}


def test_same_seed_writes_identical_tables(lake, lake_same_seed):
    first, second = _all_partitions(lake), _all_partitions(lake_same_seed)
    assert first.keys() == second.keys()
    for partition in first:
        assert read_folder(first[partition]).equals(read_folder(second[partition]), check_metadata=True), partition


def test_same_seed_writes_byte_identical_files_apart_from_their_names(lake, lake_same_seed):
    first, second = _all_partitions(lake), _all_partitions(lake_same_seed)
    for partition in first:
        a = [f.read_bytes() for f in parquet_files(first[partition])]
        b = [f.read_bytes() for f in parquet_files(second[partition])]
        assert a == b, partition


def test_a_different_seed_writes_a_different_bill(lake, lake_other_seed):
    assert not read_bill(lake).equals(read_bill(lake_other_seed))


# ---------------------------------------------------------------------------------------------
# The FOCUS files have the AWS export's shape
# ---------------------------------------------------------------------------------------------


def _bill_files(root: Path) -> list[Path]:
    files = sorted(billing_dir(root).glob("BILLING_PERIOD=*/*.parquet"))
    assert files
    return files


def test_independent_column_lists_have_the_spec_counts():
    assert len(FOCUS_1_0_COLUMNS) == len(set(FOCUS_1_0_COLUMNS)) == 43
    assert len(FOCUS_1_2_COLUMNS) == len(set(FOCUS_1_2_COLUMNS)) == 57


def test_focus_1_2_files_have_exactly_the_60_columns_of_focus_1_2_aws(lake):
    expected = set(FOCUS_1_2_COLUMNS) | set(AWS_1_2_COLUMNS)
    assert len(expected) == 60
    for f in _bill_files(lake):
        names = pq.read_schema(f).names
        assert len(names) == 60, f
        assert set(names) == expected, f


def test_focus_1_0_files_have_exactly_the_48_columns_of_focus_1_0_aws(lake_focus_1_0):
    expected = set(FOCUS_1_0_COLUMNS) | set(AWS_1_0_COLUMNS)
    assert len(expected) == 48
    for f in _bill_files(lake_focus_1_0):
        names = pq.read_schema(f).names
        assert len(names) == 48 and set(names) == expected, f
        assert {"x_UsageType", "x_CostCategories"} <= set(names)
        assert "SkuMeter" not in names


@pytest.mark.parametrize("lake_name", ["lake", "lake_focus_1_0"])
def test_focus_column_names_are_pascal_case(request, lake_name):
    for f in _bill_files(request.getfixturevalue(lake_name)):
        for name in pq.read_schema(f).names:
            assert re.fullmatch(r"(x_)?[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)*", name), name


@pytest.mark.parametrize("lake_name", ["lake", "lake_focus_1_0"])
def test_tags_are_a_string_to_string_map(request, lake_name):
    for f in _bill_files(request.getfixturevalue(lake_name)):
        assert pq.read_schema(f).field("Tags").type == pa.map_(pa.string(), pa.string()), f


@pytest.mark.parametrize("lake_name", ["lake", "lake_focus_1_0"])
def test_costs_prices_and_quantities_are_doubles(request, lake_name):
    for f in _bill_files(request.getfixturevalue(lake_name)):
        schema = pq.read_schema(f)
        for name in COST_COLUMNS + PRICE_AND_QUANTITY_COLUMNS:
            if name in schema.names:  # 1.0 lacks the 1.1/1.2 ones
                assert schema.field(name).type == pa.float64(), (f, name)
        for name in COST_COLUMNS[:4]:
            assert name in schema.names


@pytest.mark.parametrize("lake_name", ["lake", "lake_focus_1_0"])
def test_the_four_period_columns_are_millisecond_timestamps_without_zone(request, lake_name):
    for f in _bill_files(request.getfixturevalue(lake_name)):
        schema = pq.read_schema(f)
        for name in PERIOD_COLUMNS:
            assert schema.field(name).type == pa.timestamp("ms"), (f, name)


# ---------------------------------------------------------------------------------------------
# Allowed values and periods
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lake_name", list(LAKES))
@pytest.mark.parametrize("column", sorted(ALLOWED_VALUES))
def test_columns_with_allowed_values_hold_only_those(request, lake_name, column):
    bill = read_bill(request.getfixturevalue(lake_name))
    assert set(pc.unique(bill[column]).to_pylist()) <= ALLOWED_VALUES[column]


def test_sagemaker_rows_are_in_the_ai_and_machine_learning_service_category(lake):
    bill = read_bill(lake)
    sagemaker = bill.filter(pc.equal(bill["x_ServiceCode"], "AmazonSageMaker"))
    assert set(pc.unique(sagemaker["ServiceCategory"]).to_pylist()) == {"AI and Machine Learning"}


def test_pricing_category_is_set_on_usage_and_purchase_and_null_on_tax(lake):
    """FOCUS: PricingCategory MUST NOT be null when ChargeClass is not Correction and ChargeCategory is
    Usage or Purchase, and MUST be null when ChargeCategory is Tax."""
    for row in rows(read_bill(lake), "ChargeCategory", "ChargeClass", "PricingCategory", "x_Operation"):
        if row["ChargeCategory"] == "Tax":
            assert row["PricingCategory"] is None, row
        elif row["ChargeCategory"] in ("Usage", "Purchase") and row["ChargeClass"] != "Correction":
            assert row["PricingCategory"] is not None, row


def test_spot_training_is_priced_dynamic(lake):
    """REFERENCE §2-3: spot is PricingCategory Dynamic; spot training usage types contain TrSpt."""
    bill = read_bill(lake)
    spot = usage_contains(bill, "TrSpt")
    assert spot.num_rows > 0
    assert set(pc.unique(spot["PricingCategory"]).to_pylist()) == {"Dynamic"}
    dynamic = bill.filter(pc.equal(bill["PricingCategory"], "Dynamic"))
    assert dynamic.num_rows == spot.num_rows


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_billing_periods_run_from_the_first_of_a_month_to_the_first_of_the_next(request, lake_name):
    bill = read_bill(request.getfixturevalue(lake_name))
    pairs = set(zip(bill["BillingPeriodStart"].to_pylist(), bill["BillingPeriodEnd"].to_pylist(), strict=True))
    for start, end in pairs:
        assert (start.day, start.hour, start.minute, start.second, start.microsecond) == (1, 0, 0, 0, 0)
        assert end == first_of_next_month(start)


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_each_billing_file_sits_in_the_folder_of_its_rows_billing_period(request, lake_name):
    for f in _bill_files(request.getfixturevalue(lake_name)):
        folder_period = f.parent.name.removeprefix("BILLING_PERIOD=")
        starts = pc.unique(pq.read_table(f, columns=["BillingPeriodStart"])["BillingPeriodStart"]).to_pylist()
        assert [s.strftime("%Y-%m") for s in starts] == [folder_period], f


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_charge_periods_start_before_they_end(request, lake_name):
    bill = read_bill(request.getfixturevalue(lake_name))
    assert pc.all(pc.less(bill["ChargePeriodStart"], bill["ChargePeriodEnd"])).as_py()


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_charge_periods_lie_inside_their_billing_period_except_corrections(request, lake_name):
    bill = read_bill(request.getfixturevalue(lake_name))
    regular = bill.filter(pc.invert(pc.fill_null(pc.equal(bill["ChargeClass"], "Correction"), False)))
    assert pc.all(pc.greater_equal(regular["ChargePeriodStart"], regular["BillingPeriodStart"])).as_py()
    assert pc.all(pc.less_equal(regular["ChargePeriodEnd"], regular["BillingPeriodEnd"])).as_py()


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_a_correction_restates_an_earlier_billing_period(request, lake_name):
    bill = read_bill(request.getfixturevalue(lake_name))
    corrections = rows(
        bill.filter(pc.fill_null(pc.equal(bill["ChargeClass"], "Correction"), False)),
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BillingPeriodStart",
    )
    assert corrections
    for row in corrections:
        assert row["ChargePeriodStart"] < row["BillingPeriodStart"]
        assert row["ChargePeriodEnd"] <= row["BillingPeriodStart"]


@pytest.mark.parametrize("lake_name", list(LAKES))  # seed 4's correction restates a production job
def test_a_correction_is_booked_to_the_account_that_owns_the_restated_resource(request, lake_name):
    bill = read_bill(request.getfixturevalue(lake_name))
    corrections = bill.filter(pc.fill_null(pc.equal(bill["ChargeClass"], "Correction"), False))
    assert corrections.num_rows > 0
    for row in rows(corrections, "ResourceId", "SubAccountId"):
        if row["ResourceId"] and row["ResourceId"].startswith("arn:"):
            assert row["ResourceId"].split(":")[4] == row["SubAccountId"], row


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_billing_partitions_are_exactly_the_requested_periods(request, lake_name):
    root, args = request.getfixturevalue(lake_name), LAKES[lake_name]
    folders = sorted(p.name for p in billing_dir(root).iterdir())
    assert folders == [f"BILLING_PERIOD={p}" for p in expected_periods(args["start_month"], args["months"])]
    for folder in billing_dir(root).iterdir():
        names = [p.name for p in folder.iterdir()]
        assert names and all(n.endswith(".parquet") and not n.startswith(".") for n in names), names


@pytest.mark.parametrize("lake_name", ["lake", "lake_focus_1_0"])
def test_every_dataset_lands_in_one_extract_date_partition_with_exactly_its_schema(request, lake_name):
    root = request.getfixturevalue(lake_name)
    assert sorted(p.name for p in (root / "sagemaker").iterdir()) == sorted(DATASETS)
    for name, dataset in DATASETS.items():
        partitions = list((root / "sagemaker" / name).iterdir())
        assert len(partitions) == 1, name
        assert re.fullmatch(r"extract_date=\d{4}-\d{2}-\d{2}", partitions[0].name), partitions[0]
        datetime.strptime(partitions[0].name.split("=", 1)[1], "%Y-%m-%d")
        for f in parquet_files(partitions[0]):
            schema = pq.read_schema(f)
            assert [(x.name, x.type) for x in schema] == [(x.name, x.type) for x in dataset.schema], (name, f)


@pytest.mark.parametrize("lake_name", ["lake", "lake_scale_2"])
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_every_landed_dataset_is_unique_on_its_key_within_an_account_and_region(request, lake_name, dataset):
    table = read_dataset(request.getfixturevalue(lake_name), dataset)
    columns = ["account_id", "region", *DATASETS[dataset].key]
    keys = list(zip(*(table[c].to_pylist() for c in columns), strict=True))
    assert len(keys) == len(set(keys))


def test_ground_truth_lands_with_exactly_its_schema(lake):
    files = parquet_files(lake / "demo" / "ground_truth")
    assert files
    for f in files:
        assert [(x.name, x.type) for x in pq.read_schema(f)] == [(x.name, x.type) for x in GROUND_TRUTH.schema]


def test_the_lake_holds_only_billing_metadata_and_demo_folders(lake):
    assert sorted(p.name for p in lake.iterdir()) == ["billing", "demo", "sagemaker"]
    assert [p.name for p in (lake / "billing").iterdir()] == [EXPORT]


def test_regenerating_into_the_same_folder_leaves_only_the_new_account(tmp_path):
    """The demo owns its lake: a rerun with fewer months leaves no stale period or extract date behind."""
    generate(str(tmp_path), **dict(DEFAULT, months=3))
    generate(str(tmp_path), **dict(DEFAULT, months=2))
    assert sorted(p.name for p in billing_dir(tmp_path).iterdir()) == [
        f"BILLING_PERIOD={p}" for p in expected_periods(DEFAULT["start_month"], 2)
    ]
    for name in DATASETS:
        assert len(list((tmp_path / "sagemaker" / name).iterdir())) == 1, name


# ---------------------------------------------------------------------------------------------
# The scenario covers the hard cases
# ---------------------------------------------------------------------------------------------


def test_two_accounts_two_regions_and_at_least_three_billing_periods(lake):
    bill = sagemaker_scope(read_bill(lake))
    assert len(pc.unique(bill["SubAccountId"])) == 2
    assert len(pc.unique(bill["RegionId"])) == 2
    assert len(pc.unique(bill["BillingPeriodStart"])) >= 3


def test_ground_truth_spans_at_least_four_teams_and_twelve_models(lake):
    truth = read_truth(lake)
    teams = {t for t in truth["team"].to_pylist() if t}
    models = {m for m in truth["model"].to_pylist() if m and m != "__idle__"}
    assert len(teams) >= 4, teams
    assert len(models) >= 12, models


def test_spot_training_jobs_bill_fewer_seconds_than_they_ran(lake):
    jobs = rows(read_dataset(lake, "training_jobs"), "is_managed_spot", "billable_seconds", "training_seconds")
    spot = [j for j in jobs if j["is_managed_spot"]]
    assert spot
    assert all(j["billable_seconds"] < j["training_seconds"] for j in spot)


def test_training_instance_hours_in_the_bill_match_the_jobs_billable_and_warm_pool_seconds(lake):
    """REFERENCE §4: compute = BillableTimeInSeconds x InstanceCount, warm pools bill
    ResourceRetainedBillableTimeInSeconds x InstanceCount."""
    bill = read_bill(lake)
    hours: dict[str, float] = defaultdict(float)
    for row in rows(bill, "ResourceId", "SkuMeter", "ChargeClass", "PricingQuantity"):
        meter = row["SkuMeter"] or ""
        if row["ChargeClass"] is None and any(f"-{kind}:ml." in meter for kind in ("Train", "TrSpt", "TrainWarmPool")):
            hours[row["ResourceId"].lower()] += row["PricingQuantity"]
    jobs = rows(
        read_dataset(lake, "training_jobs"),
        "training_job_arn",
        "billable_seconds",
        "instance_count",
        "warm_pool_retained_billable_seconds",
    )
    assert jobs
    # A name reused after deletion is one ARN on the bill: its hours are all its incarnations'.
    expected: dict[str, float] = defaultdict(float)
    for job in jobs:
        seconds = job["billable_seconds"] + (job["warm_pool_retained_billable_seconds"] or 0)
        expected[job["training_job_arn"].lower()] += seconds * job["instance_count"] / 3600
    assert len(expected) < len(jobs)  # the demo reuses a name (training.add_reused_job_name)
    for arn, job_hours in expected.items():
        assert hours[arn] == pytest.approx(job_hours), arn


def test_a_heterogeneous_training_job_bills_each_of_its_instance_groups(lake):
    jobs = rows(read_dataset(lake, "training_jobs"), "training_job_arn", "instance_groups", "instance_type")
    hetero = [j for j in jobs if j["instance_groups"] and len(j["instance_groups"]) >= 2]
    assert hetero
    bill = read_bill(lake)
    for job in hetero:
        assert job["instance_type"] is None
        meters = set(
            usage_contains(
                bill.filter(pc.equal(pc.utf8_lower(bill["ResourceId"]), job["training_job_arn"].lower())), "Train:ml."
            )["SkuMeter"].to_pylist()
        )
        for group in job["instance_groups"]:
            assert any(m.endswith(f"Train:{group['instance_type']}") for m in meters), (job, meters)


def test_hpo_children_link_to_a_tuning_job_that_was_landed(lake):
    parents = set(read_dataset(lake, "tuning_jobs")["tuning_job_arn"].to_pylist())
    children = [a for a in read_dataset(lake, "training_jobs")["tuning_job_arn"].to_pylist() if a]
    assert len(children) >= 2
    assert set(children) <= parents


def test_a_training_job_keeps_a_warm_pool(lake):
    seconds = read_dataset(lake, "training_jobs")["warm_pool_retained_billable_seconds"].to_pylist()
    assert any(s and s > 0 for s in seconds)


def test_warm_pool_retained_time_bills_as_train_warm_pool_on_the_job_that_kept_it(lake):
    """CUDOS's TrainWarmPool group: the retained hours are their own usage type, on the job's ARN,
    as many as ResourceRetainedBillableTimeInSeconds x InstanceCount."""
    jobs = rows(
        read_dataset(lake, "training_jobs"), "training_job_arn", "warm_pool_retained_billable_seconds", "instance_count"
    )
    pools = {
        j["training_job_arn"].lower(): j["warm_pool_retained_billable_seconds"] * j["instance_count"] / 3600
        for j in jobs
        if j["warm_pool_retained_billable_seconds"]
    }
    billed: dict[str, float] = defaultdict(float)
    for row in rows(read_bill(lake), "ResourceId", "SkuMeter", "PricingQuantity"):
        if "-TrainWarmPool:ml." in (row["SkuMeter"] or ""):
            billed[row["ResourceId"].lower()] += row["PricingQuantity"]
    assert pools
    assert billed.keys() == pools.keys()
    for arn, hours in pools.items():
        assert billed[arn] == pytest.approx(hours), arn


def _endpoint_incarnations(root: Path) -> dict[str, set]:
    out: dict[str, set] = defaultdict(set)
    for row in rows(read_dataset(root, "endpoints"), "endpoint_arn", "endpoint_created_at"):
        out[row["endpoint_arn"].lower()].add(row["endpoint_created_at"])
    return out


def test_an_endpoint_changes_its_hourly_instance_count_without_being_recreated(lake):
    incarnations = _endpoint_incarnations(lake)
    bill = read_bill(lake)
    per_hour: dict[tuple, float] = defaultdict(float)
    hosting = usage_contains(bill.filter(pc.equal(bill["ChargeCategory"], "Usage")), "Host:ml.")
    for row in rows(hosting, "ResourceId", "ChargePeriodStart", "PricingQuantity"):
        per_hour[(row["ResourceId"].lower(), row["ChargePeriodStart"])] += row["PricingQuantity"]
    counts: dict[str, set] = defaultdict(set)
    for (arn, _), quantity in per_hour.items():
        counts[arn].add(round(quantity, 9))
    scaling = [arn for arn, values in counts.items() if len(values) > 1 and len(incarnations.get(arn, ())) == 1]
    assert scaling


def test_an_endpoint_name_is_reused_by_a_second_incarnation_with_another_config(lake):
    by_arn: dict[str, list[dict]] = defaultdict(list)
    for row in rows(read_dataset(lake, "endpoints"), "endpoint_arn", "endpoint_created_at", "endpoint_config_name"):
        by_arn[row["endpoint_arn"]].append(row)
    reused = [
        r
        for r in by_arn.values()
        if len({x["endpoint_created_at"] for x in r}) >= 2 and len({x["endpoint_config_name"] for x in r}) >= 2
    ]
    assert reused


def test_a_multi_model_endpoint_reports_per_target_model_invocations_for_three_models(lake):
    mme_models = {
        r["model_name"]
        for r in rows(read_dataset(lake, "models"), "model_name", "container_mode")
        if r["container_mode"] == "MultiModel"
    }
    assert mme_models
    configs = {
        r["endpoint_config_name"]
        for r in rows(read_dataset(lake, "endpoint_configs"), "endpoint_config_name", "model_name")
        if r["model_name"] in mme_models
    }
    endpoints = {
        r["endpoint_name"]
        for r in rows(read_dataset(lake, "endpoints"), "endpoint_name", "endpoint_config_name")
        if r["endpoint_config_name"] in configs
    }
    assert endpoints
    targets = defaultdict(set)
    for r in rows(read_dataset(lake, "endpoint_invocations"), "metric_dimension", "endpoint_name", "target_model"):
        if r["metric_dimension"] == "target_model" and r["endpoint_name"] in endpoints:
            targets[r["endpoint_name"]].add(r["target_model"])
    assert any(len(t) >= 3 for t in targets.values()), targets


def test_inference_components_sit_on_a_landed_endpoint_and_report_their_own_invocations(lake):
    components = rows(read_dataset(lake, "inference_components"), "inference_component_name", "endpoint_name")
    assert components
    endpoints = set(read_dataset(lake, "endpoints")["endpoint_name"].to_pylist())
    assert {c["endpoint_name"] for c in components} <= endpoints
    measured = {
        r["inference_component_name"]
        for r in rows(read_dataset(lake, "endpoint_invocations"), "metric_dimension", "inference_component_name")
        if r["metric_dimension"] == "inference_component"
    }
    assert {c["inference_component_name"] for c in components} <= measured


def _config_endpoint_arns(root: Path, predicate) -> set[str]:
    configs = {r["endpoint_config_name"] for r in read_dataset(root, "endpoint_configs").to_pylist() if predicate(r)}
    return {
        r["endpoint_arn"].lower()
        for r in rows(read_dataset(root, "endpoints"), "endpoint_arn", "endpoint_config_name")
        if r["endpoint_config_name"] in configs
    }


def _billed_arns(root: Path, usage_text: str) -> set[str]:
    return {a.lower() for a in usage_contains(read_bill(root), usage_text)["ResourceId"].to_pylist() if a}


def test_a_serverless_endpoint_config_is_billed_as_serverless_inference(lake):
    arns = _config_endpoint_arns(lake, lambda r: (r["serverless_memory_mb"] or 0) > 0 and r["instance_type"] is None)
    assert arns
    assert arns & _billed_arns(lake, "ServerlessInf")


def test_an_async_endpoint_config_is_billed_as_async_inference(lake):
    arns = _config_endpoint_arns(lake, lambda r: r["is_async"])
    assert arns
    assert arns & _billed_arns(lake, "AsyncInf:")


@pytest.mark.parametrize(
    "dataset, arn_column, usage_text",
    [
        ("transform_jobs", "transform_job_arn", "Tsform:"),
        ("processing_jobs", "processing_job_arn", "Processing:"),
        ("notebook_instances", "notebook_instance_arn", "Notebk:"),
        ("studio_apps", "app_arn", "Studio:"),
    ],
)
def test_landed_resources_of_each_kind_are_billed_under_their_arn(lake, dataset, arn_column, usage_text):
    landed = {a.lower() for a in read_dataset(lake, dataset)[arn_column].to_pylist()}
    assert landed
    assert landed & _billed_arns(lake, usage_text)


def test_processing_jobs_run_under_a_role_no_training_job_uses(lake):
    processing = set(read_dataset(lake, "processing_jobs")["role_arn"].to_pylist())
    training = set(read_dataset(lake, "training_jobs")["role_arn"].to_pylist())
    assert processing
    assert not processing & training


def test_a_plain_ec2_g5_instance_sits_beside_sagemaker_outside_its_scope(lake):
    bill = read_bill(lake)
    ec2 = usage_contains(bill.filter(pc.equal(bill["x_ServiceCode"], "AmazonEC2")), "g5")
    assert ec2.num_rows > 0
    truth_resources = set(read_truth(lake)["resource_id"].to_pylist())
    assert not set(ec2["ResourceId"].to_pylist()) & truth_resources


def test_savings_plan_covered_usage_is_billed_zero_and_amortized_into_effective_cost(lake):
    bill = read_bill(lake)
    covered = [
        r
        for r in rows(
            bill, "x_ServiceCode", "PricingCategory", "CommitmentDiscountStatus", "BilledCost", "EffectiveCost"
        )
        if r["x_ServiceCode"] == "AmazonSageMaker" and r["PricingCategory"] == "Committed"
    ]
    assert covered
    assert all(
        r["BilledCost"] == 0 and r["EffectiveCost"] > 0 and r["CommitmentDiscountStatus"] == "Used" for r in covered
    )


def test_the_ml_savings_plan_bills_a_recurring_fee(lake):
    bill = read_bill(lake)
    fees = [
        r
        for r in rows(bill, "x_ServiceCode", "ChargeCategory", "ChargeFrequency", "BilledCost", "CommitmentDiscountId")
        if r["x_ServiceCode"] == "MachineLearningSavingsPlans" and r["ChargeCategory"] == "Purchase"
    ]
    assert fees
    assert all(r["BilledCost"] > 0 and r["ChargeFrequency"] == "Recurring" and r["CommitmentDiscountId"] for r in fees)


def test_the_savings_plan_fee_is_fully_amortized_each_hour_into_used_and_unused_effective_cost(lake):
    bill = read_bill(lake)
    fee, amortized = defaultdict(float), defaultdict(float)
    for r in rows(
        bill,
        "CommitmentDiscountId",
        "CommitmentDiscountStatus",
        "ChargeCategory",
        "ChargePeriodStart",
        "BilledCost",
        "EffectiveCost",
    ):
        if not r["CommitmentDiscountId"]:
            continue
        key = (r["CommitmentDiscountId"], r["ChargePeriodStart"])
        if r["ChargeCategory"] == "Purchase":
            fee[key] += r["BilledCost"]
        elif r["CommitmentDiscountStatus"] in ("Used", "Unused"):
            amortized[key] += r["EffectiveCost"]
    assert fee
    assert amortized.keys() <= fee.keys()
    for key, cost in fee.items():
        assert amortized[key] == pytest.approx(cost, abs=1e-9), key


def test_the_bill_carries_a_credit_a_tax_and_a_correction(lake):
    bill = read_bill(lake)
    by = rows(bill, "ChargeCategory", "ChargeClass", "BilledCost")
    assert any(r["ChargeCategory"] == "Credit" and r["BilledCost"] < 0 for r in by)
    assert any(r["ChargeCategory"] == "Tax" and r["BilledCost"] > 0 for r in by)
    assert any(r["ChargeClass"] == "Correction" for r in by)


def test_some_bill_tag_keys_drift_from_the_canonical_spelling(lake):
    keys = {k for tags in read_bill(lake)["Tags"].to_pylist() for k, _ in (tags or [])}
    canonical = {"ml:team", "ml:model", "ml:experiment", "ml:environment"}
    drifted = {
        k
        for k in keys
        if k not in canonical and any(k.strip().lower() in aliases for aliases in TAG_KEY_ALIASES.values())
    }
    assert drifted, keys


def test_some_resources_are_tagged_only_on_the_api_side(lake):
    bill = sagemaker_scope(read_bill(lake))
    bill_tagged: dict[str, bool] = defaultdict(bool)
    for r in rows(bill, "ResourceId", "Tags"):
        if r["ResourceId"]:
            bill_tagged[r["ResourceId"].lower()] |= bool(r["Tags"])
    api_only = []
    for name, arn_column in (("training_jobs", "training_job_arn"), ("endpoints", "endpoint_arn")):
        for r in rows(read_dataset(lake, name), arn_column, "tags"):
            arn = r[arn_column].lower()
            if r["tags"] and arn in bill_tagged and not bill_tagged[arn]:
                api_only.append(arn)
    assert api_only


# ---------------------------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_ground_truth_shares_sum_to_one_for_every_sagemaker_bill_row(request, lake_name):
    """Grouped by the documented join key, the shares add up to the number of bill rows with that key
    (1 per row), and every SageMaker-scope bill row has a true owner."""
    root, args = request.getfixturevalue(lake_name), LAKES[lake_name]
    bill_rows: dict[tuple, int] = defaultdict(int)
    for key in bill_join_keys(sagemaker_scope(read_bill(root)), args):
        bill_rows[key] += 1
    shares: dict[tuple, float] = defaultdict(float)
    truth = sagemaker_truth(read_truth(root))
    for key, share in zip(truth_join_keys(truth), truth["share"].to_pylist(), strict=True):
        shares[key] += share
    assert shares.keys() == bill_rows.keys()
    for key, n in bill_rows.items():
        assert shares[key] == pytest.approx(n, abs=1e-9), key


def test_the_documented_join_key_identifies_one_sagemaker_bill_row(lake):
    keys = bill_join_keys(sagemaker_scope(read_bill(lake)), DEFAULT)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_ground_truth_costs_add_up_to_the_sagemaker_bill_per_billing_period(request, lake_name):
    root = request.getfixturevalue(lake_name)
    bill = sagemaker_scope(read_bill(root))
    billed, effective = defaultdict(list), defaultdict(list)
    for r in rows(bill, "BillingPeriodStart", "BilledCost", "EffectiveCost"):
        period = r["BillingPeriodStart"].strftime("%Y-%m")
        billed[period].append(r["BilledCost"])
        effective[period].append(r["EffectiveCost"])
    truth_billed, truth_effective = defaultdict(list), defaultdict(list)
    for r in rows(sagemaker_truth(read_truth(root)), "billing_period", "billed_cost", "effective_cost"):
        truth_billed[r["billing_period"]].append(r["billed_cost"])
        truth_effective[r["billing_period"]].append(r["effective_cost"])
    assert billed.keys() == truth_billed.keys()
    for period in billed:
        assert math.fsum(truth_billed[period]) == pytest.approx(math.fsum(billed[period]), abs=1e-6), period
        assert math.fsum(truth_effective[period]) == pytest.approx(math.fsum(effective[period]), abs=1e-6), period


@pytest.mark.parametrize("lake_name", list(LAKES))
def test_between_45_and_75_percent_of_sagemaker_effective_spend_carries_all_four_tags_in_the_bill(request, lake_name):
    bill = sagemaker_scope(read_bill(request.getfixturevalue(lake_name)))
    tagged, total = [], []
    for r in rows(bill, "Tags", "EffectiveCost"):
        total.append(r["EffectiveCost"])
        if carries_all_four(r["Tags"]):
            tagged.append(r["EffectiveCost"])
    coverage = math.fsum(tagged) / math.fsum(total)
    assert 0.45 <= coverage <= 0.75, coverage


def test_some_ground_truth_is_not_knowable_and_says_so(lake):
    truth = rows(read_truth(lake), "is_knowable", "evidence", "effective_cost")
    unknowable = [r for r in truth if not r["is_knowable"]]
    assert any(r["effective_cost"] != 0 for r in unknowable)
    assert any(r["is_knowable"] for r in truth)
    assert all((r["evidence"] == "none") == (not r["is_knowable"]) for r in truth)


# ---------------------------------------------------------------------------------------------
# --scale
# ---------------------------------------------------------------------------------------------


def _bill_rows(root: Path) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in _bill_files(root))


def test_scale_2_writes_exactly_twice_the_bill_rows_of_scale_1(lake, lake_scale_2):
    assert _bill_rows(lake_scale_2) == 2 * _bill_rows(lake)


def test_scale_2_replicas_never_bill_an_identical_row(lake_scale_2):
    """A replica is its own account copy: its plan fees, credits and tax are its own rows. Identical
    rows would be read as a duplicated delivery once a period spans several files (at scale)."""
    bill = read_bill(lake_scale_2).drop_columns(["Tags", "x_Discounts"])
    ((distinct,),) = duckdb.sql("select count(*) from (select distinct * from bill)").fetchall()
    assert distinct == bill.num_rows


@pytest.mark.parametrize(
    "dataset, column",
    [
        ("endpoints", "endpoint_name"),
        ("models", "model_name"),
        ("notebook_instances", "notebook_instance_name"),
        ("experiments", "experiment_name"),
        ("inference_components", "inference_component_name"),
        ("processing_jobs", "processing_job_name"),
    ],
)
def test_scale_2_adds_a_replica_whose_names_end_in_r1(lake, lake_scale_2, dataset, column):
    base = set(read_dataset(lake, dataset)[column].to_pylist())
    scaled = set(read_dataset(lake_scale_2, dataset)[column].to_pylist())
    assert base
    assert base <= scaled
    replica = scaled - base
    assert replica and all(name.endswith("-r1") for name in replica), sorted(replica)[:5]
    if dataset != "processing_jobs":  # processing-job names embed random dates
        assert replica == {f"{name}-r1" for name in base}


# ---------------------------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag, value", [("--months", "1"), ("--scale", "0")])
def test_bad_arguments_exit_with_code_2_and_a_message_before_writing_anything(tmp_path, flag, value):
    out = tmp_path / "lake"
    result = subprocess.run(
        [sys.executable, "-m", "smcost", "demo", "--out", str(out), "--quiet", flag, value],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert flag in result.stderr
    assert not out.exists()
