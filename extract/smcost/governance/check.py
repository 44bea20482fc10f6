"""The findings of `smcost tags check` for each resource, and its text, JSON and JUnit reports.

Keys match as dbt matches them (tagconfig.normalise_tag_key: case, surrounding spaces and a
`user:` prefix ignored; canonical keys and aliases), with one stricter rule where the guardrails
would decide otherwise: a key that matches only once its spaces or `user:` prefix are removed is
an error, because the SCP compares the request's keys ignoring case only and would deny the call.
A canonical key in another capitalization (ML:Team) and a value in another case than the allowed
list (Fraud) are accepted with a warning: dbt reads them, but the tag policy's compliance rules
are exact.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smcost.governance import sagemaker_api
from smcost.governance.documents import Document, Resource, TagEntry, TagVariant
from smcost.governance.tagconfig import DIMENSIONS, TagConfig, normalise_tag_key, normalise_tag_value

ERROR, WARNING, UNVERIFIABLE, NOTE = "error", "warning", "unverifiable", "note"

# Tag lengths per botocore's Tag shape (Key 1..128, Value 0..256).
KEY_MAX, VALUE_MAX = 128, 256


@dataclass(frozen=True)
class Finding:
    level: str
    message: str
    dimension: str | None = None


@dataclass
class ResourceResult:
    resource: Resource
    findings: list[Finding]
    values: dict[str, str] = field(default_factory=dict)
    unverifiable_fails: bool = True

    @property
    def status(self) -> str:
        levels = {f.level for f in self.findings}
        if ERROR in levels or (UNVERIFIABLE in levels and self.unverifiable_fails):
            return "fail"
        if UNVERIFIABLE in levels:
            return "unverifiable"
        return "warn" if WARNING in levels else "pass"

    @property
    def compliant(self) -> bool:
        return self.status != "fail"


@dataclass
class FileResult:
    path: str
    kind: str = ""
    results: list[ResourceResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str = ""


def check_document(
    document: Document,
    config: TagConfig,
    extra_tags: Sequence[tuple[str, str]] = (),
    unverifiable_fails: bool = True,
) -> FileResult:
    """Every resource of a document against the required keys and allowed values. `extra_tags`
    (stack-level tags CloudFormation adds to each resource) apply to templates only."""
    result = FileResult(document.path, document.kind, skipped=list(document.skipped))
    is_template = document.kind == "CloudFormation template"
    for resource in document.resources:
        if resource.variants is None:
            findings = [Finding(UNVERIFIABLE, f"{resource.unverifiable}; the required keys cannot be checked")]
            result.results.append(ResourceResult(resource, findings, unverifiable_fails=unverifiable_fails))
            continue
        added = tuple(TagEntry(k, v) for k, v in extra_tags) if is_template else ()
        variants = [TagVariant(v.entries + added, v.branch) for v in resource.variants]
        findings = _merge_variants([(v.branch, check_tags(v.entries, config)) for v in variants])
        first = variants[0].entries if variants else ()
        values = config.resolve((e.key, e.value) for e in first if e.key is not None and e.value is not None)
        result.results.append(ResourceResult(resource, findings, values, unverifiable_fails))
    return result


def _merge_variants(per_variant: list[tuple[str, list[Finding]]]) -> list[Finding]:
    """A finding every branch shares is stated once; one only some branches have names them."""
    if len(per_variant) == 1:
        return per_variant[0][1]
    common = set.intersection(*(set(f) for _, f in per_variant))
    merged = [f for f in per_variant[0][1] if f in common]
    for branch, findings in per_variant:
        merged += [Finding(f.level, f"when {branch}: {f.message}", f.dimension) for f in findings if f not in common]
    return merged


def check_tags(entries: Iterable[TagEntry], config: TagConfig) -> list[Finding]:
    """The findings for one list of tags (one branch of a resource's conditions)."""
    entries = list(entries)
    findings: list[Finding] = []
    limit = sagemaker_api.max_tags()
    if len(entries) > limit:
        findings.append(Finding(ERROR, f"{len(entries)} tags: SageMaker accepts at most {limit} per resource"))
    unknown_keys = [e for e in entries if e.key is None]
    by_dimension: dict[str, list[TagEntry]] = {d: [] for d in DIMENSIONS}
    for entry in entries:
        if entry.key is None:
            continue
        findings += _length_findings(entry)
        spelling = config.dimension_of(entry.key)
        if spelling is None:
            continue
        by_dimension[spelling.dimension].append(entry)
        if normalise_tag_key(entry.key) != entry.key.lower():
            findings.append(
                Finding(
                    ERROR,
                    f"key {entry.key!r} matches {spelling.key} only once its spaces or 'user:' prefix are "
                    f"removed: dbt would read it, but the SCP compares keys as written (ignoring case) "
                    f"and would deny the create call; write {spelling.key!r}",
                    spelling.dimension,
                )
            )
        elif spelling.preference == 0 and entry.key != spelling.key:
            findings.append(
                Finding(
                    WARNING,
                    f"key {entry.key!r} is read as {spelling.key}, but the tag policy requires the "
                    f"capitalization {spelling.key!r}",
                    spelling.dimension,
                )
            )
        elif spelling.preference == 1:
            findings.append(
                Finding(
                    NOTE, f"key {entry.key!r} is an alias of {config.canonical[spelling.dimension]}", spelling.dimension
                )
            )
    for dimension in DIMENSIONS:
        findings += _dimension_findings(dimension, by_dimension[dimension], unknown_keys, config)
    return findings


def _length_findings(entry: TagEntry) -> list[Finding]:
    findings = []
    if entry.key is not None and not 1 <= len(entry.key) <= KEY_MAX:
        findings.append(Finding(ERROR, f"key {entry.key[:40]!r}... is {len(entry.key)} characters (1 to {KEY_MAX})"))
    if entry.value is not None and len(entry.value) > VALUE_MAX:
        findings.append(
            Finding(ERROR, f"the value of {entry.key!r} is {len(entry.value)} characters (at most {VALUE_MAX})")
        )
    return findings


def _dimension_findings(
    dimension: str, entries: list[TagEntry], unknown_keys: list[TagEntry], config: TagConfig
) -> list[Finding]:
    canonical = config.canonical[dimension]
    aliases = config.aliases.get(dimension, ())
    if not entries:
        if unknown_keys:
            sources = ", ".join(e.key_source for e in unknown_keys[:2])
            return [
                Finding(
                    UNVERIFIABLE,
                    f"{canonical} not found, and a tag key is built by an intrinsic ({sources}) that may supply it",
                    dimension,
                )
            ]
        also = f" (or an alias: {', '.join(aliases)})" if aliases else ""
        return [Finding(ERROR, f"missing {canonical}{also}", dimension)]
    literal = [(e.key or "", e.value) for e in entries if e.value is not None]
    computed = [e for e in entries if e.value is None]
    present = [(key, value) for key, value in literal if normalise_tag_value(value) is not None]
    if not present and not computed:
        spelled = ", ".join(repr(key) for key, _ in literal)
        return [
            Finding(
                ERROR,
                f"{spelled} has an empty value: dbt ignores empty values, so {canonical} counts as missing",
                dimension,
            )
        ]
    findings: list[Finding] = []
    distinct = sorted({normalise_tag_value(v) or "" for _, v in present})
    if len(distinct) > 1:
        chosen = config.resolve(present).get(dimension)
        listed = " and ".join(f"{k}={v}" for k, v in present)
        findings.append(
            Finding(
                ERROR,
                f"{listed} give {dimension} {len(distinct)} values: dbt would take {chosen!r} "
                f"(canonical spelling first) and count a conflict; keep one",
                dimension,
            )
        )
    allowed = config.allowed_values.get(dimension)
    if not allowed:
        return findings
    allowed_text = ", ".join(sorted(allowed))
    for key, value in present:
        if not config.is_allowed(dimension, value):
            findings.append(
                Finding(ERROR, f"{key}={value!r} is not an allowed {dimension} ({allowed_text})", dimension)
            )
        elif value != normalise_tag_value(value):
            findings.append(
                Finding(
                    WARNING,
                    f"{key}={value!r} is read as {normalise_tag_value(value)!r}, but the tag policy compares "
                    f"values exactly: write {normalise_tag_value(value)!r}",
                    dimension,
                )
            )
    for entry in computed:
        if entry.choices:
            bad = [c for c in entry.choices if not config.is_allowed(dimension, c)]
            if bad:
                findings.append(
                    Finding(
                        ERROR,
                        f"{entry.key}'s value {entry.value_source} may be {', '.join(map(repr, bad))}, "
                        f"not an allowed {dimension} ({allowed_text})",
                        dimension,
                    )
                )
            continue
        findings.append(
            Finding(
                WARNING,
                f"{entry.key} is present, but its value is built by {entry.value_source} and cannot be "
                f"checked against the allowed {dimension} values before deployment",
                dimension,
            )
        )
    return findings


# ---------------------------------------------------------------------------------------------
# Reports


def exit_code(files: Sequence[FileResult]) -> int:
    """0 every resource compliant, 1 some resource non-compliant, 2 some file could not be read."""
    if any(f.error for f in files):
        return 2
    return 1 if any(not r.compliant for f in files for r in f.results) else 0


def summary(files: Sequence[FileResult]) -> dict[str, int]:
    results = [r for f in files for r in f.results]
    return {
        "files": len(files),
        "unreadable_files": sum(1 for f in files if f.error),
        "resources": len(results),
        "compliant": sum(1 for r in results if r.compliant),
        "non_compliant": sum(1 for r in results if not r.compliant),
        "unverifiable": sum(1 for r in results if any(x.level == UNVERIFIABLE for x in r.findings)),
        "warnings": sum(1 for r in results for x in r.findings if x.level == WARNING),
    }


_MARK = {"pass": "ok  ", "warn": "warn", "unverifiable": "warn", "fail": "FAIL"}


def render_text(files: Sequence[FileResult]) -> str:
    lines: list[str] = []
    for file in files:
        if file.error:
            lines.append(f"{file.path}: {file.error}")
            continue
        lines.append(f"{file.path}  ({file.kind})")
        if not file.results:
            lines.append("  no SageMaker resource that requires tags")
        for result in file.results:
            lines.append(f"  {_MARK[result.status]}  {result.resource.name}")
            lines += [f"        {f.level}: {f.message}" for f in result.findings if f.level != NOTE]
        lines += [f"  skipped  {s}" for s in file.skipped]
    counts = summary(files)
    lines.append(
        f"{counts['resources']} resources: {counts['compliant']} compliant, {counts['non_compliant']} "
        f"non-compliant ({counts['unverifiable']} unverifiable), {counts['warnings']} warnings"
        + (f"; {counts['unreadable_files']} files could not be read" if counts["unreadable_files"] else "")
    )
    return "\n".join(lines) + "\n"


def render_json(files: Sequence[FileResult]) -> str:
    payload: dict[str, Any] = {
        "files": [
            {
                "path": file.path,
                "kind": file.kind,
                "error": file.error or None,
                "resources": [
                    {
                        "name": r.resource.name,
                        "operation": r.resource.operation,
                        "status": r.status,
                        "values": r.values,
                        "findings": [
                            {"level": f.level, "dimension": f.dimension, "message": f.message} for f in r.findings
                        ],
                    }
                    for r in file.results
                ],
                "skipped": file.skipped,
            }
            for file in files
        ],
        "summary": summary(files),
        "exit_code": exit_code(files),
    }
    return json.dumps(payload, indent=2) + "\n"


def render_junit(files: Sequence[FileResult]) -> str:
    """JUnit XML: one testsuite per file, one testcase per resource; a non-compliant resource
    fails with its findings, an unreadable file is one errored testcase."""
    counts = summary(files)
    root = ET.Element(
        "testsuites",
        name="smcost tags check",
        tests=str(counts["resources"] + counts["unreadable_files"]),
        failures=str(counts["non_compliant"]),
        errors=str(counts["unreadable_files"]),
    )
    for file in files:
        suite = ET.SubElement(root, "testsuite", name=file.path)
        cases = 0
        failures = 0
        if file.error:
            case = ET.SubElement(suite, "testcase", classname=file.path, name=file.path)
            ET.SubElement(case, "error", message=file.error, type="bad-input").text = file.error
            cases = 1
        for result in file.results:
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=file.path, name=result.resource.name)
            blocking = [
                f
                for f in result.findings
                if f.level == ERROR or (f.level == UNVERIFIABLE and result.unverifiable_fails)
            ]
            if blocking:
                failures += 1
                failure = ET.SubElement(case, "failure", message=blocking[0].message, type="non-compliant")
                failure.text = "\n".join(f"{f.level}: {f.message}" for f in blocking)
            advisory = [f for f in result.findings if f not in blocking and f.level != NOTE]
            if advisory:
                ET.SubElement(case, "system-out").text = "\n".join(f"{f.level}: {f.message}" for f in advisory)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "1" if file.error else "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit}
