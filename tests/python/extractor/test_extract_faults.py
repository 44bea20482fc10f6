"""Faults: throttling, access denied, unreachable endpoints, reruns, partial runs, S3 output.

Errors come from the server (a WSGI layer in front of moto answers with real AWS error bodies),
so the extractor meets them through botocore exactly as it would meet AWS's.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from extractor import moto_gaps
from extractor.harness import landed, partitions
from extractor.extract_scenario import ACCOUNT, REGION, WEST, hour, set_job_times, training_job
from smcost.cli import main
from smcost.extractor import EXIT_PARTIAL
from smcost.schemas import DATASETS


def _jobs_in_both_regions(aws) -> None:
    for region, name in ((REGION, "east-1"), (WEST, "west-1")):
        training_job(aws.client("sagemaker", region), name, tags=[{"Key": "region", "Value": region}])
        set_job_times(moto_gaps.sagemaker(region).training_jobs[name], hour(48), 10)


def _manifests(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "sagemaker" / "_runs").glob("*.json"))]


def test_throttled_search_is_retried_until_it_succeeds(aws, extract):
    _jobs_in_both_regions(aws)
    throttle = aws.faults.add("ThrottlingException", operation="Search", region=REGION, times=2)
    result = extract("--datasets", "training_jobs")
    assert throttle.hits == 2
    assert result.manifest["api_calls"]["sagemaker:Search"] == 1  # one call, three attempts
    assert [r["training_job_name"] for r in landed(extract.out, "training_jobs") if r["region"] == REGION] == ["east-1"]


def test_access_denied_in_one_region_is_reported_and_the_other_region_lands(aws, extract, capsys):
    _jobs_in_both_regions(aws)
    aws.faults.add("AccessDeniedException", region=WEST)
    code = main(["extract", "--out", str(extract.out), "--regions", f"{REGION},{WEST}", "--no-progress",
                 "--datasets", "training_jobs,log_groups"])
    assert code == EXIT_PARTIAL == 3
    (manifest,) = _manifests(extract.out)
    assert manifest["status"] == "partial"
    assert [(e["unit"], e["kind"]) for e in manifest["errors"]] == [(f"{ACCOUNT}/{WEST}/training_jobs", "AccessDenied")]
    assert "iam-policy.json" in manifest["errors"][0]["hint"]
    assert {r["training_job_name"] for r in landed(extract.out, "training_jobs")} == {"east-1"}
    assert {u["unit"]: u["status"] for u in manifest["units"]}[f"{ACCOUNT}/{WEST}/log_groups"] == "ok"
    assert "AccessDeniedException" in capsys.readouterr().out


def test_a_rerun_after_a_partial_run_fills_in_what_it_missed(aws, extract):
    _jobs_in_both_regions(aws)
    aws.faults.add("AccessDeniedException", region=WEST)
    first = extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs",
                    "--extract-date", "2024-06-01", expect="partial")
    assert f"{ACCOUNT}/{WEST}/training_jobs" not in first.manifest["watermarks"]  # the window did not move

    aws.faults.clear()
    training_job(aws.client("sagemaker", WEST), "west-2")
    extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-02")
    rows = landed(extract.out, "training_jobs")
    assert {(r["region"], r["training_job_name"]) for r in rows} == {
        (REGION, "east-1"), (WEST, "west-1"), (WEST, "west-2")}


def test_a_failed_unit_keeps_the_rows_of_the_previous_run(aws, extract):
    _jobs_in_both_regions(aws)
    first = extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-01")
    aws.faults.add("AccessDeniedException", region=WEST)
    extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-02",
            expect="partial")
    west = [r for r in landed(extract.out, "training_jobs", "2024-06-02") if r["region"] == WEST]
    assert [(r["training_job_name"], r["extracted_at"]) for r in west] == [("west-1", first.units[1].until)]


def test_rerunning_the_same_date_replaces_the_partition_and_never_duplicates(aws, extract):
    _jobs_in_both_regions(aws)
    args = ("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs,log_groups", "--extract-date", "2024-06-01")
    extract(*args)
    extract(*args)
    extract(*args, "--full")
    rows = landed(extract.out, "training_jobs")
    assert sorted(r["training_job_name"] for r in rows) == ["east-1", "west-1"]
    folder = extract.out / "sagemaker" / "training_jobs" / "extract_date=2024-06-01"
    assert [p.name.startswith("part-") for p in folder.iterdir()] == [True]  # one file, no temporary leftovers
    assert partitions(extract.out, "training_jobs") == ["2024-06-01"]
    assert len(_manifests(extract.out)) == 3


def test_an_unreachable_endpoint_fails_only_the_units_that_need_it(aws, extract, monkeypatch):
    _jobs_in_both_regions(aws)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", f"http://127.0.0.1:{port}")
    training_job(aws.client("sagemaker"), "with-image", image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/img:1")
    result = extract("--datasets", "ecr_images", "--max-attempts", "2", expect="partial")
    status = {u.kind.dataset: (u.status, (u.error or {}).get("kind")) for u in result.units}
    assert status == {"training_jobs": ("ok", None), "processing_jobs": ("ok", None), "models": ("ok", None),
                      "ecr_images": ("error", "EndpointUnreachable")}
    assert len(landed(extract.out, "training_jobs")) == 2


def test_a_runaway_listing_stops_at_the_page_bound(aws, extract):
    sm = aws.client("sagemaker")
    for i in range(201):  # three pages of 100
        training_job(sm, f"job-{i}")
    result = extract("--datasets", "training_jobs", "--max-pages", "2", expect="failed")
    assert result.exit_code == 4  # nothing extracted
    assert result.units[0].error["kind"] == "PageBound"
    assert result.manifest["api_calls"]["sagemaker:Search"] == 2
    # Nothing of the runaway listing lands; the dataset exists, empty, so readers still work.
    assert landed(extract.out, "training_jobs") == []
    assert result.manifest["datasets"]["training_jobs"]["units_failed"] == 1


def test_lands_in_s3_and_reads_back_with_pyarrow_and_duckdb(aws, extract):
    _jobs_in_both_regions(aws)
    aws.client("s3").create_bucket(Bucket="cost-lake")
    result = extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs",
                     out="s3://cost-lake/smcost", expect="complete")
    fs = pafs.S3FileSystem(endpoint_override=aws.url, region=REGION, access_key="testing", secret_key="testing")
    jobs = pads.dataset(f"cost-lake/smcost/sagemaker/training_jobs/extract_date={result.manifest['extract_date']}",
                         format="parquet", filesystem=fs).to_table()
    assert jobs.schema.equals(DATASETS["training_jobs"].schema, check_metadata=False)
    regions = duckdb.sql("select region, count(*) from jobs group by region order by region").fetchall()
    assert regions == [(REGION, 1), (WEST, 1)]
    manifests = fs.get_file_info(pafs.FileSelector("cost-lake/smcost/sagemaker/_runs"))
    assert [Path(m.path).name for m in manifests] == [f"{result.manifest['run_id']}.json"]


def test_dry_run_prints_the_plan_and_writes_nothing(aws, extract, capsys):
    result = extract("--regions", f"{REGION},{WEST}", "--dry-run", expect="dry-run")
    out = capsys.readouterr().out
    assert "dry-run" in out and "training_jobs" in out and "endpoint_invocations" in out
    assert f"{len(DATASETS) * 2} (accounts x regions x datasets)" in out
    assert not extract.out.exists()
    assert sum(Counter(u.calls).total() for u in result.units) == 0


def test_throttling_that_outlasts_the_retries_fails_only_that_unit(aws, extract):
    _jobs_in_both_regions(aws)
    aws.faults.add("ThrottlingException", operation="Search", region=WEST)
    result = extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--max-attempts", "2",
                     expect="partial")
    assert [(e["unit"], e["kind"]) for e in result.manifest["errors"]] == [
        (f"{ACCOUNT}/{WEST}/training_jobs", "Throttling")]
    assert [r["region"] for r in landed(extract.out, "training_jobs")] == [REGION]
