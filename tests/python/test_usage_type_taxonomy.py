"""The usage-type taxonomy against AWS's own grouping of SageMaker usage types.

AWS's Cloud Intelligence Dashboards group SageMaker spend by substring of the usage type, first
match wins ("SageMaker Usage Type Group"). The groups are copied below from

    repository  aws-solutions-library-samples/cloud-intelligence-dashboards-framework
    path        dashboards/cudos/CUDOS-v5-definition.yaml (calculated field "SageMaker Usage Type Group")
    commit      083469d160faff862c95645c1e56bb9674d56192 ("CUDOS v5.7 (#1370)", 2025-11-21);
                unchanged at 9cecc158b81504344cf96b38d5918b6953b2e97d (CUDOS v5.9, 2026-08)

Each group gets representative usage types — ones CUDOS itself puts in that group (checked here by
running CUDOS's first-match rule) — in AWS's spelling and in other casings. They go through the real
seed and the real model (`dbt build` of int_sagemaker_charges_classified over a hand-built FOCUS 1.2
file), and every group must land in exactly one of our categories. Where our taxonomy deliberately
decides otherwise than CUDOS's order, the usage type is listed in DIFFERENCES with the reason.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from focus_lake import focus_table, write_empty_datasets, write_focus_file
from smcost.schemas import focus_schema
from smcost_testing import run_dbt

# (substring, CUDOS group), in CUDOS's order. QuickSight's contains() is case-sensitive.
CUDOS_SAGEMAKER_GROUPS: list[tuple[str, str]] = [
    ("Studio", "SageMaker Studio"),
    ("Notebk", "Notebook Instance"),
    ("Labeled", "Labeled Object"),
    ("Host", "Endpoint Instance"),
    ("Canvas", "SageMaker Canvas"),
    ("Processing", "Processing"),
    ("TrainWarmPool", "Training Warm Pool"),
    ("Train", "Training Job"),
    ("TrSpt", "Spot Training Job"),
    ("Tsform", "Batch Transform"),
    ("AsyncInf", "Asynchronous Inference"),
    ("Data-Bytes", "Data processed by SageMaker Hosting"),
    ("Cluster", "HyperPod Cluster"),
    ("RStudio", "RStudio on SageMaker"),
    ("Autopilot", "SageMaker Autopilot"),
    ("PartnerApp", "Partner Applications"),
    ("TxtSpan", "Text Spanning Labeling"),
    ("TxtClass", "Text Classification Labeling"),
    ("Custom", "Custom Labeling Task"),
    ("MLflow", "SageMaker with MLflow"),
    ("VolumeUsage", "Storage Volume"),
    ("StorageIOUsage", "Storage I/O"),
]
# CUDOS's last group is not a substring: {service_name} = 'AWSDataTransfer' -> 'Data Transfer'. Those
# rows carry another service code and are outside the SageMaker scope here (var
# sagemaker_service_codes); the fully-loaded view links them (seeds/neighbour_cost_scope.csv).
CUDOS_SERVICE_GROUPS = {"AWSDataTransfer": "Data Transfer"}


def cudos_group(usage_type: str) -> str:
    """CUDOS's rule: the first group whose substring the usage type contains, else Other."""
    return next((group for substring, group in CUDOS_SAGEMAKER_GROUPS if substring in usage_type), "Other")


