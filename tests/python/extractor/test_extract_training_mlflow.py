"""A training job's MLflow link (MlflowConfig, MlflowDetails) lands from DescribeTrainingJob: Search's
TrainingJob shape lacks both, so the training_jobs kind describes the jobs that need it — read in
this run (new or changed), without owner tags (a tagged job is attributed by its tags whatever its
run says) — until a finished job's link has landed, then carries it.

Training jobs are moto's (CreateTrainingJob, Search and DescribeTrainingJob over HTTP). moto's
DescribeTrainingJob answers without MlflowConfig and MlflowDetails (it keeps neither), so the test
adds them to moto's own answer for the jobs it configures, in the server process, as moto_gaps does
for other fields moto never fills; the extractor still talks HTTP to moto as it would to AWS.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

from extractor import moto_gaps
from extractor.extract_scenario import ACCOUNT, REGION, hour, set_job_times, training_job
from extractor.harness import by, landed

SERVER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/acme-ml"
DESCRIBE = "sagemaker:DescribeTrainingJob"
MLFLOW: dict[str, dict] = {}  # job name -> the MlflowConfig/MlflowDetails AWS would return


@pytest.fixture(autouse=True)
def _describe_with_mlflow(monkeypatch: pytest.MonkeyPatch):
    MLFLOW.clear()
    original = SageMakerResponse.describe_training_job

    def describe(self: SageMakerResponse) -> ActionResult:
        result = original(self)
        extra = MLFLOW.get(self._get_param("TrainingJobName"))
        if extra:
            result = ActionResult({**result.result, **extra})  # type: ignore[attr-defined]
        return result

    monkeypatch.setattr(SageMakerResponse, "describe_training_job", describe)


def _mlflow(job: str, experiment: str, run_id: str | None) -> None:
    MLFLOW[job] = {
        "MlflowConfig": {"MlflowResourceArn": SERVER, "MlflowExperimentName": experiment, "MlflowRunName": job},
        **({"MlflowDetails": {"MlflowExperimentId": "7", "MlflowRunId": run_id}} if run_id else {}),
    }


def _touch(name: str, status: str | None = None) -> None:
    job = moto_gaps.sagemaker(REGION).training_jobs[name]
    job.last_modified_time = datetime.now(timezone.utc).replace(tzinfo=None)
    if status:
        job.training_job_status = status


def test_untagged_jobs_land_their_mlflow_link_and_tagged_ones_are_not_described(aws, extract):
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker(REGION)
    training_job(sm, "untagged-mlflow")
    training_job(sm, "untagged-plain")
    training_job(sm, "tagged-mlflow", tags=[{"Key": "ML:Team", "Value": "fraud"}])
    for i, name in enumerate(("untagged-mlflow", "untagged-plain", "tagged-mlflow")):
        set_job_times(backend.training_jobs[name], hour(30 + i), 20)
    _mlflow("untagged-mlflow", "fraud-gnn-exp", "run-a")
    _mlflow("tagged-mlflow", "other-exp", "run-b")

    result = extract("--datasets", "training_jobs", "--extract-date", "2024-06-01")

    assert result.manifest["api_calls"][DESCRIBE] == 2  # the two untagged jobs; the tagged one never
    jobs = by(landed(extract.out, "training_jobs"), "training_job_name")
    linked = jobs["untagged-mlflow"]
    assert (
        linked["mlflow_resource_arn"],
        linked["mlflow_experiment_name"],
        linked["mlflow_run_name"],
        linked["mlflow_run_id"],
    ) == (SERVER, "fraud-gnn-exp", "untagged-mlflow", "run-a")
    for name in ("untagged-plain", "tagged-mlflow"):
        assert [jobs[name][c] for c in ("mlflow_resource_arn", "mlflow_run_id")] == [None, None], name


def test_a_finished_job_is_described_until_its_link_lands_then_carried(aws, extract):
    sm = aws.client("sagemaker")
    training_job(sm, "running-job")
    training_job(sm, "finished-job")
    set_job_times(moto_gaps.sagemaker(REGION).training_jobs["finished-job"], hour(40), 30)
    _touch("running-job", "InProgress")
    _mlflow("running-job", "exp", None)  # MlflowDetails (the run id) comes once the job runs
    _mlflow("finished-job", "exp", "run-f")

    first = extract("--datasets", "training_jobs", "--extract-date", "2024-06-01")
    assert first.manifest["api_calls"][DESCRIBE] == 2

    # Nothing changed: Search stops at the watermark; the running job, modified inside the watermark's
    # overlap, is read again and (still running, its link incomplete) described again; the other not.
    quiet = extract("--datasets", "training_jobs", "--extract-date", "2024-06-02")
    assert quiet.manifest["api_calls"][DESCRIBE] == 1
    assert by(landed(extract.out, "training_jobs"), "training_job_name")["running-job"]["mlflow_run_id"] is None

    # Both change (the running job finishes, the finished one is re-tagged by nobody: just touched).
    _mlflow("running-job", "exp", "run-r")
    _touch("running-job", "Completed")
    _touch("finished-job")
    MLFLOW["finished-job"] = {}  # were it described again, its link would vanish: it must be carried
    third = extract("--datasets", "training_jobs", "--extract-date", "2024-06-03")
    assert third.manifest["api_calls"][DESCRIBE] == 1  # the job that was running; the settled one carried
    jobs = by(landed(extract.out, "training_jobs"), "training_job_name")
    assert jobs["running-job"]["mlflow_run_id"] == "run-r"
    assert jobs["finished-job"]["mlflow_run_id"] == "run-f"
    assert jobs["finished-job"]["mlflow_resource_arn"] == SERVER


def test_api_calls_per_n_jobs_are_the_search_pages_plus_one_describe_per_untagged_job(aws, extract):
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker(REGION)
    n, tagged = 150, 50
    for i in range(n):
        tags = [{"Key": "ml:model", "Value": "m"}] if i < tagged else []
        training_job(sm, f"job-{i:03d}", tags=tags)
        set_job_times(backend.training_jobs[f"job-{i:03d}"], hour(60), 10)
    result = extract("--datasets", "training_jobs", "--extract-date", "2024-06-01")
    assert result.manifest["api_calls"] == {
        "sagemaker:Search": 2,  # 100 a page
        DESCRIBE: n - tagged,
        "sts:GetCallerIdentity": 1,
    }
