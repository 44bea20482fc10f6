"""Training plans: reserved capacity bought with an upfront fee (REFERENCE.md §7).

ListTrainingPlans returns every landed field in its summaries, so no Describe per plan; ListTags
gives the tags that say who bought it (the team the plan's unused reserved hours are charged to).
The jobs that ran on a plan name it in ResourceConfig.TrainingPlanArn (training_jobs). Plans are
never deleted (an expired one is still listed), so a snapshot keeping rows not read again loses
nothing a fee in an older bill needs.
"""

from __future__ import annotations

from typing import Any

from smcost.extractor.kinds import Kind, Listing, Record, dig


def _reserved_instance_types(record: Record) -> list[Any]:
    return [s["InstanceType"] for s in dig(record, "ReservedCapacitySummaries") or [] if s.get("InstanceType")]


KINDS = [
    Kind(
        "training_plans",
        Listing(
            "list_training_plans",
            "TrainingPlanSummaries",
            arn="TrainingPlanArn",
            computed={
                "target_resources": lambda r: list(r.get("TargetResources") or []),
                "reserved_instance_types": _reserved_instance_types,
            },
        ),
    ),
]
