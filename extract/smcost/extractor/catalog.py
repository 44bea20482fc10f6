"""Every kind the extractor lands, in the order units are scheduled (a kind after what it needs)."""

from __future__ import annotations

from smcost.extractor import cloudwatch, sagemaker, storage
from smcost.extractor.kinds import Kind
from smcost.extractor.options import usage_error

KINDS: dict[str, Kind] = {k.dataset: k for k in [*sagemaker.KINDS, *storage.KINDS, cloudwatch.KIND]}


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
