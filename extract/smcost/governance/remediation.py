"""`smcost tags suggest`: the AddTags calls that would fix what the project inferred with high confidence.

Reads the DuckDB marts only (fct_sagemaker_untagged_resources, fct_sagemaker_tag_coverage_trend).
For every resource of the billing period, each canonical key that is only *inferred* with confidence
`high` (seeds/tag_inference_confidence.csv: a metadata link or an experiment sibling) becomes a tag
of one AddTags request for it; medium and low inferences (rules, account defaults, a shared
endpoint's usage split) and keys nothing names are left to the owner and listed as such.

Nothing is applied: the output is a reviewable script (`aws sagemaker add-tags`, shell-quoted, the
evidence in a comment above each command) or JSON (each request in AddTags' own shape, ResourceArn
and Tags, with its evidence beside it). Each request is checked against botocore's service model for
sagemaker AddTags (the ARN pattern, the tag key/value lengths and characters, at most 50 tags); a
resource or tag that fails, a value outside seeds/tag_allowed_values.csv, a resource deleted since
its charges, or one whose 50-tag limit the new tags would exceed, is skipped and counted with its
reason, never proposed and never silently dropped.

The projected coverage is the dollar-weighted share of the period's taggable spend that would carry
each key (and all four) in the bill once the suggested tags flow through: the resource's cost in
the period moves from inferred to bill for each key suggested. It is hypothetical for finished jobs
(tags added today do not rewrite a past bill) and exact for running resources' future charges only
if their spend stays the same.
"""

from __future__ import annotations

import json
import shlex
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import duckdb

from smcost.governance.tagconfig import DIMENSIONS, TagConfig

UNTAGGED = "fct_sagemaker_untagged_resources"
TREND = "fct_sagemaker_tag_coverage_trend"
TAG_LIMIT = 50  # SageMaker's tags per resource (botocore: TagList max 50)
GONE_STATUSES = {"deleted", "deleting"}  # AddTags on these fails: ResourceNotFound
_TAG_SYMBOLS = set("_.:/=+-@")


@dataclass(frozen=True)
class Suggestion:
    """One tag to add, and why."""

    dimension: str
    key: str
    value: str
    source: str
    confidence: str


@dataclass
class Request:
    """One AddTags request: a resource and its suggested tags."""

    resource_arn: str
    resource_type: str | None
    resource_name: str | None
    billing_currency: str | None
    effective_cost: float
    all_bill_tags_cost: float
    last_seen_status: str
    fix_owner_team: str
    tags: list[Suggestion]
    left_to_owner: list[str]  # keys not suggested: "ml:experiment (missing)", "ml:team (rule, medium)"

    def add_tags(self) -> dict[str, Any]:
        """The AddTags request, in the API's shape."""
        return {"ResourceArn": self.resource_arn, "Tags": [{"Key": t.key, "Value": t.value} for t in self.tags]}


@dataclass
class Skipped:
    resource_arn: str
    reason: str
    key: str | None = None


@dataclass
class Coverage:
    """Current and projected dollar-weighted coverage of one currency: key -> share (0..1)."""

    currency: str | None
    taggable_cost: float
    current: dict[str, float]
    projected: dict[str, float]


@dataclass
class Plan:
    billing_period: str
    requests: list[Request] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def tag_count(self) -> int:
        return sum(len(r.tags) for r in self.requests)


class SuggestError(Exception):
    """The marts cannot give a plan (missing tables, no billing period): the message says why."""


# ------------------------------------------------------------------------------------------------
# AddTags, as botocore's service model describes it


