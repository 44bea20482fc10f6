"""`smcost extract --mlflow-tracking-uri` against a REAL MLflow tracking server: the `mlflow` package
(its own venv, .venv-mlflow: MLflow caps pyarrow below the project's), SQLite backend, on 127.0.0.1
at a free port, started as a subprocess and torn down. Runs, tags, params and registered model
versions are created through MLflow's own client (MlflowClient, in that venv), never by us."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests

from smcost.cli import main
from smcost.extractor.mlflow_source import SageMakerMlflowArn, SigV4

REPO = Path(__file__).resolve().parents[3]
MLFLOW_VENV = REPO / ".venv-mlflow"
SECRET = "s3cr3t-do-not-land"

# Created through MLflow's client: what a training script logs. The secret param and the
# unlisted tag must not land; the job-name tag and the owner tags must.
CREATE = (
    """
import sys, time
from mlflow.tracking import MlflowClient
c = MlflowClient(sys.argv[1])
exp = c.create_experiment("fraud-gnn-exp", tags={"ml:team": "risk", "private.note": "x"})
def run(name, tags, params, start_ms):
    r = c.create_run(exp, run_name=name, tags=tags, start_time=start_ms)
    for k, v in params.items():
        c.log_param(r.info.run_id, k, v)
    c.set_terminated(r.info.run_id, "FINISHED", end_time=start_ms + 3_600_000)
    return r.info.run_id
now = int(time.time() * 1000)
a = run("a", {"sagemaker.training_job_name": "fraud-gnn-train-1", "ml:model": "fraud-gnn"},
        {"api_key": SECRET_VALUE, "learning_rate": "0.1", "instance_type": "ml.g5.xlarge"}, now - 18_000_000)
