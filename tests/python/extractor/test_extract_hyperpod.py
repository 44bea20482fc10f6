"""HyperPod clusters over moto (HTTP): ListClusters, DescribeCluster and ListTags, and a deleted cluster.

moto implements the three calls. One difference from AWS, which the test does not depend on:
moto builds the ARN from the cluster's name (``cluster/<name>``) where AWS puts the 12-character
cluster ID (``cluster/<id>``, botocore's ClusterArn pattern). ``cluster_id`` is read from the ARN's
last part either way, which is what a charge's ResourceId names.
"""

from __future__ import annotations

from extractor.extract_scenario import ACCOUNT, REGION, ROLE
from extractor.harness import by, landed

LIFECYCLE = {"SourceS3Uri": "s3://sagemaker-lifecycle/scripts/", "OnCreate": "on_create.sh"}


def _group(name: str, instance_type: str, count: int, role: str) -> dict:
    return {
        "InstanceGroupName": name,
        "InstanceType": instance_type,
        "InstanceCount": count,
        "LifeCycleConfig": LIFECYCLE,
        "ExecutionRole": ROLE + role,
        "ThreadsPerCore": 1,
    }


def _create_clusters(aws) -> None:
    sm = aws.client("sagemaker")
    sm.create_cluster(
        ClusterName="llm-pretrain",
        InstanceGroups=[
            _group("controller", "ml.t3.medium", 1, "hyperpod-llm"),
            _group("workers", "ml.p4d.24xlarge", 4, "hyperpod-llm"),
        ],
        Tags=[{"Key": "team", "Value": "genai"}, {"Key": "project", "Value": "llm-base"}],
    )
    sm.create_cluster(
        ClusterName="shared-research",
        InstanceGroups=[
            _group("cpu", "ml.c5.xlarge", 2, "hyperpod-research"),
            _group("gpu", "ml.g5.8xlarge", 1, "hyperpod-vision"),
        ],
    )


def test_clusters_land_with_their_id_tags_role_and_instance_groups(aws, extract):
    _create_clusters(aws)
    result = extract("--datasets", "clusters", "--regions", REGION)

    assert result.manifest["api_calls"] == {
        "sagemaker:ListClusters": 1,
        "sagemaker:DescribeCluster": 2,
        "sagemaker:ListTags": 2,
        "sts:GetCallerIdentity": 1,
    }
    clusters = by(landed(extract.out, "clusters"), "cluster_name")
    llm = clusters["llm-pretrain"]
    assert llm["cluster_arn"].startswith(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/")
    assert llm["cluster_id"] == llm["cluster_arn"].rsplit("/", 1)[1]
    assert (llm["account_id"], llm["region"], llm["cluster_status"]) == (ACCOUNT, REGION, "InService")
    assert dict(llm["tags"]) == {"team": "genai", "project": "llm-base"}
    assert llm["orchestrator"] == "slurm"  # created without an EKS orchestrator
    assert llm["execution_role_arn"] == ROLE + "hyperpod-llm"  # every group runs under it
    assert llm["instance_count"] == 5
    assert [
        (g["instance_group_name"], g["instance_type"], g["current_count"], g["target_count"])
        for g in llm["instance_groups"]
    ] == [
        ("controller", "ml.t3.medium", 1, 1),
        ("workers", "ml.p4d.24xlarge", 4, 4),
    ]
    research = clusters["shared-research"]
    assert dict(research["tags"]) == {}
    assert research["execution_role_arn"] is None  # groups under two roles: no one role decides the team
    assert research["instance_count"] == 3


def test_a_deleted_cluster_is_kept_marked_deleted_so_its_earlier_charges_still_join(aws, extract):
    _create_clusters(aws)
    extract("--datasets", "clusters", "--regions", REGION, "--extract-date", "2024-06-01")
    first = by(landed(extract.out, "clusters"), "cluster_name")

    aws.client("sagemaker").delete_cluster(ClusterName="shared-research")
    extract("--datasets", "clusters", "--regions", REGION, "--extract-date", "2024-06-02")

    clusters = by(landed(extract.out, "clusters"), "cluster_name")
    assert clusters["shared-research"]["cluster_status"] == "Deleted"
    kept = {k: v for k, v in clusters["shared-research"].items() if k not in ("cluster_status", "extracted_at")}
    assert kept == {k: v for k, v in first["shared-research"].items() if k not in ("cluster_status", "extracted_at")}
    assert clusters["llm-pretrain"]["cluster_status"] == "InService"