@lru_cache(maxsize=1)
def _add_tags_input() -> Any:
    """AddTags' input shape (a botocore StructureShape) from the installed service model."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("AddTags").input_shape
    if shape is None:  # pragma: no cover - the model always has one
        raise SuggestError("botocore's sagemaker model has no AddTags input")
    return shape


@lru_cache(maxsize=1)
def add_tags_shapes() -> dict[str, dict[str, Any]]:
    """The constraints of AddTags' members from botocore's sagemaker service model:
    {'ResourceArn': {...}, 'Tags': {...}, 'Key': {...}, 'Value': {...}} (min, max, pattern)."""
    members = _add_tags_input().members
    tag_list: Any = members["Tags"]  # a ListShape of the Tag structure
    tag = tag_list.member.members
    return {
        "ResourceArn": dict(members["ResourceArn"].metadata),
        "Tags": dict(members["Tags"].metadata),
        "Key": dict(tag["Key"].metadata),
        "Value": dict(tag["Value"].metadata),
    }


def _tag_text_ok(text: str) -> bool:
    """The TagKey/TagValue pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`: letters, separators (spaces),
    numbers and _.:/=+-@ (Python's re has no \\p classes; unicodedata categories are the same)."""
    return all(unicodedata.category(ch)[0] in "LZN" or ch in _TAG_SYMBOLS for ch in text)


def tag_problem(key: str, value: str) -> str | None:
    """Why AddTags would reject this tag (botocore's Key/Value constraints), or None."""
    shapes = add_tags_shapes()
    for label, text in (("key", key), ("value", value)):
        shape = shapes["Key" if label == "key" else "Value"]
        if not shape.get("min", 0) <= len(text) <= shape.get("max", len(text)):
            return f"tag {label} {text[:40]!r} is {len(text)} characters (AddTags allows {shape.get('min', 0)}-{shape['max']})"
        if not _tag_text_ok(text):
            return (
                f"tag {label} {text[:40]!r} has characters AddTags does not allow (letters, digits, spaces, _.:/=+-@)"
            )
    return None


def arn_problem(arn: str) -> str | None:
    """Why AddTags would reject this ResourceArn (pattern and length from botocore), or None."""
    import re

    shape = add_tags_shapes()["ResourceArn"]
    if len(arn) > shape.get("max", len(arn)):
        return f"the ARN is {len(arn)} characters (AddTags allows {shape['max']})"
    if not re.fullmatch(shape.get("pattern", ".*"), arn):
        return "not a SageMaker ARN AddTags accepts (arn:aws*:sagemaker:<region>:<account>:...)"
    return None


def validate_request(request: dict[str, Any]) -> list[str]:
    """Every way an AddTags request breaks botocore's model: its parameter validator (types, required
    members, minimum lengths) plus the maxima and patterns the validator leaves to the service."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(request, _add_tags_input())
    problems = [report.generate_report()] if report.has_errors() else []
    arn = request.get("ResourceArn")
    if isinstance(arn, str) and (problem := arn_problem(arn)):
        problems.append(problem)
    tags = request.get("Tags") or []
    if len(tags) > add_tags_shapes()["Tags"].get("max", TAG_LIMIT):
        problems.append(f"{len(tags)} tags in one request (AddTags allows {add_tags_shapes()['Tags']['max']})")
    for tag in tags:
        readable = isinstance(tag, dict) and isinstance(tag.get("Key"), str) and isinstance(tag.get("Value"), str)
        if readable and (problem := tag_problem(tag["Key"], tag["Value"])):
            problems.append(problem)
    return problems


# ------------------------------------------------------------------------------------------------
# The plan


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def latest_period(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(f"select max(billing_period) from {TREND}").fetchone()
    return row[0] if row else None


def build_plan(con: duckdb.DuckDBPyConnection, config: TagConfig, billing_period: str | None = None) -> Plan:
    """The AddTags requests for one billing period (default: the latest the marts hold)."""
    try:
        period = billing_period or latest_period(con)
    except duckdb.CatalogException as exc:
        raise SuggestError(f"the governance marts are missing ({str(exc).splitlines()[0]})") from exc
    if period is None:
        raise SuggestError(f"{TREND} holds no billing period: build the marts first")
    plan = Plan(period)
    resources = _rows(con, f"select * from {UNTAGGED} where billing_period = ? order by cost_rank", [period])
    suggested_by_currency: dict[str | None, list[Request]] = {}
    for row in resources:
        request = _request_for(row, config, plan.skipped)
        if request is not None:
            plan.requests.append(request)
            suggested_by_currency.setdefault(request.billing_currency, []).append(request)
    trend = _rows(con, f"select * from {TREND} where billing_period = ?", [period])
    plan.coverage = _coverage(trend, resources, suggested_by_currency, config)
    return plan


def _request_for(row: dict[str, Any], config: TagConfig, skipped: list[Skipped]) -> Request | None:
    arn = row["resource_arn"]
    status = row.get("last_seen_status") or "not_in_metadata"
    tags: list[Suggestion] = []
    left: list[str] = []
    for dimension in DIMENSIONS:
        key = config.canonical[dimension]
        source, value, confidence = (row.get(f"{dimension}_{part}") for part in ("source", "value", "confidence"))
        if source == "bill_tag":
            continue
        if source == "api_tag":
            left.append(f"{key} (tagged in SageMaker: activate it as a cost allocation tag)")
            continue
        if confidence != "high" or not value:
            left.append(f"{key} ({source}{', ' + confidence if confidence else ''})")
            continue
        if not config.is_allowed(dimension, value):
            skipped.append(
                Skipped(
                    arn, f"inferred value {value!r} is outside the allowed list (seeds/tag_allowed_values.csv)", key
                )
            )
            continue
        if problem := tag_problem(key, value):
            skipped.append(Skipped(arn, problem, key))
            continue
        tags.append(Suggestion(dimension, key, value, str(source), confidence))
    if not tags:
        return None
    if problem := arn_problem(arn or ""):
        skipped.append(Skipped(arn, problem))
        return None
    if status.lower() in GONE_STATUSES:
        skipped.append(Skipped(arn, f"the resource is {status} (AddTags would fail: nothing to tag)"))
        return None
    existing = row.get("api_tag_count") or 0
    if existing + len(tags) > TAG_LIMIT:
        skipped.append(
            Skipped(arn, f"carries {existing} tags: {len(tags)} more would exceed SageMaker's {TAG_LIMIT}-tag limit")
        )
        return None
    return Request(
        resource_arn=arn,
        resource_type=row.get("resource_type"),
        resource_name=row.get("resource_name"),
        billing_currency=row.get("billing_currency"),
        effective_cost=float(row.get("effective_cost") or 0.0),
        all_bill_tags_cost=float(row.get("all_bill_tags_cost") or 0.0),
        last_seen_status=status,
        fix_owner_team=row.get("fix_owner_team") or "unassigned",
        tags=tags,
        left_to_owner=left,
    )


def _coverage(
    trend: list[dict[str, Any]],
    resources: list[dict[str, Any]],
    suggested: dict[str | None, list[Request]],
    config: TagConfig,
) -> list[Coverage]:
    """Per currency: each key's bill coverage now and with the suggestions applied, and all four keys'.
    A key's gain is the suggested resources' cost, capped at the trend's high-confidence inferred
    cost for that key (a resource whose charges disagreed counts only what was really inferred)."""
    out = []
    key_of = {config.canonical[d]: d for d in DIMENSIONS}
    for currency in sorted({r["billing_currency"] for r in trend}, key=lambda c: c or ""):
        rows = {r["tag_key"]: r for r in trend if r["billing_currency"] == currency}
        taggable = next((float(r["taggable_cost"] or 0.0) for r in rows.values()), 0.0)
        requests = suggested.get(currency, [])
        current, projected = {}, {}
        for key, row in rows.items():
            dimension = key_of.get(key)
            gain = sum(r.effective_cost for r in requests if any(t.dimension == dimension for t in r.tags))
            gain = min(gain, float(row["inferred_high_confidence_cost"] or 0.0))
            bill = float(row["bill_tag_cost"] or 0.0)
            current[key] = bill / taggable if taggable else 0.0
            projected[key] = (bill + gain) / taggable if taggable else 0.0
        all_now = next((float(r["all_bill_tags_cost"] or 0.0) for r in rows.values()), 0.0)
        by_arn = {r.resource_arn: r for r in requests}
        all_gain = 0.0
        for row in resources:
            if row["billing_currency"] != currency:
                continue
            request = by_arn.get(row["resource_arn"])
            done = {t.dimension for t in request.tags} if request else set()
            if all(row.get(f"{d}_source") == "bill_tag" or d in done for d in DIMENSIONS):
                all_gain += float(row["effective_cost"] or 0.0) - float(row.get("all_bill_tags_cost") or 0.0)
        current["all four"] = all_now / taggable if taggable else 0.0
        projected["all four"] = (all_now + all_gain) / taggable if taggable else 0.0
        out.append(Coverage(currency, taggable, current, projected))
    return out


# ------------------------------------------------------------------------------------------------
# Output


def shell_command(request: Request) -> str:
    """`aws sagemaker add-tags` for the request, every argument shell-quoted."""
    tags = [f"Key={t.key},Value={t.value}" for t in request.tags]
    return shlex.join(["aws", "sagemaker", "add-tags", "--resource-arn", request.resource_arn, "--tags", *tags])


def _evidence(request: Request) -> str:
    parts = [f"{t.key}={t.value} ({t.source}, {t.confidence} confidence)" for t in request.tags]
    return "; ".join(parts)


def _comment(text: str) -> str:
    """A shell comment line: newlines in data cannot break out of it."""
    return "# " + " ".join(text.splitlines())


def _coverage_lines(plan: Plan) -> list[str]:
    lines = []
    for c in plan.coverage:
        label = c.currency or "no currency"
        lines.append(
            f"Coverage in the bill, {plan.billing_period} ({label}, taggable {c.taggable_cost:,.2f}): now -> if applied"
        )
        for key in sorted(c.current, key=lambda k: (k == "all four", k)):
            lines.append(f"  {key:<16} {c.current[key] * 100:5.1f}% -> {c.projected[key] * 100:5.1f}%")
    return lines


def render_shell(plan: Plan) -> str:
    lines = [
        "#!/bin/sh",
        _comment(
            f"smcost tags suggest: {len(plan.requests)} AddTags calls ({plan.tag_count} tags) for billing period "
            f"{plan.billing_period}, high-confidence inferences only. Read-only: review, then run it yourself."
        ),
    ]
    lines += [_comment(line) for line in _coverage_lines(plan)]
    if plan.skipped:
        lines.append(_comment(f"skipped {len(plan.skipped)}:"))
        lines += [_comment(f"  {s.resource_arn} {s.key or ''}: {s.reason}") for s in plan.skipped]
    for request in plan.requests:
        lines.append("")
        lines.append(
            _comment(
                f"{request.resource_arn} ({request.effective_cost:,.2f} {request.billing_currency or ''}, "
                f"{request.last_seen_status}, fix owner {request.fix_owner_team}): {_evidence(request)}"
            )
        )
        if request.left_to_owner:
            lines.append(_comment(f"  left to the owner: {', '.join(request.left_to_owner)}"))
        lines.append(shell_command(request))
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    document = {
        "billing_period": plan.billing_period,
        "applied": False,
        "requests": [
            {
                "AddTags": request.add_tags(),
                "evidence": [
                    {"key": t.key, "value": t.value, "source": t.source, "confidence": t.confidence}
                    for t in request.tags
                ],
                "effective_cost": request.effective_cost,
                "billing_currency": request.billing_currency,
                "last_seen_status": request.last_seen_status,
                "fix_owner_team": request.fix_owner_team,
                "left_to_owner": request.left_to_owner,
            }
            for request in plan.requests
        ],
        "skipped": [{"resource_arn": s.resource_arn, "key": s.key, "reason": s.reason} for s in plan.skipped],
        "coverage": [
            {
                "billing_currency": c.currency,
                "taggable_cost": c.taggable_cost,
                "current": c.current,
                "projected": c.projected,
            }
            for c in plan.coverage
        ],
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS = {"shell": render_shell, "json": render_json}