# Per CUDOS group: our category, and usage types CUDOS puts in that group. Several groups of CUDOS's
# cannot be reached by a real usage type because an earlier substring catches it first: every
# `RStudio…` contains `Studio`, and every `TrSpt…` is reached before `Train` only because `TrSpt`
# does not contain `Train`. The RStudio group is therefore represented by what CUDOS would put
# there if it came first (see DIFFERENCES).
GROUP_TO_CATEGORY: dict[str, tuple[str, list[str]]] = {
    "SageMaker Studio": (
        "studio_jupyterlab",
        ["USE1-Studio:JupyterLab-ml.t3.medium", "usw2-studio:jupyterlab-ml.g5.xlarge"],
    ),
    "Notebook Instance": ("notebook_instance", ["USE1-Notebk:ml.t3.xlarge", "EUW1-NOTEBK:ml.m5.large"]),
    "Labeled Object": ("ground_truth_labeling", ["USE1-Labeled-Objects", "use1-labeled-objects"]),
    "Endpoint Instance": ("endpoint_instance", ["USE1-Host:ml.g5.2xlarge", "use1-host:ml.c5.xlarge"]),
    "SageMaker Canvas": ("canvas", ["USE1-Canvas:Session-Hrs", "use1-canvas:session-hrs"]),
    "Processing": ("processing", ["USE1-Processing:ml.m5.xlarge", "use1-processing:ml.m5.xlarge"]),
    "Training Warm Pool": ("training", ["USE1-TrainWarmPool:ml.g5.2xlarge", "use1-trainwarmpool:ml.p4d.24xlarge"]),
    "Training Job": ("training", ["USE1-Train:ml.p3.2xlarge", "use1-train:ml.p3.8xlarge"]),
    "Spot Training Job": ("spot_training", ["USE1-TrSpt:ml.g5.2xlarge", "use1-trspt:ml.g5.2xlarge"]),
    "Batch Transform": ("batch_transform", ["USE1-Tsform:ml.m5.xlarge", "use1-tsform:ml.m5.xlarge"]),
    "Asynchronous Inference": ("async_inference", ["USE1-AsyncInf:ml.g4dn.xlarge", "use1-asyncinf:ml.g4dn.xlarge"]),
    "Data processed by SageMaker Hosting": ("data_transfer", ["USE1-Data-Bytes-In", "EU-Data-Bytes-Out"]),
    "HyperPod Cluster": ("hyperpod", ["USE1-Cluster:ml.p5.48xlarge", "use1-cluster:ml.g5.12xlarge"]),
    "RStudio on SageMaker": (
        "studio_rstudio",
        ["USE1-RStudioServerPro:ml.t3.medium", "use1-rstudioserverpro:ml.t3.medium"],
    ),
    "SageMaker Autopilot": ("autopilot", ["USE1-Autopilot:ml.m5.xlarge", "use1-autopilot:ml.m5.xlarge"]),
    "Partner Applications": ("partner_app", ["USE1-PartnerApp:Comet-Small", "use1-partnerapp:comet-small"]),
    "Text Spanning Labeling": ("ground_truth_labeling", ["USE1-TxtSpan-Objects", "use1-txtspan-objects"]),
    "Text Classification Labeling": ("ground_truth_labeling", ["USE1-TxtClass-Objects", "use1-txtclass-objects"]),
    "Custom Labeling Task": ("ground_truth_labeling", ["USE1-Custom-Objects", "use1-custom-objects"]),
    "SageMaker with MLflow": ("mlflow", ["USE1-MLflow:Small-Hrs", "use1-mlflow:small-hrs"]),
    "Storage Volume": ("ml_storage", ["USE1-VolumeUsage.gp2", "use1-volumeusage.gp3"]),
    "Storage I/O": ("ml_storage_io", ["USE1-StorageIOUsage", "use1-storageiousage"]),
}

# Usage types where our category differs from CUDOS's first match, on purpose.
DIFFERENCES: dict[str, tuple[str, str]] = {
    # usage type: (our category, why)
    "USE1-Host:VolumeUsage.gp2": (
        "ml_storage",
        "a volume is storage whatever family it names (CUDOS: Endpoint Instance)",
    ),
    "USE1-Train:VolumeUsage.gp2": ("ml_storage", "a volume is storage (CUDOS: Training Job)"),
    "USE1-Cluster:VolumeUsage.gp3": ("ml_storage", "HyperPod's volumes are storage (CUDOS: HyperPod Cluster)"),
    "USE1-Host:StorageIOUsage": ("ml_storage_io", "storage I/O is storage (CUDOS: Endpoint Instance)"),
    "USE1-Studio:CodeEditor-ml.t3.medium": (
        "studio_code_editor",
        "Studio is split by app type (CUDOS: SageMaker Studio)",
    ),
    "USE1-RStudioServerPro:ml.t3.medium": ("studio_rstudio", "RStudio before Studio (CUDOS: SageMaker Studio)"),
    "USE1-RSession:ml.t3.medium": ("studio_rstudio", "AWS's other RStudio spelling (CUDOS: Other)"),
}


