"""Resource kinds as declarations, and the two generic readers most of them use.

A kind is one landed dataset: which calls read it (``fetch``), how its rows live across runs
(``history``), and which other kinds it needs first (``needs``). Most kinds are a ``search(...)``
or ``listing(...)`` call with a column map (output column -> dotted path into the API record, or
a function of the record); the few that are not (endpoint history, CloudWatch, S3, ECR) are small
functions with the same signature. The engine does the rest: threads, retries, counting, errors,
spilling, merging with the previous partition, writing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from botocore.exceptions import ClientError

from smcost.extractor.aws import is_not_found
from smcost.schemas import DATASETS

if TYPE_CHECKING:
    from smcost.extractor.engine import UnitContext

Row = dict[str, Any]
Fetch = Callable[["UnitContext"], Iterable[Row]]
Columns = dict[str, "str | Callable[[dict], Any]"]
RefHook = Callable[["UnitContext", Row], None]

# How a dataset's rows live across runs (see docs/extract.md, "What a partition holds").
SNAPSHOT = "snapshot"        # every run lists everything; vanished rows are kept (status 'Deleted')
INCREMENTAL = "incremental"  # every run reads what changed since the last run; other rows kept
WINDOW = "window"            # time series: a run lands the hours it read; rows are not carried over


@dataclass(frozen=True)
class Kind:
    dataset: str
    fetch: Fetch
    reads: str  # the API calls, for --dry-run and the docs
    history: str = SNAPSHOT
    status_column: str | None = None  # set to 'Deleted' on rows a complete listing no longer returns
    drop_vanished: bool = False  # ... or drop those rows (log groups: deleted bytes cost nothing)
    needs: tuple[str, ...] = ()
    # A kind whose needs failed is not run (its watermark must not move past data it never saw),
    # unless partial references are harmless: the failed kinds publish them again on the next run.
    strict_needs: bool = True
    service: str = "sagemaker"

    @property
    def schema(self) -> pa.Schema:
        return DATASETS[self.dataset].schema

    @property
    def key(self) -> tuple[str, ...]:
        return DATASETS[self.dataset].key


# --------------------------------------------------------------------------------------------
# Turning API records into rows
# --------------------------------------------------------------------------------------------

def utc(value: Any) -> datetime | None:
    """A botocore timestamp (aware) or epoch milliseconds -> naive UTC, as the schemas store it."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).replace(tzinfo=None)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def dig(record: Any, path: str) -> Any:
    """``dig(r, "ResourceConfig.InstanceType")``; numeric parts index lists; missing -> None."""
    for part in path.split("."):
        if record is None:
            return None
        if isinstance(record, list):
            record = record[int(part)] if part.isdigit() and int(part) < len(record) else None
        else:
            record = record.get(part)
    return record


