"""Hostile inputs: the FOCUS export as it really turns up — copies, misplaced and half-written files,
re-deliveries, a missing column, costs that are not numbers, the wrong export version.

Each row is (mutation of a freshly generated demo export → expected outcome): either the build
succeeds and the marts hold exactly the dollars AWS delivered (computed here with pyarrow straight
from the files each period's manifest lists, independently of the dbt models), or the build fails
with a message naming the problem. A feature that reopens one of these cases fails here.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from smcost import lake as lakes
from smcost.demo import generate
from smcost_testing import run_dbt

SAGEMAKER = {"AmazonSageMaker", "MachineLearningSavingsPlans"}
AUGUST, SEPTEMBER = "2026-08", "2026-09"
EXPORT = lakes.DEFAULT_EXPORT_NAME


# --------------------------------------------------------------------------------------------------
# The lake and its independent totals


def data_folder(lake: Path, period: str) -> Path:
    return lake / lakes.billing_partition(period, EXPORT)


def manifest_path(lake: Path, period: str) -> Path:
    return lake / lakes.billing_manifest(period, EXPORT)


def the_file(lake: Path, period: str) -> Path:
    (only,) = sorted(data_folder(lake, period).glob("*.parquet"))
    return only


def delivered_totals(lake: Path) -> dict[str, tuple[float, float]]:
    """(billed, effective) SageMaker cost per billing period, from the files the manifests list."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for manifest in sorted((lake / "billing" / EXPORT / "metadata").glob("BILLING_PERIOD=*/*Manifest.json")):
        for uri in json.loads(manifest.read_text())["dataFiles"]:
            path = lake / "billing" / EXPORT / "data" / uri.split("/data/", 1)[1]
            table = pq.read_table(path, columns=["x_ServiceCode", "BilledCost", "EffectiveCost", "BillingPeriodStart"])
            table = table.filter(pc.is_in(table["x_ServiceCode"], pa.array(sorted(SAGEMAKER))))
            periods = pc.strftime(table["BillingPeriodStart"], "%Y-%m").to_pylist()
            for period, billed, effective in zip(
                periods, table["BilledCost"].to_pylist(), table["EffectiveCost"].to_pylist(), strict=True
            ):
                totals[period][0] += billed
                totals[period][1] += effective
    return {period: (billed, effective) for period, (billed, effective) in totals.items()}


def mart_totals(database: Path) -> dict[str, tuple[float, float]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            p: (b, e)
            for p, b, e in con.execute(
                "select billing_period, sum(billed_cost), sum(effective_cost) "
                "from fct_sagemaker_cost_allocations group by 1"
            ).fetchall()
        }


def read_statuses(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(con.execute("select read_status, count(*) from stg_focus__export_files group by 1").fetchall())


# --------------------------------------------------------------------------------------------------
# Mutations: each takes the lake and changes it the way real life does


def copy_under_another_name(lake: Path) -> None:
    source = the_file(lake, AUGUST)
    shutil.copy(source, source.with_name("part-00000-copy.parquet"))


def copy_into_next_month(lake: Path) -> None:
    shutil.copy(the_file(lake, AUGUST), data_folder(lake, SEPTEMBER) / "part-from-august.parquet")


def copy_into_sub_folder(lake: Path) -> None:
    source = the_file(lake, AUGUST)
    (source.parent / "retry").mkdir()
    shutil.copy(source, source.parent / "retry" / source.name)


def move_into_sub_folder(lake: Path) -> None:
    """An export delivered into per-execution folders, as AWS's "create new report" mode does."""
    source = the_file(lake, AUGUST)
    (source.parent / "20260902T0600Z").mkdir()
    shutil.move(source, source.parent / "20260902T0600Z" / source.name)


def hidden_in_flight_copy(lake: Path) -> None:
    source = the_file(lake, AUGUST)
    shutil.copy(source, source.with_name(".tmp-upload-" + source.name))


def drop_manifests(lake: Path) -> None:
    shutil.rmtree(lake / "billing" / EXPORT / "metadata")


def manifest_lists_a_missing_file(lake: Path) -> None:
    path = manifest_path(lake, AUGUST)
    document = json.loads(path.read_text())
    document["dataFiles"].append(document["dataFiles"][0].replace(".parquet", "-2.parquet"))
    path.write_text(json.dumps(document))


def redeliver_august_doubled(lake: Path) -> None:
    """AWS re-delivers August with every SageMaker cost doubled under a new file name, and replaces
    the manifest; the old file stays behind (as a sync that never deletes would leave it)."""
    old = the_file(lake, AUGUST)
    table = pq.read_table(old)
    doubled = {name: pc.multiply(table[name], 2.0) for name in ("BilledCost", "EffectiveCost", "ListCost")}
    for name, column in doubled.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    new = old.with_name("part-00000-redelivered.parquet")
    pq.write_table(table, new)
    document = json.loads(manifest_path(lake, AUGUST).read_text())
    document["dataFiles"] = [document["dataFiles"][0].replace(old.name, new.name)]
    manifest_path(lake, AUGUST).write_text(json.dumps(document))


def rewrite_august(transform: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    def mutate(lake: Path) -> None:
        path = the_file(lake, AUGUST)
        pq.write_table(transform(pq.read_table(path)), path)

    return mutate


def without_billed_cost(table: pa.Table) -> pa.Table:
    return table.drop_columns(["BilledCost"])


def costs_as_text(bad_value: str) -> Callable[[pa.Table], pa.Table]:
    """EffectiveCost as text (as a CSV-born export has it), one SageMaker row's value unreadable."""

    def transform(table: pa.Table) -> pa.Table:
        text = [f"{v!r}" for v in table["EffectiveCost"].to_pylist()]
        first_sagemaker = table["x_ServiceCode"].to_pylist().index("AmazonSageMaker")
        text[first_sagemaker] = bad_value
        index = table.schema.get_field_index("EffectiveCost")
        return table.set_column(index, "EffectiveCost", pa.array(text, pa.string()))

    return transform


def sagemaker_row_twin_in_another_service(table: pa.Table) -> pa.Table:
    """A row of another service equal to a SageMaker row in every column the charge key reads, at no
    cost (so it sorts first among them). The key's window is per service: the SageMaker row keeps its
    number whether or not the other service's rows are keyed beside it (stg_focus__charge_details keys
    SageMaker's alone), so the two staging models still key the same charges."""
    services, billed = table["x_ServiceCode"].to_pylist(), table["BilledCost"].to_pylist()
    first = next(
        i
        for i, (service, cost) in enumerate(zip(services, billed, strict=True))
        if service == "AmazonSageMaker" and cost > 0
    )
    twin = table.slice(first, 1)
    for name, value in {
        "x_ServiceCode": "AWSDataTransfer",
        "BilledCost": 0.0,
        "EffectiveCost": 0.0,
        "ListCost": 0.0,
    }.items():
        index = twin.schema.get_field_index(name)
        twin = twin.set_column(index, name, pa.array([value], twin.schema.field(name).type))
    return pa.concat_tables([table, twin])


def tags_as_json_text(table: pa.Table) -> pa.Table:
    text = [None if tags is None else json.dumps(dict(tags)) for tags in table["Tags"].to_pylist()]
    return table.set_column(table.schema.get_field_index("Tags"), "Tags", pa.array(text, pa.string()))


# --------------------------------------------------------------------------------------------------
# The table


def failed_test(name: str) -> str:
    """What dbt prints for a failing data test (its name alone also appears when it passes)."""
    return f"Failure in test {name} "


@dataclass(frozen=True)
class Case:
    mutate: Callable[[Path], None] | None
    # Outcome: the build succeeds with these totals ("as_delivered" = the manifests' dollars) ...
    totals: str | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    # ... or fails with every one of these fragments in dbt's output.
    error: tuple[str, ...] = ()
    quarantined: int | None = None  # stg_focus__charges rows with has_unparseable_cost
    focus_version: str = "1.2"
    lake_version: str = "1.2"
    tags_format: str = "map"
    lake_dir: str = "lake"
    extra_vars: dict = field(default_factory=dict)
    also_select: tuple[str, ...] = ()  # beyond EXPORT_READING


CASES = {
    "copy under another name, manifest present: not read, reported": Case(
        copy_under_another_name, totals="as_delivered", statuses={"read": 2, "not_in_latest_manifest": 1}
    ),
    "copy under another name, no manifest: duplicate charges fail the build": Case(
        lambda lake: (drop_manifests(lake), copy_under_another_name(lake)),
        error=(failed_test("assert_focus_charges_not_duplicated_across_files"),),
    ),
    "month copied into the next month's folder, manifest present: not read": Case(
        copy_into_next_month, totals="as_delivered", statuses={"read": 2, "not_in_latest_manifest": 1}
    ),
    "month copied into the next month's folder, no manifest: wrong folder fails the build": Case(
        lambda lake: (drop_manifests(lake), copy_into_next_month(lake)),
        error=(failed_test("focus_rows_are_in_their_billing_period_folder"),),
    ),
    "copy in a sub-folder, manifest present: not read, reported": Case(
        copy_into_sub_folder, totals="as_delivered", statuses={"read": 2, "not_in_latest_manifest": 1}
    ),
    "file moved into a sub-folder, no manifest: read": Case(
        lambda lake: (drop_manifests(lake), move_into_sub_folder(lake)), totals="original", statuses={"read": 2}
    ),
    "hidden in-flight copy: skipped, reported": Case(
        hidden_in_flight_copy, totals="as_delivered", statuses={"read": 2, "hidden": 1}
    ),
    "re-delivery with the old file left behind: only the latest manifest's file counts": Case(
        redeliver_august_doubled, totals="as_delivered", statuses={"read": 2, "not_in_latest_manifest": 1}
    ),
    "manifest lists a file that is not there: the incomplete delivery fails the build": Case(
        manifest_lists_a_missing_file, error=(failed_test("focus_export_files_listed_in_manifests_exist"),)
    ),
    "another service's row equal to a SageMaker row in every keyed column: both keyed alike": Case(
        rewrite_august(sagemaker_row_twin_in_another_service),
        totals="as_delivered",
        statuses={"read": 2},
        also_select=("stg_focus__charge_details", "assert_focus_charge_details_key_the_staged_charges"),
    ),
    "a file without BilledCost: the build stops, naming the file and column": Case(
        rewrite_august(without_billed_cost),
        error=("lacks required column(s) BilledCost", "BILLING_PERIOD=2026-08/part-"),
    ),
    "a cost of 'N/A': quarantined, counted, and reconciliation fails": Case(
        rewrite_august(costs_as_text("N/A")),
        quarantined=1,
        error=(failed_test("assert_staged_sagemaker_totals_match_source"),),
    ),
    "a cost of '1,234.50': quarantined, counted, and reconciliation fails": Case(
        rewrite_august(costs_as_text("1,234.50")),
        quarantined=1,
        error=(failed_test("assert_staged_sagemaker_totals_match_source"),),
    ),
    "FOCUS 1.0 files read as 1.2: the error asks about focus_version": Case(
        None,
        lake_version="1.0",
        focus_version="1.2",
        error=("lacks required column(s) SkuMeter", "is var focus_version (now 1.2) right?"),
    ),
    "FOCUS 1.2 files read as 1.0: the error asks about focus_version": Case(
        None,
        lake_version="1.2",
        focus_version="1.0",
        error=("lacks required column(s) x_UsageType", "is var focus_version (now 1.0) right?"),
    ),
    "Tags as JSON text, var focus_tags_format map: the error names the var": Case(
        rewrite_august(tags_as_json_text),
        error=("carries Tags as text, but var focus_tags_format is map: set it to json",),
    ),
    "Tags as a map, var focus_tags_format json: the error names the var": Case(
        None, tags_format="json", error=("carries Tags as a map, but var focus_tags_format is json: set it to map",)
    ),
    "a quote in the lake path: a clear error, not broken SQL": Case(
        None, lake_dir="o'brien-lake", error=("must not contain a quote",)
    ),
    "an export name that climbs out of billing/: refused": Case(
        None, extra_vars={"focus_export_name": "../sagemaker"}, error=("must be a folder name",)
    ),
}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    lake: Path
    database: Path
    original: dict[str, tuple[float, float]]


# What reading the export feeds: staging (the export files and charges) up to the fact, with every
# test whose parents are all among them (cautious: a test that also reads a mart left out is left
# out). The governance, fully-loaded and explain marts read the same staged charges: leaving them out
# keeps the table's builds short.
EXPORT_READING = ("+fct_sagemaker_cost_allocations", "stg_focus__export_files")


def build_case(name: str, pristine: dict[str, Path], root: Path) -> Outcome:
    """Copy the pristine lake, apply the case's mutation, run `dbt build` on it."""
    case = CASES[name]
    lake = root / case.lake_dir
    shutil.copytree(pristine[case.lake_version], lake)
    original = delivered_totals(lake)
    if case.mutate:
        case.mutate(lake)
    work = root / "dbt"
    work.mkdir()
    database = work / "smcost.duckdb"
    result = run_dbt(
        ["build", "--select", *EXPORT_READING, *case.also_select, "--indirect-selection", "cautious"],
        lake_root=lake,
        database=database,
        work=work,
        vars={"focus_version": case.focus_version, "focus_tags_format": case.tags_format, **case.extra_vars},
        check=False,
    )
    return Outcome(result.returncode, result.stdout + result.stderr, lake, database, original)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    """Every case built once, two at a time (dbt is mostly single-threaded Python: two builds keep
    both cores busy), on copies of two-month demo exports of both versions generated once."""
    pristine = {}
    for version in ("1.2", "1.0"):
        pristine[version] = tmp_path_factory.mktemp(f"pristine-{version}")
        generate(str(pristine[version]), seed=19, months=2, start_month=AUGUST, focus_version=version)
    roots = {name: tmp_path_factory.mktemp("case") for name in CASES}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(build_case, name, pristine, roots[name]) for name in CASES}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.dbt
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_export(name, outcomes):
    case, outcome = CASES[name], outcomes[name]
    if case.error:
        assert outcome.returncode != 0, f"{name}: the build passed"
        for fragment in case.error:
            assert fragment in outcome.output, f"{name}: {fragment!r} not in dbt's output:\n{outcome.output[-4000:]}"
    else:
        assert outcome.returncode == 0, f"{name}: the build failed:\n{outcome.output[-4000:]}"
        expected = delivered_totals(outcome.lake) if case.totals == "as_delivered" else outcome.original
        if case.mutate is redeliver_august_doubled:  # the oracle itself must see the re-delivery
            assert math.isclose(expected[AUGUST][1], 2 * outcome.original[AUGUST][1], rel_tol=1e-12)
        actual = mart_totals(outcome.database)
        assert actual.keys() == expected.keys()
        for period, (billed, effective) in expected.items():
            assert math.isclose(actual[period][0], billed, abs_tol=1e-6), (period, actual[period], billed)
            assert math.isclose(actual[period][1], effective, abs_tol=1e-6), (period, actual[period], effective)
        assert read_statuses(outcome.database) == case.statuses

    if case.quarantined is not None:
        with duckdb.connect(str(outcome.database), read_only=True) as con:
            flagged = con.execute("select count(*) from stg_focus__charges where has_unparseable_cost").fetchone()[0]
        assert flagged == case.quarantined
