"""Round trip: what `smcost extract` lands replaces the demo metadata, and `dbt build` still passes.

The bill is the demo account's; the metadata comes from extracting the moto scenario account over
HTTP (Stubber where moto lacks the API). The build's own tests (reconciliation, shares, contracts)
run as part of it, so a dataset the extractor lands in a shape dbt cannot read fails here.
"""

from __future__ import annotations

import shutil
from collections import Counter

import duckdb

from extractor import extract_scenario as scenario
from extractor.extract_scenario import ACCOUNT, REGION, WEST
from extractor.harness import Extractor
from smcost.demo import generate
from smcost_testing import run_dbt


def test_extracted_metadata_replaces_the_demo_metadata_and_dbt_build_passes(moto, api_calls: Counter, tmp_path):
    moto.reset()
    scenario.populate(moto)
    extractor = Extractor(moto, api_calls, tmp_path / "lake")
    for dataset, calls in scenario.STUBS.items():
        extractor.stub(ACCOUNT, REGION, dataset, calls)
    result = extractor("--regions", f"{REGION},{WEST}", "--mme-metric-namespace", scenario.MME_NAMESPACE)
    assert result.exit_code == 0

    demo = tmp_path / "demo"
    generate(str(demo), seed=1, months=2)
    shutil.copytree(demo / "billing", extractor.out / "billing")  # the bill; the metadata stays extracted

    work = tmp_path / "dbt"
    work.mkdir()
    run_dbt(["build"], lake_root=extractor.out, database=work / "db.duckdb", work=work)
    with duckdb.connect(str(work / "db.duckdb"), read_only=True) as con:
        jobs = con.execute("select count(*) from stg_sagemaker__training_jobs").fetchall()[0][0]
        resources = con.execute("select count(*) from int_sagemaker_resources_unioned").fetchall()[0][0]
        allocated, staged = con.execute("""
            select (select sum(effective_cost) from fct_sagemaker_cost_allocations),
                   (select sum(effective_cost) from stg_focus__charges where is_sagemaker)""").fetchall()[0]
    assert jobs > 0 and resources >= jobs  # the extracted metadata is what dbt reads
    assert abs(allocated - staged) < 1e-6


def test_pipeline_extracts_over_http_then_builds_twice(moto, tmp_path):
    """`smcost pipeline` end to end: the extractor talks HTTP to moto, then dbt builds; run twice.
    In a subprocess there is no Stubber, so the APIs moto lacks (inference components, Studio
    apps/spaces/profiles) fail their units: the run must say `partial` (exit 3), still build, and
    the second run must be incremental."""
    import json
    import os
    import subprocess
    import sys

    from smcost_testing import REPO

    moto.reset()
    scenario.populate(moto)
    lake = tmp_path / "lake"
    generate(str(tmp_path / "demo"), seed=2, months=2)
    shutil.copytree(tmp_path / "demo" / "billing", lake / "billing")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(REPO / "profiles.yml.example", profiles / "profiles.yml")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "DBT_PROFILES_DIR": str(profiles),
        "SMCOST_DUCKDB_PATH": str(tmp_path / "db.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    command = [
        sys.executable,
        "-m",
        "smcost",
        "pipeline",
        "--target",
        "local",
        "--lake",
        str(lake),
        "--lock-file",
        str(tmp_path / "lock"),
        "--extract-args",
        f"--regions {REGION} --no-progress",
    ]
    summaries = []
    for _ in range(2):
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        summaries.append(summary)
        assert summary["dbt"]["status"] == "success", result.stderr[-3000:]
        assert summary["extract"]["status"] in ("complete", "partial")
        assert result.returncode == {"complete": 0, "partial": 3}[summary["extract"]["status"]]
    assert summaries[0]["extract"]["status"] == "partial"  # moto-less APIs failed their units, visibly
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        jobs = con.execute("select count(*) from stg_sagemaker__training_jobs").fetchall()[0][0]
    assert jobs > 0
