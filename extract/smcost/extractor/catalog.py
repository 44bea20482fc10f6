"""Every kind the extractor lands, in the order units are scheduled (a kind after what it needs),
and the live kinds `smcost audit` reads.

The registry: the only module that imports the declaration modules. The engine is handed the
kinds ``resolve`` returns and never imports this one.
"""

from __future__ import annotations

from smcost.extractor import cloudwatch, hyperpod, live, multi_model, sagemaker, storage, training_plans
from smcost.extractor import pipelines as sagemaker_pipelines
from smcost.extractor.aws import RUN_ACTIONS
from smcost.extractor.kinds import Kind
from smcost.extractor.options import usage_error

KINDS: dict[str, Kind] = {
    k.dataset: k for k in [*sagemaker.KINDS, *hyperpod.KINDS, *storage.KINDS, *multi_model.KINDS, *cloudwatch.KINDS]
}
KINDS |= {k.dataset: k for k in training_plans.KINDS}
KINDS |= {k.dataset: k for k in sagemaker_pipelines.KINDS}
# What runs now, read by `smcost audit` (Extraction.collect) and never landed.
LIVE_KINDS: dict[str, Kind] = {k.dataset: k for k in live.KINDS}


def resolve(names: list[str]) -> list[Kind]:
    """The kinds asked for plus everything they need, in schedule order."""
    unknown = sorted(set(names) - set(KINDS))
    if unknown:
        raise usage_error(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    wanted = set(names or KINDS)
    stack = list(wanted)
    while stack:
        for need in KINDS[stack.pop()].needs:
            if need not in wanted:
                wanted.add(need)
                stack.append(need)
    return [k for name, k in KINDS.items() if name in wanted]


def iam_actions() -> list[str]:
    """Every IAM action a run or an audit may need: each kind's, and the run's own (extract/iam-policy.json)."""
    kinds = [*KINDS.values(), *LIVE_KINDS.values()]
    return sorted({action for kind in kinds for action in kind.actions} | set(RUN_ACTIONS))
