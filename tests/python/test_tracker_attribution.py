"""Experiment-tracker evidence on the demo account (docs/lineage.md): the untagged training jobs the
demo's data scientists logged to MLflow are attributed through their runs, to the owner the ground
truth holds, with source `mlflow`; those logged to W&B (one run per host, grouped under the job's
name) likewise with source `wandb`; every link kind finds its jobs; the trackers' keys agree between
the extractor's allow-list and the dbt link rules. Expected values come from the demo's landed runs
and its ground truth, never from the marts under test."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from smcost.extractor.trackers import DEFAULT_ALLOW, INSTANCE_TYPE_KEYS, JOB_NAME_KEYS, KeyFilter

REPO = Path(__file__).resolve().parents[1].parent


def _landed(lake: Path, dataset: str) -> list[dict]:
    return pq.read_table(lake / "sagemaker" / dataset).to_pylist()


@pytest.fixture(scope="module")
def tracked_jobs(demo_lake: Path) -> dict[str, dict]:
    """The training jobs the demo's MLflow runs belong to, by ARN, with the link kind the demo used."""
    runs = _landed(demo_lake, "mlflow_runs")
    jobs = _landed(demo_lake, "training_jobs")
    by_name = {j["training_job_name"].lower(): j for j in jobs}
    by_run = {j["mlflow_run_id"]: j for j in jobs if j["mlflow_run_id"]}
    out = {}
    for run in runs:
        tags, params = dict(run["tags"]), dict(run["params"])
        if run["run_id"] in by_run:
            job, kind = by_run[run["run_id"]], "job_mlflow_config"
        elif "sagemaker.training_job_name" in tags:
            job, kind = by_name[tags["sagemaker.training_job_name"].lower()], "run_tag"
        else:
            (job,) = [
                j
                for j in jobs
                if j["instance_type"] == params["instance_type"]
                and j["training_start_at"] <= run["started_at"] <= j["training_end_at"]
                and j["training_job_name"].startswith("untitled-job-")
            ]
            kind = "time_window"
        out[job["training_job_arn"]] = {"kind": kind, "run": run}
    return out


def test_the_demo_tracks_jobs_by_every_link_kind(tracked_jobs):
    kinds = {t["kind"] for t in tracked_jobs.values()}
    assert kinds == {"job_mlflow_config", "run_tag", "time_window"}


def test_tracked_jobs_are_attributed_through_mlflow_to_their_true_owner(demo_build, demo_lake, tracked_jobs):
    arns = list(tracked_jobs)
    with duckdb.connect(str(demo_build), read_only=True) as con:
        truth = dict(
            (r[0], (r[1], r[2]))
            for r in con.execute(
                f"select distinct resource_id, model, team from read_parquet('{demo_lake}/demo/ground_truth/*.parquet') "
                "where resource_id in (select unnest(?)) and evidence = 'mlflow'",
                [arns],
            ).fetchall()
        )
        facts = con.execute(
            "select resource_arn, model, team, model_source, team_source, sum(effective_cost) "
            "from fct_sagemaker_cost_allocations where resource_arn in (select unnest(?)) group by all",
            [arns],
        ).fetchall()
    assert set(truth) == set(arns), "ground truth marks every tracked job knowable through mlflow"
    assert {f[0] for f in facts} == set(arns)
    for arn, model, team, model_source, team_source, cost in facts:
        assert (model, team) == truth[arn], arn
        assert (model_source, team_source) == ("mlflow", "mlflow"), arn
        assert cost > 0


def test_wandb_jobs_are_attributed_through_their_run_group_to_their_true_owner(demo_build, demo_lake):
    runs = _landed(demo_lake, "wandb_runs")
    jobs = {j["training_job_name"]: j for j in _landed(demo_lake, "training_jobs")}
    arns = sorted({jobs[r["run_group"]]["training_job_arn"] for r in runs})
    # One run per host: a distributed job's runs all link to it, and every host logged.
    for arn in arns:
        (job,) = [j for j in jobs.values() if j["training_job_arn"] == arn]
        hosts = sorted(r["host"] for r in runs if r["run_group"] == job["training_job_name"])
        assert hosts == [f"algo-{i}" for i in range(1, (job["instance_count"] or 1) + 1)], arn
    assert any(len([r for r in runs if r["run_group"] == n]) > 1 for n in {r["run_group"] for r in runs})
    with duckdb.connect(str(demo_build), read_only=True) as con:
        truth = dict(
            (r[0], (r[1], r[2]))
            for r in con.execute(
                f"select distinct resource_id, model, team from read_parquet('{demo_lake}/demo/ground_truth/*.parquet') "
                "where evidence = 'wandb'"
            ).fetchall()
        )
        facts = con.execute(
            "select resource_arn, model, team, model_source, team_source, sum(effective_cost) "
            "from fct_sagemaker_cost_allocations where resource_arn in (select unnest(?)) group by all",
            [arns],
        ).fetchall()
    assert set(truth) == set(arns), "ground truth marks exactly the W&B-logged jobs knowable through wandb"
    assert {f[0] for f in facts} == set(arns)
    for arn, model, team, model_source, team_source, cost in facts:
        assert (model, team) == truth[arn], arn
        assert (model_source, team_source) == ("wandb", "wandb"), arn
        assert cost > 0


def test_the_link_keys_agree_between_the_extractor_and_dbt():
    macro = (REPO / "macros" / "tracker_evidence_keys.sql").read_text()
    lists = re.findall(r"return\(\[([^\]]*)\]\)", macro)
    names, instance_types = ([s.strip().strip("'") for s in body.split(",")] for body in lists)
    assert names == list(JOB_NAME_KEYS)
    assert instance_types == list(INSTANCE_TYPE_KEYS)
    # TRAINING_JOB_NAME, the container's variable logged as is, matches once lowercased.
    assert "training_job_name" in names


def test_the_default_allow_list_keeps_what_attribution_reads_and_nothing_else():
    keys = KeyFilter()
    for key in ("ml:team", "ML:Model", "TRAINING_JOB_NAME", "sagemaker.training_job_name", "instance_type"):
        assert keys.keeps(key), key
    for key in ("learning_rate", "api_key", "aws_secret_access_key", "data_path"):
        assert not keys.keeps(key), key
    assert not KeyFilter(allow=DEFAULT_ALLOW, deny=("ml:*",)).keeps("ml:team")  # deny wins