b = run("b", {"TRAINING_JOB_NAME": "fraud-gnn-train-2", "ml:team": "risk"}, {}, now - 3_600_000)
c.create_registered_model("fraud-gnn")
c.create_model_version("fraud-gnn", "s3://bucket/model", run_id=a)
print("RUNS", a, b)
"""
).replace("SECRET_VALUE", repr(SECRET))

MORE = """
import sys, time
from mlflow.tracking import MlflowClient
c = MlflowClient(sys.argv[1])
exp = c.get_experiment_by_name("fraud-gnn-exp").experiment_id
r = c.create_run(exp, run_name="c", tags={"sagemaker.training_job_name": "fraud-gnn-train-3"})
print("RUNS", r.info.run_id)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    if not (MLFLOW_VENV / "bin" / "mlflow").exists():
        made = subprocess.run(["make", ".venv-mlflow/.installed"], cwd=REPO, capture_output=True, text=True)
        assert made.returncode == 0, f"`make .venv-mlflow/.installed` failed (needs PyPI):\n{made.stderr[-2000:]}"
    root = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    server = subprocess.Popen(
        [
            str(MLFLOW_VENV / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{root}/mlflow.db",
            "--default-artifact-root",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=open(root / "server.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{uri}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None, (root / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "MLflow server did not start in 120 s"
            time.sleep(0.5)
        yield uri
    finally:
        server.terminate()
        server.wait(timeout=30)


def _client(uri: str, script: str) -> list[str]:
    done = subprocess.run(
        [str(MLFLOW_VENV / "bin" / "python"), "-c", script, uri], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # The last line is ours: MLflow prints its own notices before it.
    line = next(ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("RUNS "))
    return line.split()[1:]


def _read(lake: Path, dataset: str) -> list[dict]:
    files = sorted((lake / "sagemaker" / dataset).glob("extract_date=*/*.parquet"))
    return pq.read_table(files[-1]).to_pylist() if files else []


@pytest.fixture(scope="module")
def landed(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module):
    lake = tmp_path_factory.mktemp("lake")
    run_a, run_b = _client(mlflow_server, CREATE)
    monkeypatch_module.setenv("MLFLOW_TRACKING_USERNAME", "svc-smcost")
    monkeypatch_module.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    argv = ["extract", "--out", str(lake), "--mlflow-tracking-uri", mlflow_server]
    argv += ["--accounts", "111122223333", "--regions", "us-east-1", "--extract-date", "2026-09-01"]
    assert main(argv) == 0
    first = {
        "lake": lake,
        "runs": {r["run_id"]: r for r in _read(lake, "mlflow_runs")},
        "experiments": _read(lake, "mlflow_experiments"),
        "versions": _read(lake, "mlflow_model_versions"),
        "manifest": _manifests(lake)[-1],
        "run_a": run_a,
        "run_b": run_b,
    }
    (run_c,) = _client(mlflow_server, MORE)
    assert main([*argv[:-2], "--extract-date", "2026-09-02"]) == 0
    first["second_runs"] = {r["run_id"]: r for r in _read(lake, "mlflow_runs")}
    first["second_manifest"] = _manifests(lake)[-1]
    first["run_c"] = run_c
    return first


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _manifests(lake: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((lake / "sagemaker" / "_runs").glob("*.json"))]


def test_runs_land_with_their_experiment_user_times_and_allowed_tags(landed):
    run = landed["runs"][landed["run_a"]]
    experiment = next(e for e in landed["experiments"] if e["experiment_name"] == "fraud-gnn-exp")
    assert run["experiment_id"] == experiment["experiment_id"]
    assert (run["account_id"], run["region"]) == ("111122223333", "us-east-1")
    assert run["started_at"] is not None and run["ended_at"] is not None and run["run_status"] == "FINISHED"
    assert dict(run["tags"])["sagemaker.training_job_name"] == "fraud-gnn-train-1"
    assert dict(run["tags"])["ml:model"] == "fraud-gnn"
    assert dict(landed["runs"][landed["run_b"]]["tags"])["TRAINING_JOB_NAME"] == "fraud-gnn-train-2"
    assert dict(experiment["tags"]) == {"ml:team": "risk"}  # private.note is not allow-listed


def test_only_allow_listed_params_land(landed):
    params = dict(landed["runs"][landed["run_a"]]["params"])
    assert params == {"instance_type": "ml.g5.xlarge"}  # learning_rate and api_key are not allowed


def test_model_versions_name_their_source_run(landed):
    (version,) = landed["versions"]
    assert (version["registered_model_name"], version["model_version"]) == ("fraud-gnn", "1")
    assert version["source_run_id"] == landed["run_a"]


def test_second_run_reads_only_new_and_changed_runs_and_carries_the_rest(landed):
    assert set(landed["second_runs"]) == {landed["run_a"], landed["run_b"], landed["run_c"]}
    runs = landed["second_manifest"]["datasets"]["mlflow_runs"]
    # a ended four hours before the watermark (older than the hour's overlap): carried, not read;
    # b ended after it and c started after it: read again.
    assert (runs["rows_read"], runs["rows_kept"]) == (2, 1)
    assert landed["second_runs"][landed["run_c"]]["run_status"] == "RUNNING"


def test_manifest_counts_calls_and_keeps_earlier_watermarks(landed):
    first, second = landed["manifest"], landed["second_manifest"]
    # One experiment search, one runs search, one model-version search.
    assert first["api_calls"] == {
        "mlflow:experiments/search": 1,
        "mlflow:model-versions/search": 1,
        "mlflow:runs/search": 1,
    }
    # Incremental: started since, ended since, still running.
    assert second["api_calls"]["mlflow:runs/search"] == 3
    assert set(first["watermarks"]) <= set(second["watermarks"])


def test_credentials_never_reach_the_lake(landed):
    lake: Path = landed["lake"]
    for path in lake.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"credential in {path}"


def test_a_uri_with_credentials_is_refused(tmp_path, capsys):
    argv = ["extract", "--out", str(tmp_path), "--mlflow-tracking-uri", f"http://u:{SECRET}@127.0.0.1:1"]
    assert main([*argv, "--accounts", "111122223333", "--regions", "us-east-1"]) == 1
    err = capsys.readouterr().err
    assert "MLFLOW_TRACKING_PASSWORD" in err and SECRET not in err


def test_sagemaker_arn_resolves_and_signs_as_the_plugin_does(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", raising=False)
    server = SageMakerMlflowArn.parse("arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/prod")
    app = SageMakerMlflowArn.parse("arn:aws:sagemaker:eu-west-1:111122223333:mlflow-app/app-abc")
    assert server.url == "https://eu-west-1.experiments.sagemaker.aws"
    assert app.url == "https://mlflow.sagemaker.eu-west-1.app.aws"
    assert server.routing_header == {"x-mlflow-sm-tracking-server-arn": server.arn}
    assert app.routing_header == {"x-sm-mlflow-app-arn": app.arn}
    request = requests.Request("POST", f"{server.url}/api/2.0/mlflow/runs/search", json={"a": 1}).prepare()
    signed = SigV4(server.region, server.signing_service)(request)
    assert "Credential=AKIDEXAMPLE/" in signed.headers["Authorization"]
    assert "/eu-west-1/sagemaker-mlflow/aws4_request" in signed.headers["Authorization"]
    assert app.signing_service == "sagemaker"


def test_sagemaker_arn_reads_a_server_at_the_custom_endpoint(mlflow_server, tmp_path, monkeypatch):
    """The ARN path end to end: SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT (the plugin's override) points the
    signed requests at the local server, which ignores the signature; the scope comes from the ARN."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", mlflow_server)
    arn = "arn:aws:sagemaker:eu-west-1:444455556666:mlflow-tracking-server/prod"
    assert main(["extract", "--out", str(tmp_path), "--mlflow-tracking-uri", arn]) == 0
    runs = _read(tmp_path, "mlflow_runs")
    assert runs and {(r["account_id"], r["region"], r["tracking_server"]) for r in runs} == {
        ("444455556666", "eu-west-1", arn)
    }
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
