"""What runs now in a small account, created over HTTP on moto, for `smcost audit`; and its runner.

us-east-1: in-progress training jobs (fully tagged, untagged, an alias key, a disallowed value,
50 tags), a processing job whose key has a stray space, a transform job with an empty value, a
tuning job, two in-service endpoints (one with two variants), an in-service and a stopped notebook
(the stopped one must not be audited), a HyperPod cluster, and finished jobs that must not be
audited either. us-west-2: one in-progress training job. Studio apps come from botocore's Stubber
(moto has no ListApps). ``EXPECTED`` is the ground truth each test compares with, written out by
hand rather than derived from the audit's rules.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from botocore.stub import Stubber

from extractor import moto_gaps
from extractor.extract_scenario import ARN, BUCKET, ECR, REGION, ROLE, WEST, hour, training_job
from extractor.harness import MotoAws
from smcost import audit
from smcost.cli import build_parser

DOMAIN = "d-audit000001"
APP_ARN = ARN + f"app/{DOMAIN}/alice/jupyterlab/default"
SYSTEM_APP_ARN = ARN + f"app/{DOMAIN}/alice/jupyterserver/default"
CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
FULL = {"ml:team": "fraud", "ml:model": "fraud-v2", "ml:experiment": "exp-1", "ml:environment": "production"}


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass(frozen=True)
class Expected:
    """One running resource as the test knows it: compliant or not, its $/hour and where that comes from."""

    compliant: bool
    usd_per_hour: float | None
    rate_source: str
    missing: tuple[str, ...] = ()


# ml.* on-demand $/hour in us-east-1, as seeds/sagemaker_instance_prices.csv lists them (copied here:
# the test's oracle is not the seed file it tests).
P4D, P3, M5_4XL, C5_2XL, M5_XL, M5_L, G4DN_XL, T3_MEDIUM = 37.688, 3.825, 0.922, 0.408, 0.23, 0.115, 0.7364, 0.05
BILLED_G4DN_XL = 0.50  # the endpoint ep-partial's own effective $/instance-hour in the test lake (a Savings Plan)

EXPECTED = {
    (REGION, "train-tagged"): Expected(True, 2 * P3, "price_list"),
    (REGION, "train-untagged"): Expected(False, P4D, "price_list", ("environment", "experiment", "model", "team")),
    (REGION, "train-alias"): Expected(True, M5_XL, "price_list"),
    (REGION, "train-bad-value"): Expected(False, M5_XL, "price_list", ("team",)),
    (REGION, "train-fifty-tags"): Expected(True, M5_XL, "price_list"),
    (REGION, "prep-spaced-key"): Expected(False, 3 * M5_4XL, "price_list", ("team",)),
    (REGION, "score-empty-value"): Expected(False, 4 * C5_2XL, "price_list", ("team",)),
    (REGION, "hpo-running"): Expected(False, 0.0, "none", ("environment", "experiment", "model")),
    (REGION, "ep-tagged"): Expected(True, M5_XL, "price_list"),
    (REGION, "ep-partial"): Expected(False, 2 * BILLED_G4DN_XL + M5_L, "bill+price_list", ("environment",)),
    (REGION, "nb-case"): Expected(True, T3_MEDIUM, "price_list"),
    (REGION, "hyperpod"): Expected(False, 2 * P4D, "price_list", ("environment", "experiment", "model", "team")),
    (REGION, f"{DOMAIN}/alice/JupyterLab/default"): Expected(True, T3_MEDIUM, "price_list"),
    (REGION, f"{DOMAIN}/alice/JupyterServer/default"): Expected(
        False, 0.0, "none", ("environment", "experiment", "model", "team")
    ),
    (WEST, "train-west"): Expected(False, None, "unknown", ("environment", "experiment", "model")),
}


def _in_progress(region: str, name: str, *, status: str = "InProgress", created: datetime | None = None) -> None:
    job = moto_gaps.sagemaker(region).training_jobs[name]
    job.training_job_status = status
    job.creation_time = created or hour(5)


def _resources(instance_type: str, count: int = 1) -> dict:
    return {"InstanceType": instance_type, "InstanceCount": count, "VolumeSizeInGB": 10}


def populate(aws: MotoAws) -> None:
    sm = aws.client("sagemaker")
    backend = moto_gaps.sagemaker(REGION)

    training_job(sm, "train-tagged", tags=_tags(FULL), resources=_resources("ml.p3.2xlarge", 2))
    training_job(sm, "train-untagged", resources=_resources("ml.p4d.24xlarge"))
    alias = {"team": "search", "ML:Model": "ranker", "ml:experiment": "exp-2", "env": "development"}
    training_job(sm, "train-alias", tags=_tags(alias))
    training_job(sm, "train-bad-value", tags=_tags({**FULL, "ml:team": "payments"}))
    fifty = {**FULL, **{f"extra-{i:02d}": str(i) for i in range(46)}}
    training_job(sm, "train-fifty-tags", tags=_tags(fifty))
    training_job(sm, "train-finished", tags=[])  # Completed: not audited
    for name in ("train-tagged", "train-untagged", "train-alias", "train-bad-value", "train-fifty-tags"):
        _in_progress(REGION, name)
    _in_progress(REGION, "train-finished", status="Completed")

    spaced = {" ml:team": "fraud", "ml:model": "prep", "ml:experiment": "exp-1", "ml:environment": "production"}
    sm.create_processing_job(
        ProcessingJobName="prep-spaced-key",
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 30}
        },
        AppSpecification={"ImageUri": f"{ECR}/prep:2.0"},
        RoleArn=ROLE + "data-prep",
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=_tags(spaced),
    )
    processing = backend.processing_jobs["prep-spaced-key"]
    processing.processing_resources = {  # moto drops it (REFERENCE §5)
        "ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 30}
    }
    processing.processing_job_status = "InProgress"

    sm.create_model(
        ModelName="fraud-model",
        ExecutionRoleArn=ROLE + "serving",
        PrimaryContainer={"Image": f"{ECR}/fraud-serve:1.0", "ModelDataUrl": f"s3://{BUCKET}/m.tar.gz"},
    )
    sm.create_transform_job(
        TransformJobName="score-empty-value",
        ModelName="fraud-model",
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/in/"}}},
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/out/"},
        TransformResources={"InstanceType": "ml.c5.2xlarge", "InstanceCount": 4},
        Tags=_tags({**FULL, "ml:team": ""}),
    )
    backend.transform_jobs["score-empty-value"].transform_job_status = "InProgress"

    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="hpo-running",
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:loss"},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": f"{ECR}/fraud-train:1.0", "TrainingInputMode": "File"},
            "RoleArn": ROLE + "training",
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/hpo"},
            "ResourceConfig": _resources("ml.m5.xlarge"),
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        Tags=_tags({"ml:team": "fraud"}),
    )
    backend.hyper_parameter_tuning_jobs["hpo-running"].hyper_parameter_tuning_job_status = "InProgress"

    variant = {"ModelName": "fraud-model", "InitialVariantWeight": 1.0}
    sm.create_endpoint_config(
        EndpointConfigName="cfg-one",
        ProductionVariants=[{**variant, "VariantName": "A", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}],
    )
    sm.create_endpoint_config(
        EndpointConfigName="cfg-two",
        ProductionVariants=[
            {**variant, "VariantName": "Gpu", "InstanceType": "ml.g4dn.xlarge", "InitialInstanceCount": 2},
            {**variant, "VariantName": "Cpu", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1},
        ],
    )
    sm.create_endpoint(EndpointName="ep-tagged", EndpointConfigName="cfg-one", Tags=_tags(FULL))
    partial = {k: v for k, v in FULL.items() if k != "ml:environment"}
    sm.create_endpoint(EndpointName="ep-partial", EndpointConfigName="cfg-two", Tags=_tags(partial))
    for name in ("ep-tagged", "ep-partial"):
        backend.endpoints[name].creation_time = hour(72)

    case = {"ML:Team": "nlp", "ml:model": "notebook", "ml:experiment": "explore", "ml:environment": "development"}
    for name in ("nb-case", "nb-stopped"):
        sm.create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE + "research", Tags=_tags(case)
        )
    sm.stop_notebook_instance(NotebookInstanceName="nb-stopped")

    sm.create_cluster(
        ClusterName="hyperpod",
        InstanceGroups=[
            {
                "InstanceGroupName": "workers",
                "InstanceType": "ml.p4d.24xlarge",
                "InstanceCount": 2,
                "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/scripts/", "OnCreate": "on_create.sh"},
                "ExecutionRole": ROLE + "hyperpod",
                "ThreadsPerCore": 1,
            }
        ],
    )

    west = aws.client("sagemaker", WEST)
    training_job(west, "train-west", tags=_tags({"ml:team": "vision"}), resources=_resources("ml.p3.16xlarge"))
    _in_progress(WEST, "train-west")


def _app(name: str, app_type: str, status: str, instance_type: str) -> dict:
    return {
        "DomainId": DOMAIN,
        "UserProfileName": "alice",
        "AppType": app_type,
        "AppName": name,
        "Status": status,
        "CreationTime": CREATED,
        "ResourceSpec": {"InstanceType": instance_type},
    }


# The Studio apps of us-east-1, in the order the audit calls for them (Stubber: moto has no ListApps).
APP_STUBS = [
    (
        "list_apps",
        {
            "Apps": [
                _app("default", "JupyterLab", "InService", "ml.t3.medium"),
                _app("default", "JupyterServer", "InService", "system"),
                _app("old", "KernelGateway", "Deleted", "ml.m5.xlarge"),  # not running: no ListTags
            ]
        },
        {"MaxResults": 100},
    ),
    ("list_tags", {"Tags": _tags(FULL)}, {"ResourceArn": APP_ARN, "MaxResults": 50}),
    ("list_tags", {"Tags": []}, {"ResourceArn": SYSTEM_APP_ARN, "MaxResults": 50}),
]


def bill_database(path: Path) -> Path:
    """A DuckDB file holding fct_sagemaker_cost_allocations rows for ep-partial's GPU instances: its
    latest billing period bills $0.50 per instance-hour (an older, pricier period must be ignored;
    a shared endpoint's charge is split into allocation rows, cost and hours alike)."""
    import duckdb

    arn = (ARN + "endpoint/ep-partial").upper().replace("ARN:AWS:SAGEMAKER", "arn:aws:sagemaker")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table fct_sagemaker_cost_allocations (resource_arn varchar, instance_type varchar, "
            "charge_category varchar, billing_period varchar, effective_cost double, usage_hours double)"
        )
        con.executemany(
            "insert into fct_sagemaker_cost_allocations values (?, ?, ?, ?, ?, ?)",
            [
                (arn, "ml.g4dn.xlarge", "Usage", "2024-04", 0.7364 * 100, 100.0),  # older period: ignored
                (arn, "ml.g4dn.xlarge", "Usage", "2024-05", 0.50 * 30, 30.0),  # one model's share
                (arn, "ml.g4dn.xlarge", "Usage", "2024-05", 0.50 * 10, 10.0),  # another's
                (arn, None, "Usage", "2024-05", 5.0, None),  # storage: not an instance rate
                (arn, "ml.g4dn.xlarge", "Credit", "2024-05", -3.0, 0.0),
            ],
        )
    return path


class Auditor:
    """Runs `smcost audit` through the CLI's parser and `audit.run`, with a Stubber for ListApps."""

    def __init__(self, moto: MotoAws, api_calls: Counter, tmp_path: Path) -> None:
        self.moto = moto
        self.api_calls = api_calls
        self.tmp_path = tmp_path
        self.app_stubs: dict[tuple[str, str], list] = {}
        self.stubbers: list[Stubber] = []

    def overrides(self, account: str, region: str, service: str, dataset: str):
        if service != "sagemaker" or dataset != "live_studio_apps":
            return None
        client = self.moto.client("sagemaker", region)
        stubber = Stubber(client)
        for operation, response, expected in self.app_stubs.get(
            (account, region), [("list_apps", {"Apps": []}, {"MaxResults": 100})]
        ):
            stubber.add_response(operation, response, expected)
        stubber.activate()
        self.stubbers.append(stubber)
        return client

    def __call__(self, *argv: str, database: Path | None = None) -> tuple[int, dict]:
        """The exit status and, for --format json (the default here), the parsed report; the report
        as written is in ``self.report``."""
        out = self.tmp_path / "report"
        out.unlink(missing_ok=True)
        fmt = argv[argv.index("--format") + 1] if "--format" in argv else "json"
        args = build_parser("audit").parse_args(
            ["audit", "--no-progress", "--database", str(database or ""), "--format", fmt, "--output", str(out), *argv]
        )
        code = audit.run(args, client_overrides=self.overrides)
        self.report = out.read_text() if out.exists() else ""
        payload: dict = json.loads(self.report) if fmt == "json" and self.report else {}
        self.api_calls.update(payload.get("api_calls", {}))
        return code, payload