def tag_map(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def project(record: dict, columns: Columns) -> Row:
    row: Row = {}
    for name, source in columns.items():
        value = source(record) if callable(source) else dig(record, source)
        row[name] = utc(value) if isinstance(value, datetime) else value
    if "Tags" in record:
        row["tags"] = tag_map(record["Tags"])
    return row


# --------------------------------------------------------------------------------------------
# Generic readers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refs:
    """What a kind hands to the kinds that need it (images, S3 artifacts, metric dimensions).

    ``fresh`` runs on rows read in this run; ``known`` also on rows kept from the previous
    partition (for references that must be complete, e.g. every multi-model prefix).
    """

    fresh: RefHook | None = None
    known: RefHook | None = None
    known_columns: tuple[str, ...] = ()


def _publish(ctx: UnitContext, refs: Refs | None, row: Row) -> None:
    if refs is None:
        return
    if refs.fresh:
        refs.fresh(ctx, row)
    if refs.known:
        refs.known(ctx, row)


def _publish_known(ctx: UnitContext, refs: Refs | None) -> None:
    if refs is not None and refs.known:
        for row in ctx.previous(refs.known_columns):
            refs.known(ctx, row)


def search(
    resource: str,
    result_key: str,
    columns: Columns,
    *,
    explode: Callable[[dict], list[dict]] | None = None,
    refs: Refs | None = None,
) -> Fetch:
    """``Search(Resource=...)``: full records with their tags, 100 a page: no per-item calls.

    Sorted by LastModifiedTime, newest first: an incremental run stops at the first page that
    reaches back past ``since``, so a nightly run costs the pages of what changed, plus at most one.
    """

    def fetch(ctx: UnitContext) -> Iterator[Row]:
        params = {"Resource": resource, "SortBy": "LastModifiedTime", "SortOrder": "Descending", "MaxResults": 100}
        for page in ctx.pages("search", "Results", **params):
            reached_since = False
            for result in page:
                record = result.get(result_key) or {}
                modified = utc(record.get("LastModifiedTime"))
                if ctx.since is not None and modified is not None and modified < ctx.since:
                    reached_since = True
                    continue
                for item in explode(record) if explode else [record]:
                    row = project(item, columns)
                    _publish(ctx, refs, row)
                    yield row
            if reached_since:
                break

    return fetch


@dataclass(frozen=True)
class Describe:
    operation: str
    params: Callable[[dict], dict]


def listing(
    operation: str,
    items_key: str,
    columns: Columns,
    *,
    describe: Describe | None = None,
    arn: str | None = None,
    incremental: bool = False,
    immutable: tuple[Callable[[dict], tuple], tuple[str, ...]] | None = None,
    explode: Callable[[dict], list[dict]] | None = None,
    refs: Refs | None = None,
    params: dict | None = None,
) -> Fetch:
    """``List*`` pages of 100, then ``Describe*`` (if the summary lacks fields) and ``ListTags``.

    ``incremental`` filters on LastModifiedTime both server-side and on the summaries (so an API or
    emulator that ignores the filter still reads only what changed). ``immutable`` = (key of a
    summary, the same key's columns): resources that cannot change (models, endpoint configs) are
    described once, the first run that sees them; later runs keep their rows.
    """

    def fetch(ctx: UnitContext) -> Iterator[Row]:
        call_params = {"MaxResults": 100, **(params or {})}
        if incremental and ctx.since is not None:
            call_params["LastModifiedTimeAfter"] = ctx.since
        known: set[tuple] = set()
        if immutable is not None and not ctx.options.full:
            summary_key, key_columns = immutable
            known = {tuple(r[c] for c in key_columns) for r in ctx.previous(key_columns)}
        _publish_known(ctx, refs)
        for summary in ctx.items(operation, items_key, **call_params):
            modified = utc(summary.get("LastModifiedTime"))
            if incremental and ctx.since is not None and modified is not None and modified < ctx.since:
                continue
            if immutable is not None and immutable[0](summary) in known:
                continue
            record = dict(summary)
            try:
                if describe is not None:
                    record.update(ctx.call(describe.operation, **describe.params(summary)))
                if arn is not None:
                    record["Tags"] = ctx.tags(record[arn])
            except ClientError as exc:
                if is_not_found(exc):  # deleted since the listing: its previous row is kept
                    continue
                raise
            for item in explode(record) if explode else [record]:
                row = project(item, columns)
                _publish(ctx, refs, row)
                yield row

    return fetch


def with_item(record: dict, key: str, default: list | None = None) -> list[dict]:
    """Explode a record into one per element of ``record[key]`` (the element under ``_item``)."""
    items = record.get(key) or default or [None]
    return [{**record, "_item": item or {}} for item in items]


def first_container(record: dict, field_name: str) -> Any:
    """A model's PrimaryContainer field, else its first container's."""
    primary = record.get("PrimaryContainer")
    if primary:
        return primary.get(field_name)
    return dig(record, f"Containers.0.{field_name}")


@dataclass
class RefSet:
    """References published by the units of one (account, region), read by the kinds after them."""

    values: dict[str, set] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        if value is not None:
            self.values.setdefault(name, set()).add(value)

    def update(self, other: RefSet) -> None:
        for name, values in other.values.items():
            self.values.setdefault(name, set()).update(values)

    def get(self, name: str) -> set:
        return self.values.get(name, set())
