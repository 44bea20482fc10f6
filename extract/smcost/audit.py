"""Audit what runs now: every in-progress or in-service SageMaker resource, its tags, its $/hour.

Reads, read-only and with the extractor's engine and IAM policy (extract/iam-policy.json):
in-progress training, processing, transform and tuning jobs, in-service endpoints (each variant's
instance type and current count), notebook instances, running Studio apps and HyperPod clusters,
in every --accounts x --regions. Each resource's tags are checked against the required keys and
allowed values as `smcost tags check` checks them (var tag_keys, seeds/tag_key_aliases.csv,
seeds/tag_allowed_values.csv). Its run rate is its own billed rate in the lake (--database: the
latest billing period's effective cost per instance-hour of its ARN; rate_source=bill), else the
price list (seeds/sagemaker_instance_prices.csv; rate_source=price_list), else unknown.

The report lists non-compliant resources first, most expensive first, then the rest, with the
coverage by count and by $/hour. --format text|json|csv|junit (JUnit: each non-compliant resource
a failing testcase). --min-coverage (default: var tag_coverage_min_percent) makes it a CI gate.

Exit status: 0 coverage at or above --min-coverage and every account/region read; 4 coverage
below it (by count or by $/hour, see --gate); 3 partial: some account/region/kind could not be
read (listed; the rest was audited); 5 nothing could be read; 1 could not start (no credentials);
2 bad arguments or configuration. Docs: docs/governance.md, "The live audit".
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from smcost.governance.check import ERROR, NOTE, WARNING, Finding, check_tags
from smcost.governance.documents import TagEntry
from smcost.governance.tagconfig import PROJECT_DIR, ConfigError, TagConfig, load_tag_config

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL, EXIT_BELOW, EXIT_NOTHING = 0, 1, 2, 3, 4, 5
COMMAND = "smcost audit"
DEFAULT_DATABASE = "data/smcost.duckdb"
DEFAULT_MIN_COVERAGE = 80.0
FACT = "fct_sagemaker_cost_allocations"
FREE_INSTANCE_TYPES = {"system"}  # Studio's default JupyterServer / KernelGateway app: no instance bills
# --resources names -> the live kinds (smcost.extractor.live) that read them
RESOURCES = {
    "training-job": "live_training_jobs",
    "hyper-parameter-tuning-job": "live_tuning_jobs",
    "processing-job": "live_processing_jobs",
    "transform-job": "live_transform_jobs",
    "endpoint": "live_endpoints",
    "notebook-instance": "live_notebook_instances",
    "app": "live_studio_apps",
    "cluster": "live_clusters",
}


# ---------------------------------------------------------------------------------------------
# Arguments


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from smcost.extractor.options import add_access_arguments

    add_access_arguments(parser)
    audit = parser.add_argument_group("audit")
    audit.add_argument(
        "--resources",
        type=_csv_list,
        default=[],
        help=f"comma-separated resource types to audit (default: all): {', '.join(RESOURCES)}",
    )
    audit.add_argument(
        "--database",
        help=f"DuckDB file with {FACT}, for billed rates (default: {DEFAULT_DATABASE} if it exists; '' for none)",
    )
    audit.add_argument(
        "--prices",
        type=Path,
        help="price list CSV: region,instance_type,usd_per_hour (default: the project's seeds/sagemaker_instance_prices.csv)",
    )
    audit.add_argument(
        "--min-coverage",
        type=float,
        help="percent of resources, by count and by $/hour, that must carry every required tag "
        "(default: var tag_coverage_min_percent in dbt_project.yml, 80)",
    )
    audit.add_argument(
        "--gate",
        choices=["both", "count", "dollars"],
        default="both",
        help="which coverage --min-coverage applies to (default both)",
    )
    audit.add_argument(
        "--format", choices=["text", "json", "csv", "junit"], default="text", help="report format (default text)"
    )
    audit.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    audit.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="the smcost dbt project whose tag configuration, var and price seed to use (default: this checkout)",
    )


class UsageError(Exception):
    """Bad arguments or configuration: exit 2."""


# ---------------------------------------------------------------------------------------------
# Rates


@dataclass(frozen=True)
class Rates:
    """$/hour per instance: the bill's per (ARN, instance type), the price list's per (region, type)."""

    bill: dict[tuple[str, str], float] = field(default_factory=dict)
    bill_periods: dict[str, str] = field(default_factory=dict)  # lowercased ARN -> billing period
    prices: dict[tuple[str, str], float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # what was read, in words, for the report

    def of(self, resource: Resource) -> tuple[float | None, str]:
        """(run rate in $/hour, rate_source): bill, price_list, bill+price_list, none or unknown."""
        if resource.resource_type == "hyper-parameter-tuning-job":
            return 0.0, "none"  # its training jobs bill, each listed with its own rate
        if not resource.instances:
            return None, "unknown"
        total, used = 0.0, set[str]()
        for instance_type, count in resource.instances:
            if instance_type in FREE_INSTANCE_TYPES or count <= 0:
                continue
            billed = self.bill.get(((resource.arn or "").lower(), instance_type))
            listed = self.prices.get((resource.region, instance_type))
            if billed is not None:
                total, used = total + billed * count, used | {"bill"}
            elif listed is not None:
                total, used = total + listed * count, used | {"price_list"}
            else:
                return None, "unknown"
        return round(total, 6), "+".join(sorted(used)) or "none"


def load_prices(path: Path) -> dict[tuple[str, str], float]:
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise UsageError(f"cannot read the price list {path}: {exc}") from exc
    prices: dict[tuple[str, str], float] = {}
    for number, row in enumerate(rows, start=2):
        try:
            region, instance_type = row["region"].strip(), row["instance_type"].strip()
            usd = float(row["usd_per_hour"])
        except (KeyError, AttributeError, TypeError, ValueError):
            raise UsageError(f"{path}:{number}: needs region, instance_type and a number in usd_per_hour") from None
        if not region or not instance_type or not usd >= 0:
            raise UsageError(f"{path}:{number}: needs region, instance_type and usd_per_hour >= 0")
        prices[(region, instance_type)] = usd
    return prices


def load_bill_rates(database: str) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    """Effective cost per instance-hour of each (resource ARN, instance type), in the latest billing
    period that ARN has usage in (allocation rows carry their share of cost and of hours)."""
    import duckdb

    query = f"""
        with usage as (
            select lower(resource_arn) as arn, instance_type, billing_period, effective_cost, usage_hours
            from {FACT}
            where resource_arn is not null and instance_type is not null and usage_hours > 0
              and charge_category = 'Usage'
        ),
        latest as (select arn, max(billing_period) as billing_period from usage group by arn)
        select arn, instance_type, billing_period, sum(effective_cost) / sum(usage_hours)
        from usage join latest using (arn, billing_period)
        group by arn, instance_type, billing_period
        having sum(usage_hours) > 0
    """
    try:
        with duckdb.connect(database, read_only=True) as con:
            rows = con.execute(query).fetchall()
    except duckdb.Error as exc:
        raise UsageError(f"cannot read billed rates from {database}: {str(exc).splitlines()[0]}") from exc
    rates = {(arn, instance_type): float(rate) for arn, instance_type, _, rate in rows}
    periods = {arn: period for arn, _, period, _ in rows}
    return rates, periods


def load_rates(args: argparse.Namespace) -> Rates:
    prices_path = args.prices or args.project_dir / "seeds" / "sagemaker_instance_prices.csv"
    prices = load_prices(prices_path)
    sources = [f"price list {prices_path} ({len(prices)} rows)"]
    database = args.database
    if database is None:
        database = DEFAULT_DATABASE if Path(DEFAULT_DATABASE).exists() else ""
        if not database:
            sources.insert(0, f"no billed rates ({DEFAULT_DATABASE} not found; --database names another)")
    elif not database:
        sources.insert(0, "no billed rates (--database '')")
    elif not Path(database).exists():
        raise UsageError(f"--database {database}: no such file")
    bill: dict[tuple[str, str], float] = {}
    periods: dict[str, str] = {}
    if database:
        bill, periods = load_bill_rates(database)
        sources.insert(0, f"billed rates {database} ({len({a for a, _ in bill})} resources, latest period each)")
    return Rates(bill, periods, prices, tuple(sources))


def default_min_coverage(project_dir: Path) -> float:
    project_file = project_dir / "dbt_project.yml"
    try:
        project = yaml.safe_load(project_file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read {project_file}: {exc}") from exc
    value = (project.get("vars") or {}).get("tag_coverage_min_percent", DEFAULT_MIN_COVERAGE)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{project_file}: vars.tag_coverage_min_percent must be a number, not {value!r}") from None


# ---------------------------------------------------------------------------------------------
# The audit


@dataclass
class Resource:
    account_id: str
    region: str
    resource_type: str
    name: str
    arn: str | None
    status: str | None
    created_at: datetime | None
    instances: list[tuple[str, int]]
    tags: dict[str, str]
    note: str = ""
    findings: list[Finding] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    usd_per_hour: float | None = None
    rate_source: str = "unknown"

    @property
    def compliant(self) -> bool:
        return not any(f.level == ERROR for f in self.findings)

    @property
    def missing(self) -> list[str]:
        return sorted({f.dimension for f in self.findings if f.level == ERROR and f.dimension})

    def age_hours(self, now: datetime) -> float | None:
        if self.created_at is None:
            return None
        return round((now - self.created_at).total_seconds() / 3600, 2)

    @property
    def instances_text(self) -> str:
        return ", ".join(f"{t} x{c}" for t, c in self.instances)


@dataclass
class Coverage:
    resources: int
    compliant: int
    usd_per_hour: float
    compliant_usd_per_hour: float
    unknown_rate: int

    @property
    def by_count(self) -> float | None:
        return round(100 * self.compliant / self.resources, 2) if self.resources else None

    @property
    def by_dollars(self) -> float | None:
        return round(100 * self.compliant_usd_per_hour / self.usd_per_hour, 2) if self.usd_per_hour > 0 else None


@dataclass
class Audit:
    resources: list[Resource]
    errors: list[dict[str, str]]
    units: int
    api_calls: Counter[str]
    min_coverage: float
    gate: str
    started_at: datetime
    rate_sources: tuple[str, ...] = ()

    @property
    def coverage(self) -> Coverage:
        known = [r for r in self.resources if r.usd_per_hour is not None]
        return Coverage(
            resources=len(self.resources),
            compliant=sum(1 for r in self.resources if r.compliant),
            usd_per_hour=round(sum(r.usd_per_hour or 0.0 for r in known), 6),
            compliant_usd_per_hour=round(sum(r.usd_per_hour or 0.0 for r in known if r.compliant), 6),
            unknown_rate=len(self.resources) - len(known),
        )

    @property
    def below(self) -> list[str]:
        """The coverages (count, dollars) under the gate; an undefined coverage (nothing) is not."""
        coverage = self.coverage
        checked = {"both": ("count", "dollars"), "count": ("count",), "dollars": ("dollars",)}[self.gate]
        values = {"count": coverage.by_count, "dollars": coverage.by_dollars}
        return [name for name in checked if (value := values[name]) is not None and value < self.min_coverage]

    @property
    def exit_code(self) -> int:
        if self.units and len({e["unit"] for e in self.errors}) == self.units:
            return EXIT_NOTHING
        if self.below:
            return EXIT_BELOW
        return EXIT_PARTIAL if self.errors else EXIT_OK

    def ranked(self) -> list[Resource]:
        """Non-compliant first; within each, the highest run rate first (unknown rates last)."""
        return sorted(
            self.resources,
            key=lambda r: (r.compliant, r.usd_per_hour is None, -(r.usd_per_hour or 0.0), r.resource_type, r.name),
        )


def audit(
    options: Any,
    config: TagConfig,
    rates: Rates,
    *,
    resources: Sequence[str] = (),
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    gate: str = "both",
    client_overrides: Any = None,
) -> Audit:
    """Read every live kind in every account and region (``Extraction.collect``) and judge each resource."""
    from smcost.extractor.catalog import LIVE_KINDS
    from smcost.extractor.engine import Extraction

    kinds = [LIVE_KINDS[RESOURCES[r]] for r in resources] if resources else list(LIVE_KINDS.values())
    extraction = Extraction(options, kinds, client_overrides=client_overrides)
    units = extraction.collect()
    calls: Counter[str] = Counter(extraction.calls)
    found: list[Resource] = []
    for unit in units:
        calls.update(unit.calls)
        for row in unit.collected:
            resource = Resource(
                account_id=unit.account_id,
                region=unit.region,
                resource_type=row["resource_type"],
                name=str(row.get("name") or row.get("arn") or "?"),
                arn=row.get("arn"),
                status=row.get("status"),
                created_at=row.get("created_at"),
                instances=list(row.get("instances") or []),
                tags=dict(row.get("tags") or {}),
                note=row.get("note") or "",
            )
            entries = [TagEntry(k, v) for k, v in resource.tags.items()]
            resource.findings = [f for f in check_tags(entries, config) if f.level != NOTE]
            resource.values = config.resolve(resource.tags.items())
            resource.usd_per_hour, resource.rate_source = rates.of(resource)
            found.append(resource)
    errors = [{"unit": u.id, **(u.error or {})} for u in units if u.status == "error"]
    return Audit(found, errors, len(units), calls, min_coverage, gate, extraction.started_at, rates.sources)


# ---------------------------------------------------------------------------------------------
# Reports


def _money(value: float | None) -> str:
    return "?" if value is None else f"{value:,.2f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _age(hours: float | None) -> str:
    if hours is None:
        return "?"
    return f"{hours / 24:.0f}d{hours % 24:.0f}h" if hours >= 48 else f"{hours:.1f}h"


def _blocking(resource: Resource) -> list[Finding]:
    return [f for f in resource.findings if f.level == ERROR]


def _gate_line(result: Audit) -> str:
    what = {"both": "count and $/hour", "count": "count", "dollars": "$/hour"}[result.gate]
    if result.below:
        verdict = f"BELOW ({' and '.join('$/hour' if b == 'dollars' else b for b in result.below)})"
    else:
        verdict = "met"
    return f"gate: --min-coverage {result.min_coverage:g}% by {what}: {verdict}; exit {result.exit_code}"


def render_text(result: Audit) -> str:
    coverage = result.coverage
    now = result.started_at
    accounts = len({r.account_id for r in result.resources} | {e["unit"].split("/")[0] for e in result.errors})
    lines = [
        f"{COMMAND}: {coverage.resources} running resources, {result.units} units "
        f"({len(result.errors)} failed), {sum(result.api_calls.values())} API calls"
        + (f", {accounts} accounts" if accounts > 1 else ""),
        f"  coverage by count   {coverage.compliant}/{coverage.resources} compliant  {_percent(coverage.by_count)}",
        f"  coverage by $/hour  ${_money(coverage.compliant_usd_per_hour)} of ${_money(coverage.usd_per_hour)}/hour"
        f"  {_percent(coverage.by_dollars)}"
        + (f"  ({coverage.unknown_rate} with an unknown rate not counted)" if coverage.unknown_rate else ""),
        f"  {_gate_line(result)}",
        f"  rates: {'; '.join(result.rate_sources)}",
        "",
    ]
    ranked = result.ranked()
    header = ("", "$/hour", "rate", "age", "type", "account/region", "name", "instances")
    table = [header] + [
        (
            "FAIL" if not r.compliant else ("warn" if any(f.level == WARNING for f in r.findings) else "ok"),
            _money(r.usd_per_hour),
            r.rate_source,
            _age(r.age_hours(now)),
            r.resource_type,
            f"{r.account_id}/{r.region}",
            r.name,
            r.instances_text,
        )
        for r in ranked
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for index, row in enumerate(table):
        cells = [
            cell.rjust(w) if i == 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(("  " + "  ".join(cells)).rstrip())
        if index:
            resource = ranked[index - 1]
            lines += [f"        {f.level}: {f.message}" for f in resource.findings]
            lines += [f"        note: {resource.note}"] if resource.note else []
    if not result.resources:
        lines.append("  nothing running")
    for error in result.errors:
        lines.append(
            f"  failed  {error['unit']}: {error.get('code')}: {error.get('message')}"
            + (f" -> {error['hint']}" if error.get("hint") else "")
        )
    return "\n".join(lines) + "\n"


def _resource_json(r: Resource, now: datetime) -> dict[str, Any]:
    return {
        "account_id": r.account_id,
        "region": r.region,
        "resource_type": r.resource_type,
        "name": r.name,
        "arn": r.arn,
        "status": r.status,
        "compliant": r.compliant,
        "missing": r.missing,
        "values": r.values,
        "findings": [{"level": f.level, "dimension": f.dimension, "message": f.message} for f in r.findings],
        "instances": [{"instance_type": t, "count": c} for t, c in r.instances],
        "usd_per_hour": r.usd_per_hour,
        "rate_source": r.rate_source,
        "created_at": r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if r.created_at else None,
        "age_hours": r.age_hours(now),
        "tag_count": len(r.tags),
        "note": r.note,
    }


def render_json(result: Audit) -> str:
    coverage = result.coverage
    payload = {
        "resources": [_resource_json(r, result.started_at) for r in result.ranked()],
        "coverage": {
            "resources": coverage.resources,
            "compliant": coverage.compliant,
            "by_count_percent": coverage.by_count,
            "usd_per_hour": coverage.usd_per_hour,
            "compliant_usd_per_hour": coverage.compliant_usd_per_hour,
            "by_usd_per_hour_percent": coverage.by_dollars,
            "unknown_rate": coverage.unknown_rate,
        },
        "gate": {"min_coverage_percent": result.min_coverage, "applies_to": result.gate, "below": result.below},
        "rate_sources": list(result.rate_sources),
        "errors": result.errors,
        "units": result.units,
        "api_calls": dict(sorted(result.api_calls.items())),
        "api_calls_total": sum(result.api_calls.values()),
        "exit_code": result.exit_code,
    }
    return json.dumps(payload, indent=2) + "\n"


CSV_COLUMNS = (
    "account_id",
    "region",
    "resource_type",
    "name",
    "arn",
    "status",
    "compliant",
    "missing",
    "team",
    "model",
    "experiment",
    "environment",
    "instances",
    "usd_per_hour",
    "rate_source",
    "created_at",
    "age_hours",
    "findings",
    "note",
)


def render_csv(result: Audit) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in result.ranked():
        row = _resource_json(r, result.started_at)
        writer.writerow(
            {
                **{c: row[c] for c in CSV_COLUMNS if c in row and c not in ("missing", "findings", "instances")},
                "missing": ";".join(r.missing),
                **{d: r.values.get(d, "") for d in ("team", "model", "experiment", "environment")},
                "instances": r.instances_text,
                "usd_per_hour": "" if r.usd_per_hour is None else r.usd_per_hour,
                "findings": " | ".join(f"{f.level}: {f.message}" for f in r.findings),
            }
        )
    return out.getvalue()


def render_junit(result: Audit) -> str:
    """One testsuite per account and region, one testcase per resource (non-compliant ones fail with
    their findings; warnings go to system-out); a unit that could not be read is an errored
    testcase; the gate is a suite of its own, failing when coverage is below --min-coverage."""
    coverage = result.coverage
    root = ET.Element("testsuites", name=COMMAND)
    scopes: dict[str, ET.Element] = {}

    def suite(name: str) -> ET.Element:
        if name not in scopes:
            scopes[name] = ET.SubElement(root, "testsuite", name=name)
        return scopes[name]

    for r in result.ranked():
        case = ET.SubElement(
            suite(f"{r.account_id}/{r.region}"),
            "testcase",
            classname=f"{r.account_id}/{r.region}/{r.resource_type}",
            name=r.name,
        )
        blocking = _blocking(r)
        if blocking:
            failure = ET.SubElement(case, "failure", message=blocking[0].message, type="non-compliant")
            failure.text = "\n".join(f"{f.level}: {f.message}" for f in blocking) + (
                f"\nrun rate: ${_money(r.usd_per_hour)}/hour ({r.rate_source}); arn: {r.arn}"
            )
        advisory = [f for f in r.findings if f not in blocking]
        if advisory:
            ET.SubElement(case, "system-out").text = "\n".join(f"{f.level}: {f.message}" for f in advisory)
    for error in result.errors:
        account, region, kind = [*error["unit"].split("/"), "", "", ""][:3]
        case = ET.SubElement(suite(f"{account}/{region}"), "testcase", classname=error["unit"], name=f"read {kind}")
        message = f"{error.get('code')}: {error.get('message')}"
        ET.SubElement(case, "error", message=message, type=error.get("kind") or "error").text = message + (
            f"\n{error['hint']}" if error.get("hint") else ""
        )
    gate = ET.SubElement(root, "testsuite", name="coverage gate")
    for name, value, label in (
        ("count", coverage.by_count, f"coverage by count {_percent(coverage.by_count)}"),
        ("dollars", coverage.by_dollars, f"coverage by $/hour {_percent(coverage.by_dollars)}"),
    ):
        case = ET.SubElement(gate, "testcase", classname="coverage", name=label)
        if name in result.below:
            ET.SubElement(
                case, "failure", message=f"{label} is below --min-coverage {result.min_coverage:g}%", type="coverage"
            ).text = f"{label} is below --min-coverage {result.min_coverage:g}%"
        elif value is None or result.gate not in ("both", name):
            ET.SubElement(case, "skipped", message="not gated" if value is not None else "nothing to measure")
    for element in root:
        cases = element.findall("testcase")
        element.set("tests", str(len(cases)))
        element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        element.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS: dict[str, Callable[[Audit], str]] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "junit": render_junit,
}


# ---------------------------------------------------------------------------------------------
# The command


def run(args: argparse.Namespace, *, client_overrides: Any = None) -> int:
    from smcost.extractor import _configure_logging
    from smcost.extractor.aws import EXPECTED_ERRORS, describe_error, last_call
    from smcost.extractor.options import from_args

    try:
        unknown = sorted(set(args.resources) - set(RESOURCES))
        if unknown:
            raise UsageError(f"unknown resource type(s) {', '.join(unknown)}; choose from {', '.join(RESOURCES)}")
        config = load_tag_config(args.project_dir)
        min_coverage = args.min_coverage if args.min_coverage is not None else default_min_coverage(args.project_dir)
        if not 0 <= min_coverage <= 100:
            raise UsageError(f"--min-coverage must be a percentage from 0 to 100, not {min_coverage:g}")
        rates = load_rates(args)
    except (UsageError, ConfigError) as exc:
        print(f"{COMMAND}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        options = from_args(args, COMMAND)
    except SystemExit as exc:  # from_args's usage errors (already printed)
        return int(exc.code or EXIT_USAGE)
    options.role_session_name = "smcost-audit"
    _configure_logging(args.verbose)
    try:
        result = audit(
            options,
            config,
            rates,
            resources=args.resources,
            min_coverage=min_coverage,
            gate=args.gate,
            client_overrides=client_overrides,
        )
    except SystemExit as exc:  # no region
        return int(exc.code or EXIT_USAGE)
    except EXPECTED_ERRORS as exc:  # before any unit: no credentials, STS unreachable
        error = describe_error(exc, last_call())
        print(
            f"{COMMAND}: {error['code']}: {error['message']}" + (f" -> {error['hint']}" if error.get("hint") else ""),
            file=sys.stderr,
        )
        return EXIT_ERROR
    report = RENDERERS[args.format](result)
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    if args.format != "text" or args.output:
        coverage = result.coverage
        print(
            f"{COMMAND}: {coverage.resources} resources, coverage {_percent(coverage.by_count)} by count, "
            f"{_percent(coverage.by_dollars)} by $/hour; {_gate_line(result)}"
            + (f"; {len(result.errors)} failed units" if result.errors else ""),
            file=sys.stderr,
        )
    return result.exit_code
