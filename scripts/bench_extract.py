"""Benchmark `smcost extract`: API calls against their floors, and peak memory as an account grows.

Not a timed test: it prints figures. The AWS side is moto's server in this process, with Search
paged 100 records at a time the way AWS pages it (tests/python/extractor/moto_gaps.py); the
extractor talks HTTP to it. Figures:

1. API calls per 1,000 training jobs, against the floor of ceil(1000/100) Search pages, for a first
   run and for a nightly run where 1% of the jobs changed.
2. GetMetricData calls for one window, against ceil(queries/500).
3. Peak memory of a whole `smcost extract` process (RSS, and the Python heap by tracemalloc) at
   N and 10 x N training jobs. Goal: within 1.2x of each floor, memory flat.

Run: .venv/bin/python scripts/bench_extract.py [--jobs 1000] [--variants 600]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))

import boto3  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from extractor import moto_gaps  # noqa: E402
from smcost.extractor import Extraction  # noqa: E402
from smcost.extractor.catalog import resolve  # noqa: E402
from smcost.extractor.options import Options  # noqa: E402

ACCOUNT, REGION = moto_gaps.ACCOUNT, "us-east-1"
GOAL = 1.2
CHILD = """
import json, resource, sys, tracemalloc
from smcost.cli import main
tracemalloc.start()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "heap_peak": tracemalloc.get_traced_memory()[1]}))
"""


def add_training_jobs(count: int, start: int = 0, modified: datetime | None = None) -> None:
    """Created in moto's backend directly: the benchmark measures reading them, not creating them."""
    backend = moto_gaps.sagemaker(REGION)
    base = modified or datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=3)
    for i in range(start, start + count):
        job = backend.create_training_job(
            f"bench-job-{i:06d}",
            {},
            {"TrainingImage": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/t:1", "TrainingInputMode": "File"},
            f"arn:aws:iam::{ACCOUNT}:role/training",
            [],
            {"S3OutputPath": "s3://bench/out"},
            {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            {},
            {"MaxRuntimeInSeconds": 3600},
            [{"Key": "team", "Value": f"team-{i % 7}"}],
            False,
            False,
            False,
            {},
            {},
            [],
            {},
            {"ExperimentName": f"exp-{i % 13}"},
        )
        job.creation_time = job.last_modified_time = base - timedelta(seconds=i)


def add_endpoints(variants: int) -> None:
    backend = moto_gaps.sagemaker(REGION)
    backend.create_model("bench-model", f"arn:aws:iam::{ACCOUNT}:role/serving", {"Image": "img"}, None, None, None)
    created = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=3)
    for e in range(math.ceil(variants / 2)):
        backend.create_endpoint_config(
            f"bench-config-{e}",
            [
                {"VariantName": v, "ModelName": "bench-model", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
                for v in ("blue", "green")
            ],
            {},
            {},
            [],
            "",
        )
        endpoint = backend.create_endpoint(f"bench-endpoint-{e}", f"bench-config-{e}", [])
        endpoint.creation_time = endpoint.last_modified_time = created


def no_inference_components(account: str, region: str, service: str, dataset: str):
    """moto lacks ListInferenceComponents: an empty listing through botocore's Stubber."""
    if dataset != "inference_components":
        return None
    client = boto3.client("sagemaker", region_name=region)
    stubber = Stubber(client)
    stubber.add_response("list_inference_components", {"InferenceComponents": []}, {"MaxResults": 100})
    stubber.activate()
    return client


def extract(out: str, datasets: str, **options) -> dict:
    names = datasets.split(",")
    run = Extraction(
        Options(out=out, regions=[REGION], datasets=names, progress=False, **options),
        resolve(names),
        client_overrides=no_inference_components,
    ).run()
    assert run.status == "complete", run.manifest["errors"]
    return run.manifest


def ratio(calls: int, floor: int) -> str:
    value = calls / floor
    return f"{value:.2f}x {'ok' if value <= GOAL else 'OVER GOAL'}"


def bench_training_jobs(jobs: int, lake: str) -> None:
    add_training_jobs(jobs)
    first = extract(lake, "training_jobs", extract_date=datetime(2024, 6, 1).date())["api_calls"]
    floor = math.ceil(jobs / 100)
    changed = max(1, jobs // 100)
    add_training_jobs(changed, start=jobs, modified=datetime.now(timezone.utc).replace(tzinfo=None))
    nightly = extract(lake, "training_jobs", extract_date=datetime(2024, 6, 2).date())["api_calls"]
    nightly_floor = math.ceil(changed / 100)
    total = sum(first.values())
    print(f"1. Training jobs: {jobs:,} in one region")
    print(
        f"   first run    Search calls {first['sagemaker:Search']:>5}   floor ceil({jobs}/100) = {floor:<4} "
        f"{ratio(first['sagemaker:Search'], floor)}"
    )
    print(f"                all calls    {total:>5}   (+1 sts:GetCallerIdentity per run)    {ratio(total, floor)}")
    print(f"                per 1,000 jobs: {1000 * total / jobs:.1f} calls (floor {1000 / 100:.0f})")
    print(
        f"   nightly run  Search calls {nightly['sagemaker:Search']:>5}   "
        f"floor ceil({changed}/100) = {nightly_floor:<4}  "
        f"{ratio(nightly['sagemaker:Search'], nightly_floor)}   ({changed} new or changed jobs)"
    )


def bench_metrics(variants: int, lake: str) -> None:
    moto_gaps.sagemaker(REGION).training_jobs.clear()  # this figure is about CloudWatch only
    add_endpoints(variants)
    until = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    manifest = extract(lake, "endpoint_invocations", since=until - timedelta(hours=24), until=until)
    (unit,) = [u for u in manifest["units"] if u["dataset"] == "endpoint_invocations"]
    queries = 2 * variants  # Invocations (Sum) and ModelLatency (Average) per endpoint variant
    calls = unit["api_calls"].get("cloudwatch:GetMetricData", 0)
    floor = math.ceil(queries / 500)
    print(f"2. CloudWatch: {variants} endpoint variants = {queries} series, one 24-hour window")
    print(f"   GetMetricData calls {calls:>5}   floor ceil({queries}/500) = {floor:<4} {ratio(calls, floor)}")


def bench_memory(jobs: int, url: str) -> None:
    print("3. Peak memory of one `smcost extract` process (training jobs, first run)")
    env = {**os.environ, "AWS_ENDPOINT_URL": url}
    figures = []
    for count in (jobs, 10 * jobs):
        moto_gaps.sagemaker(REGION).training_jobs.clear()
        add_training_jobs(count)
        with tempfile.TemporaryDirectory() as lake:
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    "extract",
                    "--out",
                    lake,
                    "--regions",
                    REGION,
                    "--datasets",
                    "training_jobs",
                    "--no-progress",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        figure = json.loads(result.stdout.strip().splitlines()[-1])
        assert figure["code"] == 0, result.stderr
        figures.append((count, figure))
    (_, s), (_, big) = figures
    for count, f in figures:
        print(
            f"   {count:>7,} jobs   peak RSS {f['rss_kib'] / 1024:7.1f} MiB   Python heap peak "
            f"{f['heap_peak'] / 2**20:6.1f} MiB"
        )
    print(f"   10x the jobs: RSS x{big['rss_kib'] / s['rss_kib']:.2f}, heap x{big['heap_peak'] / s['heap_peak']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="training jobs (memory runs N and 10N)")
    parser.add_argument("--variants", type=int, default=600, help="endpoint variants for the metrics figure")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("smcost.extract").setLevel(logging.WARNING)

    moto_gaps.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    print("smcost extract benchmark: API calls against their floors (moto server over HTTP), memory as N grows 10x\n")
    try:
        with tempfile.TemporaryDirectory() as lake:
            bench_training_jobs(args.jobs, lake)
        with tempfile.TemporaryDirectory() as lake:
            bench_metrics(args.variants, lake)
        bench_memory(args.jobs, url)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
