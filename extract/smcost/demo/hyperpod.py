"""SageMaker HyperPod clusters, billed as AWS bills them: each instance group's hours as
``Cluster:ml.<type>`` and the instances' volumes as ``Cluster:VolumeUsage.gp2``, every charge naming
the cluster's ARN, which carries the cluster's ID (``cluster/<12 characters>``), not its name.

Owned through their API tags only (not activated for billing): the cluster's owner must come from
the landed metadata. One cluster runs all along; a sandbox cluster is deleted in the second month
and its name reused by another team's cluster, so only the ID tells their charges apart.

Small (about $300 a month) and drawing no random numbers: the cases before it keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smcost.demo.account import PRICES, arn, environment, role_arn, short_hash
from smcost.demo.clock import DAY_MS, utc
from smcost.demo.ledger import Charge, Ledger, Owner, only

ACCT, REGION = "dev", "us-east-1"
VOLUME_GB = 100  # per instance (InstanceStorageConfigs EbsVolumeSizeInGB)
VOLUME_RATE = 0.14  # $/GB-month, gp2


@dataclass(frozen=True)
class Cluster:
    name: str
    model: str
    team: str
    groups: tuple[tuple[str, str, int], ...]  # (group name, instance type, count)
    created: int  # epoch ms
    deleted: int | None  # epoch ms; None: still in service


def add_hyperpod_clusters(ledger: Ledger) -> None:
    sandbox_gone = ledger.t0 + 45 * DAY_MS
    clusters = [
        Cluster(
            f"nlp-pretrain{ledger.suffix}",
            "nlp-summarizer",
            "nlp",
            (("controller", "ml.t3.medium", 1), ("workers", "ml.m5.xlarge", 1)),
            ledger.t0 - 60 * DAY_MS,
            None,
        ),
        Cluster(
            f"sandbox{ledger.suffix}",
            "vision-ocr",
            "vision",
            (("controller", "ml.t3.medium", 1),),
            ledger.t0 - 10 * DAY_MS,
            sandbox_gone,
        ),
        Cluster(  # the same name, a new cluster: a new ID
            f"sandbox{ledger.suffix}",
            "recsys-reranker",
            "recsys",
            (("controller", "ml.t3.medium", 1),),
            sandbox_gone + DAY_MS,
            None,
        ),
    ]
    for cluster in clusters:
        _add_cluster(ledger, cluster)


def _add_cluster(ledger: Ledger, cluster: Cluster) -> None:
    env = environment(ACCT)
    cluster_id = short_hash("hyperpod", cluster.name, cluster.created, n=12)
    cluster_arn = arn(ACCT, REGION, "cluster", cluster_id)
    role = role_arn(ACCT, f"{cluster.team}-hyperpod")
    api_tags = {"ml:team": cluster.team, "ml:model": cluster.model, "ml:environment": env}
    owners = only(Owner(cluster.model, cluster.team, None, env, "api_tag"))
    end = ledger.t1 if cluster.deleted is None else cluster.deleted
    hours = ledger.hours(cluster.created, end)
    days = ledger.days(cluster.created, end)
    instances = 0
    for _, instance, count in cluster.groups:
        instances += count
        ledger.charge(
            Charge(
                acct=ACCT,
                region=REGION,
                resource_id=cluster_arn,
                usage=f"Cluster:{instance}",
                start_ms=hours,
                quantity=np.full(len(hours), float(count)),
                unit="Hrs",
                list_rate=PRICES[instance],
                owners=owners,
            )
        )
    ledger.charge(
        Charge(
            acct=ACCT,
            region=REGION,
            resource_id=cluster_arn,
            usage="Cluster:VolumeUsage.gp2",
            start_ms=days,
            quantity=np.full(len(days), instances * VOLUME_GB / 30.4),
            unit="GB-Mo",
            list_rate=VOLUME_RATE,
            owners=owners,
            duration_ms=DAY_MS,
        )
    )
    ledger.metadata(
        "clusters",
        ACCT,
        REGION,
        cluster_arn=cluster_arn,
        cluster_id=cluster_id,
        cluster_name=cluster.name,
        cluster_status="InService" if cluster.deleted is None else "Deleted",
        orchestrator="slurm",
        created_at=utc(cluster.created),
        execution_role_arn=role,
        instance_count=instances,
        instance_groups=[
            {
                "instance_group_name": group,
                "instance_type": instance,
                "current_count": count,
                "target_count": count,
                "execution_role_arn": role,
                "training_plan_arn": None,
            }
            for group, instance, count in cluster.groups
        ],
        tags=api_tags,
    )
