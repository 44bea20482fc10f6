"""What the generator knows it made, beside the charges it booked: how each endpoint variant was
used, which training jobs could have run on spot, and which resources the story planted as the
causes of the bill's growth. ``findings.py`` turns these facts and the booked charges into the
ground truth of the story, never reading the bill or the landed metadata back."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from smcost.demo.clock import Floats, Millis

# The causes of the bill's growth the story plants (ground_truth_findings' growth_driver details).
CAUSES = ("growing_team", "forgotten_staging_endpoints", "always_on_notebooks", "on_demand_training")
# How an instance-backed real-time endpoint's variant serves its models.
VARIANT_KINDS = ("single_model", "multi_model", "inference_component")


@dataclass(frozen=True)
class HostedVariant:
    """An instance-backed real-time endpoint variant (usage ``Host:``) over the hours it was in service."""

    endpoint_arn: str
    region: str
    kind: str  # one of VARIANT_KINDS
    instance: str
    hours: Millis
    requests: Floats  # requests each hour, whether or not a metric landed them
    metered: bool  # its utilisation landed every hour in service (False: no metric at all)
    peak: Floats | None  # each hour's highest utilisation, percent per vCPU, per GPU or of memory


@dataclass
class Facts:
    variants: list[HostedVariant] = field(default_factory=list)
    spot_candidates: list[str] = field(default_factory=list)  # on-demand training jobs that checkpoint
    causes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # cause -> resource ARNs

    def cause(self, cause: str, resource_arn: str) -> None:
        assert cause in CAUSES, cause
        self.causes[cause].append(resource_arn)