def representative_usage_types() -> list[str]:
    types = [u for _, examples in GROUP_TO_CATEGORY.values() for u in examples]
    return sorted(set(types) | set(DIFFERENCES))


@pytest.fixture(scope="module")
def classified(tmp_path_factory) -> dict[str, str]:
    """usage type -> sagemaker_category, from the real model over one file with one row per usage type."""
    root = tmp_path_factory.mktemp("taxonomy-lake")
    rows = [
        {"SkuMeter": usage_type, "ResourceId": f"r{i}"} for i, usage_type in enumerate(representative_usage_types())
    ]
    write_focus_file(root, focus_table(rows, focus_schema("1.2")))
    write_empty_datasets(root)
    work = tmp_path_factory.mktemp("dbt-taxonomy")
    database = work / "taxonomy.duckdb"
    run_dbt(
        ["build", "--select", "+int_sagemaker_charges_classified", "--indirect-selection", "cautious"],
        lake_root=root,
        database=database,
        work=work,
    )
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(
            con.execute("select usage_type, sagemaker_category from int_sagemaker_charges_classified").fetchall()
        )


def test_every_cudos_group_has_representatives():
    assert set(GROUP_TO_CATEGORY) == {group for _, group in CUDOS_SAGEMAKER_GROUPS}


@pytest.mark.parametrize("group", sorted(GROUP_TO_CATEGORY))
def test_representatives_are_in_their_cudos_group(group: str):
    """The examples are honest: CUDOS itself (in AWS's casing) puts them in the group — except the
    RStudio group, which CUDOS's order makes unreachable (Studio matches first)."""
    _, examples = GROUP_TO_CATEGORY[group]
    aws_spelling = examples[0]
    expected = "SageMaker Studio" if group == "RStudio on SageMaker" else group
    assert cudos_group(aws_spelling) == expected


@pytest.mark.parametrize("group", sorted(GROUP_TO_CATEGORY))
def test_each_cudos_group_maps_to_exactly_one_category(classified: dict[str, str], group: str):
    category, examples = GROUP_TO_CATEGORY[group]
    assert {classified[u] for u in examples} == {category}, {u: classified[u] for u in examples}


def test_classification_ignores_case(classified: dict[str, str]):
    """Every group has an example in AWS's casing and one in another; they classify alike."""
    for category, (aws_spelling, other_casing) in GROUP_TO_CATEGORY.values():
        assert classified[aws_spelling] == classified[other_casing] == category


@pytest.mark.parametrize("usage_type", sorted(DIFFERENCES))
def test_deliberate_differences_from_cudos(classified: dict[str, str], usage_type: str):
    category, why = DIFFERENCES[usage_type]
    assert classified[usage_type] == category, why


def test_no_representative_lands_in_other(classified: dict[str, str]):
    assert not [u for u, c in classified.items() if c == "other"]


def test_the_rstudio_group_is_unreachable_in_cudos():
    """Why the taxonomy orders RStudio before Studio: CUDOS's order sends every RStudio usage type
    to its Studio group, and AWS's RSession spelling to Other."""
    assert cudos_group("USE1-RStudioServerPro:ml.t3.medium") == "SageMaker Studio"
    assert cudos_group("USE1-RSession:ml.t3.medium") == "Other"


def test_cudos_service_group_is_outside_the_sagemaker_scope():
    project = (Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text()
    assert "AWSDataTransfer" not in project.split("sagemaker_service_codes:", 1)[1].splitlines()[0]
    assert set(CUDOS_SERVICE_GROUPS) == {"AWSDataTransfer"}
