"""Faults across runs: reruns after a partial run, kept rows, idempotent dates, S3 output, dry run.

One fault, one run (throttling, access denied, silent and refused endpoints, runaway and
truncated pages) is the table in tests/python/hostile_inputs/test_extractor_faults.py; this module
covers what faults leave behind for the next run. Errors come from the server (a WSGI layer in front
of moto answers with real AWS error bodies), so the extractor meets them through botocore exactly
as it would meet AWS's.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from extractor import moto_gaps
from extractor.extract_scenario import ACCOUNT, REGION, ROLE, WEST, hour, set_job_times, training_job
from extractor.harness import landed, partitions
from smcost.cli import main
from smcost.extractor import Extraction, add_arguments, catalog
from smcost.extractor.catalog import resolve
from smcost.extractor.options import from_args
from smcost.schemas import DATASETS


def _jobs_in_both_regions(aws) -> None:
    for region, name in ((REGION, "east-1"), (WEST, "west-1")):
        training_job(aws.client("sagemaker", region), name, tags=[{"Key": "region", "Value": region}])
        set_job_times(moto_gaps.sagemaker(region).training_jobs[name], hour(48), 10)


def _manifests(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "sagemaker" / "_runs").glob("*.json"))]


def test_a_rerun_after_a_partial_run_fills_in_what_it_missed(aws, extract):
    _jobs_in_both_regions(aws)
    aws.faults.add("AccessDeniedException", region=WEST)
    first = extract(
        "--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-01", expect="partial"
    )
    assert f"{ACCOUNT}/{WEST}/training_jobs" not in first.manifest["watermarks"]  # the window did not move

    aws.faults.clear()
    training_job(aws.client("sagemaker", WEST), "west-2")
    extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-02")
    rows = landed(extract.out, "training_jobs")
    assert {(r["region"], r["training_job_name"]) for r in rows} == {
        (REGION, "east-1"),
        (WEST, "west-1"),
        (WEST, "west-2"),
    }


def test_a_failed_metrics_unit_reads_its_own_window_again_whatever_the_other_metrics_did(aws, extract):
    """Each CloudWatch dataset has its own watermark: utilisation denied in one run is read in the
    next from where it stopped (here: from the start, its first run failed), although the invocations
    of the same variants landed and moved theirs."""
    sm = aws.client("sagemaker")
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE + "serving", PrimaryContainer={"Image": "img:1"})
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="e", EndpointConfigName="c")
    moto_gaps.sagemaker().endpoints["e"].creation_time = hour(48)
    dimensions = [{"Name": "EndpointName", "Value": "e"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    for k in range(1, 7):
        at = hour(k).replace(tzinfo=timezone.utc) + timedelta(minutes=10)
        for namespace, metric in (("AWS/SageMaker", "Invocations"), ("/aws/sagemaker/Endpoints", "CPUUtilization")):
            aws.client("cloudwatch").put_metric_data(
                Namespace=namespace,
                MetricData=[{"MetricName": metric, "Dimensions": dimensions, "Timestamp": at, "Value": float(k)}],
            )
    # Only the utilisation queries are denied (the request body names the metrics it asks for).
    aws.faults.add("AccessDenied", service="monitoring", operation="GetMetricData", body_contains="CPUUtilization")
    metrics = ("--datasets", "endpoint_invocations,endpoint_utilization", "--overlap-hours", "1")
    first = extract(*metrics, "--extract-date", "2024-06-01", "--until", _iso(hour(3)), expect="partial")
    assert [e["unit"] for e in first.manifest["errors"]] == [f"{ACCOUNT}/{REGION}/endpoint_utilization"]
    assert f"{ACCOUNT}/{REGION}/endpoint_utilization" not in first.manifest["watermarks"]
    assert first.manifest["watermarks"][f"{ACCOUNT}/{REGION}/endpoint_invocations"] == _iso(hour(3))

    aws.faults.clear()
    second = extract(*metrics, "--extract-date", "2024-06-02", "--until", _iso(hour(0)))
    hours = {
        dataset: sorted(r["metric_hour_at"] for r in landed(extract.out, dataset, "2024-06-02"))
        for dataset in ("endpoint_invocations", "endpoint_utilization")
    }
    assert hours == {
        "endpoint_invocations": [hour(k) for k in (4, 3, 2, 1)],  # its watermark less the overlap
        "endpoint_utilization": [hour(k) for k in (6, 5, 4, 3, 2, 1)],  # all it never read
    }
    assert second.manifest["window"]["metrics_start"] == _iso(hour(0) - timedelta(days=14))  # --backfill-days


def _iso(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_failed_unit_keeps_the_rows_of_the_previous_run(aws, extract):
    _jobs_in_both_regions(aws)
    first = extract("--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-01")
    aws.faults.add("AccessDeniedException", region=WEST)
    extract(
        "--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", "--extract-date", "2024-06-02", expect="partial"
    )
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


def test_lands_in_s3_and_reads_back_with_pyarrow_and_duckdb(aws, extract):
    _jobs_in_both_regions(aws)
    aws.client("s3").create_bucket(Bucket="cost-lake")
    result = extract(
        "--regions", f"{REGION},{WEST}", "--datasets", "training_jobs", out="s3://cost-lake/smcost", expect="complete"
    )
    fs = pafs.S3FileSystem(endpoint_override=aws.url, region=REGION, access_key="testing", secret_key="testing")
    jobs = pads.dataset(
        f"cost-lake/smcost/sagemaker/training_jobs/extract_date={result.manifest['extract_date']}",
        format="parquet",
        filesystem=fs,
    ).to_table()
    assert jobs.schema.equals(DATASETS["training_jobs"].schema, check_metadata=False)
    regions = duckdb.sql("select region, count(*) from jobs group by region order by region").fetchall()
    assert regions == [(REGION, 1), (WEST, 1)]
    manifests = fs.get_file_info(pafs.FileSelector("cost-lake/smcost/sagemaker/_runs"))
    assert [Path(m.path).name for m in manifests] == [f"{result.manifest['run_id']}.json"]


def test_dry_run_prints_the_plan_and_writes_nothing(aws, extract, capsys):
    result = extract("--regions", f"{REGION},{WEST}", "--dry-run", expect="dry-run")
    out = capsys.readouterr().out
    assert "dry-run" in out and "training_jobs" in out and "endpoint_invocations" in out
    assert f"{len(catalog.KINDS) * 2} (accounts x regions x datasets)" in out  # the trackers' are not units
    assert not extract.out.exists()
    assert sum(Counter(u.calls).total() for u in result.units) == 0


def _options(*argv: str):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_args(parser.parse_args(["--out", "unused", *argv]))


def test_every_client_gets_the_timeouts_and_attempts_by_default_and_from_the_flags(aws):
    for argv, expected in (
        ((), (10.0, 60.0, 10)),
        (("--connect-timeout", "2.5", "--read-timeout", "7", "--max-attempts", "3"), (2.5, 7.0, 3)),
    ):
        options = _options(*argv)
        access = Extraction(options, resolve(options.datasets)).access
        for service in ("sagemaker", "cloudwatch", "s3", "ecr", "logs"):
            config = access.client(ACCOUNT, REGION, service).meta.config
            # total_max_attempts counts the first attempt, as --max-attempts does
            assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == expected
            assert config.retries["mode"] == "adaptive"


def test_time_bounds_that_would_disable_themselves_are_refused(tmp_path, capsys):
    for flag, value in (
        ("--read-timeout", "0"),
        ("--connect-timeout", "-1"),
        ("--max-retry-seconds", "nan"),
        ("--max-retry-seconds", "inf"),
    ):
        try:  # argparse's convention is SystemExit(2); the CLI may turn it into a return value
            code = main(["extract", "--out", str(tmp_path), "--dry-run", flag, value])
        except SystemExit as exit_:
            code = exit_.code
        assert code == 2, f"{flag} {value} was accepted"
        assert f"{flag} must be a positive number of seconds" in capsys.readouterr().err
