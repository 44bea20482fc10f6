"""Command-line options of `smcost extract`, and the run options they become."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone

from smcost import lake


@dataclass
class Options:
    out: str = lake.DEFAULT_LAKE_ROOT
    regions: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    role_arn_template: str | None = None
    external_id: str | None = None
    role_session_name: str = "smcost-extract"
    datasets: list[str] = field(default_factory=list)
    extract_date: date | None = None
    since: datetime | None = None
    until: datetime | None = None
    backfill_days: int = 14
    overlap_hours: float = 6.0
    full: bool = False
    workers: int = 8
    max_pages: int = 10_000
    max_attempts: int = 10
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retry_seconds: float = 300.0
    mme_metric_namespace: str | None = None
    mme_metric_name: str = "Invocations"
    # Candidate names of the metric's model dimension, in order of preference (multi_model.py).
    mme_model_dimensions: list[str] = field(default_factory=lambda: ["TargetModel"])
    dry_run: bool = False
    progress: bool | None = None  # None: a bar when stderr is a terminal
    command: str = "smcost extract"  # the command the run is part of (messages, the progress bar)


def usage_error(message: str, command: str = "smcost extract") -> SystemExit:
    """Exit status 2, as argparse uses for bad arguments: ``raise usage_error("...")``."""
    print(f"{command}: error: {message}", file=sys.stderr)
    return SystemExit(2)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _where(parser.add_argument_group("where"))
    _what(parser.add_argument_group("what"))
    _mme(parser.add_argument_group("multi-model endpoints (per-model invocations)"))
    _how(parser.add_argument_group("how"))


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a read that lands nothing (``smcost audit``): accounts, regions, roles, bounds."""
    _scope(parser.add_argument_group("where"))
    how = parser.add_argument_group("how")
    _limits(how)
    _output(how)


def _where(where: argparse._ArgumentGroup) -> None:
    """Which accounts and regions, and where the lake is."""
    where.add_argument(
        "--out",
        default=os.environ.get("SMCOST_LAKE_ROOT", lake.DEFAULT_LAKE_ROOT),
        help="lake root: a folder or s3://bucket/prefix (default: $SMCOST_LAKE_ROOT or data/lake)",
    )
    _scope(where)


def _scope(where: argparse._ArgumentGroup) -> None:
    where.add_argument(
        "--regions",
        type=_csv,
        default=[],
        help="comma-separated regions (default: the session's region, e.g. AWS_REGION)",
    )
    where.add_argument(
        "--accounts",
        type=_csv,
        default=[],
        help="comma-separated member accounts to assume a role in (default: the caller's account)",
    )
    where.add_argument("--role-name", help="role to assume in each of --accounts, e.g. smcost-extract")
    where.add_argument(
        "--role-arn-template",
        help="role ARN with {account_id}, for other partitions or paths "
        "(e.g. arn:aws-cn:iam::{account_id}:role/ops/smcost)",
    )
    where.add_argument("--external-id", help="ExternalId the member roles' trust policy requires")


def _what(what: argparse._ArgumentGroup) -> None:
    """Which datasets, and which window of time."""
    what.add_argument(
        "--datasets",
        type=_csv,
        default=[],
        help="comma-separated datasets (default: all); the kinds they need are added",
    )
    what.add_argument(
        "--extract-date",
        type=date.fromisoformat,
        help="partition to write, YYYY-MM-DD (default: today, UTC); a rerun replaces it",
    )
    what.add_argument(
        "--since",
        type=_utc,
        help="read changes and metric hours from this UTC time instead of the last run's watermark",
    )
    what.add_argument(
        "--until", type=_utc, help="end of the metrics window, UTC (default: the start of the current hour)"
    )
    what.add_argument(
        "--backfill-days",
        type=int,
        default=14,
        help="metrics window of a first run (default 14; CloudWatch keeps hourly data 455 days)",
    )
    what.add_argument(
        "--overlap-hours",
        type=float,
        default=6.0,
        help="re-read this much before each watermark, for late data and index lag (default 6)",
    )
    what.add_argument(
        "--full", action="store_true", help="ignore watermarks: re-read every job, model, config, artifact and image"
    )


def _mme(mme: argparse._ArgumentGroup) -> None:
    """Per-model invocations of multi-model endpoints (docs/extract.md)."""
    mme.add_argument(
        "--mme-metric-namespace", help="CloudWatch namespace of your per-target-model custom metric (default: not read)"
    )
    mme.add_argument("--mme-metric-name", default="Invocations", help="its metric name (default Invocations)")
    mme.add_argument(
        "--mme-model-dimensions",
        "--mme-model-dimension",
        type=_csv,
        default=["TargetModel"],
        help="comma-separated candidate names of its model dimension, alongside EndpointName; per endpoint "
        "the first one ListMetrics finds is read (default TargetModel)",
    )


def _how(how: argparse._ArgumentGroup) -> None:
    """Parallelism, time bounds, output."""
    _limits(how)
    how.add_argument("--dry-run", action="store_true", help="print the plan; call and write nothing")
    _output(how)


def _limits(how: argparse._ArgumentGroup) -> None:
    how.add_argument(
        "--workers", type=int, default=8, help="units (account x region x dataset) run in parallel (default 8)"
    )
    how.add_argument(
        "--max-attempts",
        type=int,
        default=10,
        help="attempts per API call, the first included; adaptive retry mode (default 10)",
    )
    how.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for a connection to an AWS endpoint (default 10)",
    )
    how.add_argument(
        "--read-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for an answer on an open connection (default 60)",
    )
    how.add_argument(
        "--max-retry-seconds",
        type=float,
        default=300.0,
        help="seconds one API call may take, retries included, before its unit fails (default 300)",
    )
    how.add_argument(
        "--max-pages",
        type=int,
        default=10_000,
        help="pages any one listing may return before its unit fails (default 10000)",
    )


def _output(how: argparse._ArgumentGroup) -> None:
    how.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal; plain logs otherwise)",
    )
    how.add_argument("-v", "--verbose", action="store_true", help="log every unit and API error")


def from_args(args: argparse.Namespace, command: str = "smcost extract") -> Options:
    """The run options; flags a command does not have (``add_access_arguments``) keep their defaults."""
    template = args.role_arn_template
    if template is None and args.role_name:
        template = "arn:aws:iam::{account_id}:role/" + args.role_name
    if args.accounts and template is None:
        raise usage_error("--accounts needs --role-name or --role-arn-template", command)
    if template is not None and "{account_id}" not in template:
        raise usage_error("--role-arn-template must contain {account_id}", command)
    if args.workers < 1 or args.max_attempts < 1 or args.max_pages < 1:
        raise usage_error("--workers, --max-attempts and --max-pages must be at least 1", command)
    for flag, seconds in (
        ("--connect-timeout", args.connect_timeout),
        ("--read-timeout", args.read_timeout),
        ("--max-retry-seconds", args.max_retry_seconds),
    ):
        if not seconds > 0 or seconds == float("inf"):  # also rejects nan: it would disable the bound
            raise usage_error(f"{flag} must be a positive number of seconds, not {seconds:g}", command)
    if "mme_model_dimensions" in vars(args) and not args.mme_model_dimensions:
        raise usage_error("--mme-model-dimensions needs at least one dimension name", command)
    given = vars(args)
    flags = {f.name: given[f.name] for f in fields(Options) if f.name in given}
    return Options(**{**flags, "role_arn_template": template, "command": command})
