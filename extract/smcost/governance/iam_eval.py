"""A small evaluator of the Deny statements the SCPs use, as IAM documents them, to test that the
rendered policies deny a create call without the tags and allow one with them.

What it models (and only that; anything else raises, so a generator change that uses more of the
policy language fails the tests instead of being evaluated wrongly):
- Effect Deny statements with Action lists (`*` and `?` wildcards, action names case-insensitive)
  and Resource "*";
- the request context of a create call: `aws:TagKeys` (the request's tag keys, multivalued) and
  `aws:RequestTag/<key>` (each tag's value); condition key names are matched case-insensitively;
- condition operators `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
  `StringNotEqualsIgnoreCase` and `Null`, with the `ForAllValues:` / `ForAnyValue:` set
  qualifiers for the multivalued key: ForAllValues is true when every request value matches (and
  when the key is absent or empty), ForAnyValue when at least one does (false when absent);
- operators within a Condition block AND together, as do keys within an operator; the values
  listed for one key OR together.
What it does not model: Allow statements and the FullAWSAccess SCP (a Deny wins over any Allow),
NotAction/NotResource, policy variables, other operators, resource ARNs, service-linked roles and
the management account (SCPs never apply to those), and the tag-key case handling of the condition
key *name* `aws:RequestTag/<key>` (the SCPs do not depend on it).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_STRING_OPERATORS = {
    "StringEquals": (False, False),  # (negated, ignore case)
    "StringNotEquals": (True, False),
    "StringEqualsIgnoreCase": (False, True),
    "StringNotEqualsIgnoreCase": (True, True),
}


class UnsupportedPolicy(ValueError):
    """The policy uses language this evaluator does not model."""


def request_context(tags: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The condition keys a create call with these tags carries (no Tags: neither key)."""
    tags = list(tags)
    context: dict[str, list[str]] = {}
    if tags:
        context["aws:TagKeys"] = [key for key, _ in tags]
    for key, value in tags:
        context[f"aws:RequestTag/{key}"] = [value]
    return context


def is_denied(policies: Sequence[Mapping[str, Any]], action: str, context: Mapping[str, list[str]]) -> bool:
    """Whether any Deny statement of the policies matches the action and all its conditions."""
    return bool(denying_statements(policies, action, context))


def denying_statements(
    policies: Sequence[Mapping[str, Any]], action: str, context: Mapping[str, list[str]]
) -> list[str]:
    """The Sids of the statements that deny the call."""
    denied = []
    for policy in policies:
        statements = policy.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            if _statement_denies(statement, action, context):
                denied.append(str(statement.get("Sid", "")))
    return denied


def _statement_denies(statement: Mapping[str, Any], action: str, context: Mapping[str, list[str]]) -> bool:
    unsupported = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
    if unsupported or statement.get("Effect") != "Deny" or statement.get("Resource") != "*":
        raise UnsupportedPolicy(
            f"statement {statement.get('Sid')!r}: only Deny on Resource '*' with Action is modelled"
        )
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions):
        return False
    return all(
        _operator_holds(operator, block, context) for operator, block in (statement.get("Condition") or {}).items()
    )


def _lookup(context: Mapping[str, list[str]], key: str) -> list[str] | None:
    wanted = key.lower()
    return next((values for name, values in context.items() if name.lower() == wanted), None)


def _operator_holds(operator: str, block: Mapping[str, Any], context: Mapping[str, list[str]]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    for key, expected in block.items():
        expected_values = [expected] if isinstance(expected, str) else list(expected)
        present = _lookup(context, key)
        if base == "Null":
            if qualifier:
                raise UnsupportedPolicy("Null takes no set qualifier")
            absent = present is None or present == []
            if absent != (str(expected_values[0]).lower() == "true"):
                return False
            continue
        if base not in _STRING_OPERATORS:
            raise UnsupportedPolicy(f"operator {operator!r} is not modelled")
        negated, ignore_case = _STRING_OPERATORS[base]

        values = present or []
        if qualifier == "ForAllValues":
            holds = all(_matches(v, expected_values, negated, ignore_case) for v in values)
        elif qualifier == "ForAnyValue":
            holds = any(_matches(v, expected_values, negated, ignore_case) for v in values)
        elif qualifier == "":
            if present is None:
                holds = negated  # a missing single-valued key: only the negated operators hold
            elif len(values) != 1:
                raise UnsupportedPolicy(f"{key} is multivalued: use ForAllValues/ForAnyValue")
            else:
                holds = _matches(values[0], expected_values, negated, ignore_case)
        else:
            raise UnsupportedPolicy(f"set qualifier {qualifier!r} is not modelled")
        if not holds:
            return False
    return True


def _matches(value: str, expected: list[Any], negated: bool, ignore_case: bool) -> bool:
    """One request value against a statement's values (OR), under a string operator."""
    fold = str.lower if ignore_case else str
    hit = any(fold(value) == fold(str(e)) for e in expected)
    return not hit if negated else hit
