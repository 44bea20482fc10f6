"""SageMaker HyperPod clusters: ListClusters, then DescribeCluster and ListTags per cluster.

HyperPod bills each cluster's instances (``<region>-Cluster:ml.<type>``) and their volumes
(``Cluster:VolumeUsage…``) with the cluster's ARN, ``…:cluster/<cluster-id>``: a 12-character ID,
not the name (botocore's ``ClusterArn`` pattern). The ID is landed as its own column so a charge
joins its cluster whatever the name, and a name reused after DeleteCluster gets a new ID.

Instance groups are part of DescribeCluster's answer and are not billed or tagged apart, so they
land as a list column of the cluster's row. ListClusterNodes is not called: DescribeCluster's
``CurrentCount`` per group already says how many instances run, and a call per cluster page of
nodes would add nothing the attribution uses.
"""

from __future__ import annotations

from typing import Any

from smcost.extractor.kinds import Describe, Kind, Listing, Record, dig


def _cluster_id(record: Record) -> str | None:
    arn = record.get("ClusterArn")
    return str(arn).rsplit("/", 1)[-1] if arn else None


def _instance_groups(record: Record) -> list[dict[str, Any]]:
    return [
        {
            "instance_group_name": g.get("InstanceGroupName"),
            "instance_type": g.get("InstanceType"),
            "current_count": g.get("CurrentCount"),
            "target_count": g.get("TargetCount"),
            "execution_role_arn": g.get("ExecutionRole"),
            "training_plan_arn": g.get("TrainingPlanArn"),
        }
        for g in record.get("InstanceGroups") or []
    ]


def _instance_count(record: Record) -> int:
    return sum(int(g.get("CurrentCount") or 0) for g in record.get("InstanceGroups") or [])


def _execution_role(record: Record) -> str | None:
    # A role rule decides the team of the whole cluster: only when every group runs under one role,
    # never one group's role for the others.
    roles = {g.get("ExecutionRole") for g in record.get("InstanceGroups") or []}
    return roles.pop() if len(roles) == 1 else None


def _orchestrator(record: Record) -> str:
    # Slurm is the default: its Orchestrator.Slurm block is optional, EKS's is not.
    return "eks" if dig(record, "Orchestrator.Eks") else "slurm"


KINDS = [
    Kind(
        "clusters",
        Listing(
            "list_clusters",
            "ClusterSummaries",
            describe=Describe("describe_cluster", ("ClusterName",)),
            arn="ClusterArn",
            computed={
                "cluster_id": _cluster_id,
                "orchestrator": _orchestrator,
                "execution_role_arn": _execution_role,
                "instance_count": _instance_count,
                "instance_groups": _instance_groups,
            },
        ),
        # A deleted cluster vanishes from ListClusters and its ID is never reused: its row is kept,
        # marked Deleted, so charges from before the deletion still join it.
        status_column="cluster_status",
    ),
]
