"""Resource kinds as declarations: what a reader may use (``UnitContext``) and the readers.

A kind is one landed dataset: its reader (which calls read it), how its rows live across runs
(``history``) and which other kinds it needs first (``needs``). Most kinds read with ``Search`` or
``Listing``: the columns come from the dataset's schema (the API path of each column,
``_field(..., api=...)`` in schemas.py) plus the few a kind computes. The few datasets no single
call returns (endpoint history, CloudWatch, S3, ECR) read with ``Custom``: a function, with the
calls it makes declared beside it.

Everything else about a kind is derived from the declaration, the way Cloud Custodian derives a
resource type's permissions from its ``enum_spec``: the IAM actions (``Kind.actions``, which
extract/iam-policy.json is tested against), the ``--dry-run`` plan and docs/extract.md's table
(``Kind.reads``, ``Kind.across_runs``). The engine does the rest: threads, retries, counting,
errors, spilling, merging with the previous partition, writing. It is handed its kinds and never
imports this package's declaration modules; they, in turn, see the engine only as a
``UnitContext``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import pyarrow as pa
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from smcost.extractor.aws import iam_action, is_not_found
from smcost.extractor.options import Options
from smcost.schemas import DATASETS

Row = dict[str, Any]  # a landed row: column -> value
Record = dict[str, Any]  # an API record, as botocore returns it
Computed = Callable[[Record], Any]
ColumnMap = Mapping[str, "str | Computed"]  # column -> dotted path into the record, or a function of it
RefHook = Callable[["UnitContext", Row], None]

# How a dataset's rows live across runs (see docs/extract.md, "What a partition holds").
SNAPSHOT = "snapshot"  # every run lists everything; vanished rows are kept (status 'Deleted')
INCREMENTAL = "incremental"  # every run reads what changed since the last run; other rows kept
WINDOW = "window"  # time series: a run lands the hours it read; rows are not carried over


class UnitContext(Protocol):
    """What a reader may use while it reads one unit (account, region, dataset).

    The engine implements it; readers depend on this interface only, so the declaration modules
    and the engine never import each other.
    """

    account_id: str
    region: str
    options: Options
    since: datetime | None  # incremental kinds: read what changed from here (None: everything)
    until: datetime  # when this run extracts (rows it changes carry it as extracted_at)
    # The metrics window, hours [start, end): a time-series (WINDOW) kind's own, from its watermark;
    # for the other kinds the account and region's, covering every time-series kind's.
    window: tuple[datetime, datetime]

    @property
    def partition(self) -> str:
        """``aws``, ``aws-cn`` or ``aws-us-gov``, for ARNs the APIs do not return."""
        ...

    def client(self, service: str | None = None) -> BaseClient: ...

    def call(self, operation: str, *, service: str | None = None, **params: Any) -> Record: ...

    def pages(
        self,
        operation: str,
        items_key: str,
        *,
        service: str | None = None,
        token: tuple[str, str] = ("NextToken", "NextToken"),
        **params: Any,
    ) -> Iterator[list[Record]]: ...

    def items(self, operation: str, items_key: str, **params: Any) -> Iterator[Record]: ...

    def tags(self, arn: str) -> list[Record]:
        """ListTags, as the API returns them ([{Key, Value}])."""
        ...

    def previous(self, columns: tuple[str, ...] | None = None) -> list[Row]:
        """This account and region's rows in the dataset's previous partition."""
        ...

    def publish(self, name: str, value: Any) -> None:
        """Hand a reference (an image, an artifact, a metric dimension) to the kinds that need this one."""
        ...

    def upstream(self, name: str) -> set[Any]:
        """The references the kinds this one needs published in this account and region."""
        ...

    def gone(self, key: tuple[Any, ...]) -> None:
        """A row the previous partition holds is known to be gone: do not keep it.

        ``key`` is the dataset's key, or the kind's ``replaces`` columns: every row sharing them.
        """
        ...

    def warn(self, message: str) -> None: ...


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
    result: datetime = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return result


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


def tag_map(tags: list[Record] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def project(record: Record, columns: ColumnMap) -> Row:
    row: Row = {}
    for name, source in columns.items():
        value = source(record) if callable(source) else dig(record, source)
        row[name] = utc(value) if isinstance(value, datetime) else value
    if "Tags" in record:
        row["tags"] = tag_map(record["Tags"])
    return row


_ITEM = "_item"  # where an exploded record keeps its list element
BUILT_ARN = "_arn"  # where a Listing keeps the ARN it built for ListTags (``Listing.arn`` a function)


def with_item(record: Record, key: str) -> list[Record]:
    """Explode a record into one per element of ``record[key]`` (the element under ``_item``)."""
    items = record.get(key) or [None]
    return [{**record, _ITEM: item or {}} for item in items]


def first_container(record: Record, field_name: str) -> Any:
    """A model's PrimaryContainer field, else its first container's."""
    primary = record.get("PrimaryContainer")
    if primary:
        return primary.get(field_name)
    return dig(record, f"Containers.0.{field_name}")


def api_name(method: str) -> str:
    """``list_objects_v2`` -> ``ListObjectsV2``: the API operation behind a boto3 method."""
    return "".join(part.title() for part in method.split("_"))


# --------------------------------------------------------------------------------------------
# Readers
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

    def publish(self, ctx: UnitContext, row: Row) -> None:
        if self.fresh:
            self.fresh(ctx, row)
        if self.known:
            self.known(ctx, row)

    def publish_known(self, ctx: UnitContext) -> None:
        if self.known:
            for row in ctx.previous(self.known_columns):
                self.known(ctx, row)


class Reader(Protocol):
    """How a kind reads its rows: a ``Search``, a ``Listing`` or a ``Custom`` function."""

    @property
    def calls(self) -> tuple[str, ...]:
        """The boto3 calls it makes, as ``service:method``."""
        ...

    @property
    def reads(self) -> str:
        """One line for --dry-run and docs/extract.md: which calls, how many, over what."""
        ...

    def column_map(self, api_columns: Mapping[str, str]) -> dict[str, str | Computed]:
        """The dataset's column map: its schema's API paths plus what this reader computes."""
        ...

    def rows(self, ctx: UnitContext, columns: ColumnMap) -> Iterable[Row]: ...


@dataclass(frozen=True, eq=False, kw_only=True)
class _Projected:
    """A reader whose rows are projections of API records: plain columns plus computed ones.

    ``explode`` lands one row per element of that list in each record; the schema names an
    element's fields ``<list>[].<field>`` (e.g. ``ProductionVariants[].VariantName``).
    """

    computed: Mapping[str, Computed] = field(default_factory=dict)
    explode: str | None = None
    refs: Refs | None = None

    def column_map(self, api_columns: Mapping[str, str]) -> dict[str, str | Computed]:
        element = f"{self.explode}[]." if self.explode else None
        plain: dict[str, str | Computed] = {
            name: f"{_ITEM}.{path[len(element) :]}" if element and path.startswith(element) else path
            for name, path in api_columns.items()
        }
        return {**plain, **self.computed}

    def _project(self, ctx: UnitContext, record: Record, columns: ColumnMap) -> Iterator[Row]:
        for item in with_item(record, self.explode) if self.explode else [record]:
            row = project(item, columns)
            if self.refs is not None:
                self.refs.publish(ctx, row)
            yield row


@dataclass(frozen=True)
class Detail:
    """A ``Describe*`` call for the Search records that need fields Search's shape lacks.

    Only records read in this run (Search is incremental: new or changed ones) that are ``wanted``
    are described, and not those whose previous row was ``settled`` (what the call returns can no
    longer change): their ``carry`` columns are taken from that row. So a resource is described
    while it can change and once after, never again; ``--full`` describes every wanted record read.
    """

    describe: Describe
    key: tuple[str, str]  # (column, record path) identifying the resource, e.g. the ARN
    carry: tuple[str, ...]  # the columns the call fills
    settled: Callable[[Row], bool]  # a previous row whose described columns can no longer change
    settled_columns: tuple[str, ...] = ()  # what ``settled`` reads
    wanted: Callable[[Record], bool] | None = None  # the records worth the call (None: every one)

    def previous(self, ctx: UnitContext) -> dict[Any, Row]:
        if ctx.options.full:
            return {}
        column = self.key[0]
        rows = ctx.previous((column, *self.carry, *self.settled_columns))
        return {r[column]: r for r in rows if self.settled(r)}

    def fill(self, ctx: UnitContext, record: Record, settled: Mapping[Any, Row]) -> Row | None:
        """Describe ``record`` in place, or return the settled row to carry its columns from."""
        known = settled.get(dig(record, self.key[1]))
        if known is not None:
            return known
        if self.wanted is not None and not self.wanted(record):
            return None
        try:
            described = ctx.call(self.describe.operation, **self.describe.params(record))
        except ClientError as exc:
            if is_not_found(exc):  # deleted since the search: Search's fields are all there is
                return None
            raise
        record.update({k: v for k, v in described.items() if k not in record})
        return None


@dataclass(frozen=True, eq=False)
class Search(_Projected):
    """``Search(Resource=...)``: full records with their tags, 100 a page: no per-item calls.

    Sorted by LastModifiedTime, newest first: an incremental run stops at the first page that
    reaches back past ``since``, so a nightly run costs the pages of what changed, plus at most one.
    ``where`` (property -> value) narrows the search server-side with ``Equals`` filters, and the
    records are checked against it too (so an API or emulator that ignores a filter reads no more).
    """

    resource: str  # Search(Resource=...), e.g. "TrainingJob"
    result_key: str  # each result's record, e.g. "TrainingJob"
    where: Mapping[str, str] = field(default_factory=dict)  # e.g. {"TrainingJobStatus": "InProgress"}
    detail: Detail | None = None

    @property
    def calls(self) -> tuple[str, ...]:
        return ("sagemaker:search", *([f"sagemaker:{self.detail.describe.operation}"] if self.detail else []))

    @property
    def reads(self) -> str:
        if self.where:
            where = " and ".join(f"{k} = {v}" for k, v in self.where.items())
            return f"Search({self.resource}, {where}): 100 records with their tags a page"
        text = f"Search({self.resource}): 100 records with their tags a page, newest first, down to the watermark"
        if self.detail:
            text += f"; {api_name(self.detail.describe.operation)} for the ones that need it, until they settle"
        return text

    def rows(self, ctx: UnitContext, columns: ColumnMap) -> Iterator[Row]:
        params: Record = {
            "Resource": self.resource,
            "SortBy": "LastModifiedTime",
            "SortOrder": "Descending",
            "MaxResults": 100,
        }
        if self.where:
            params["SearchExpression"] = {
                "Filters": [{"Name": k, "Operator": "Equals", "Value": v} for k, v in self.where.items()]
            }
        settled = self.detail.previous(ctx) if self.detail else {}
        for page in ctx.pages("search", "Results", **params):
            reached_since = False
            for result in page:
                record = result.get(self.result_key) or {}
                if any(dig(record, k) != v for k, v in self.where.items()):
                    continue
                modified = utc(record.get("LastModifiedTime"))
                if ctx.since is not None and modified is not None and modified < ctx.since:
                    reached_since = True
                    continue
                if self.detail is None:
                    yield from self._project(ctx, record, columns)
                    continue
                record = dict(record)
                known = self.detail.fill(ctx, record, settled)
                for row in self._project(ctx, record, columns):
                    yield {**row, **{c: known[c] for c in self.detail.carry}} if known is not None else row
            if reached_since:
                break


@dataclass(frozen=True)
class Describe:
    """The ``Describe*`` call for one summary, with the summary fields that name the resource."""

    operation: str  # boto3 method, e.g. "describe_model"
    keys: tuple[str, ...]  # summary fields passed as they are (those a summary lacks are left out)

    def params(self, summary: Record) -> Record:
        return {k: summary[k] for k in self.keys if summary.get(k)}


@dataclass(frozen=True, eq=False)
class Listing(_Projected):
    """``List*`` pages of 100, then ``Describe*`` (if the summary lacks fields) and ``ListTags``.

    ``incremental`` filters on LastModifiedTime both server-side and on the summaries (so an API or
    emulator that ignores the filter still reads only what changed). ``immutable`` names the key
    columns of resources that cannot change (models, endpoint configs): read from each summary by
    their API paths, they are described once, the first run that sees them; later runs keep their rows.
    ``params`` are passed to every List call (``StatusEquals``); ``keep`` drops summaries before
    any per-item call (for filters a List call does not take).
    """

    operation: str  # boto3 method, e.g. "list_models"
    items_key: str  # the page's list of summaries, e.g. "Models"
    describe: Describe | None = None
    # The record field to ListTags on, or a function building the ARN an API does not return
    # (None: no tags).
    arn: str | Callable[[UnitContext, Record], str] | None = None
    incremental: bool = False
    immutable: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    keep: Callable[[Record], bool] | None = None

    @property
    def calls(self) -> tuple[str, ...]:
        return (
            f"sagemaker:{self.operation}",
            *([f"sagemaker:{self.describe.operation}"] if self.describe else []),
            *(["sagemaker:list_tags"] if self.arn else []),
        )

    @property
    def reads(self) -> str:
        listing = api_name(self.operation) + (" (LastModifiedTimeAfter)" if self.incremental else "")
        if self.params:
            listing += f" ({', '.join(f'{k}={v}' for k, v in self.params.items())})"
        per_item = [api_name(self.describe.operation)] if self.describe else []
        per_item += ["ListTags"] if self.arn else []
        if self.immutable:
            return f"{listing}; {' + '.join(per_item)} only for ones not seen before (they cannot change)"
        return " + ".join([listing, *per_item])

    def rows(self, ctx: UnitContext, columns: ColumnMap) -> Iterator[Row]:
        call_params: Record = {"MaxResults": 100, **self.params}
        if self.incremental and ctx.since is not None:
            call_params["LastModifiedTimeAfter"] = ctx.since
        known: set[tuple[Any, ...]] = set()
        if self.immutable and not ctx.options.full:
            known = {tuple(r[c] for c in self.immutable) for r in ctx.previous(self.immutable)}
        if self.refs is not None:
            self.refs.publish_known(ctx)
        for summary in ctx.items(self.operation, self.items_key, **call_params):
            modified = utc(summary.get("LastModifiedTime"))
            if self.incremental and ctx.since is not None and modified is not None and modified < ctx.since:
                continue
            if self.immutable and self._key(summary, columns) in known:
                continue
            if self.keep is not None and not self.keep(summary):
                continue
            record = dict(summary)
            try:
                if self.describe is not None:
                    record.update(ctx.call(self.describe.operation, **self.describe.params(summary)))
                if callable(self.arn):
                    record[BUILT_ARN] = self.arn(ctx, record)
                    record["Tags"] = ctx.tags(record[BUILT_ARN])
                elif self.arn is not None:
                    record["Tags"] = ctx.tags(record[self.arn])
            except ClientError as exc:
                if is_not_found(exc):  # deleted since the listing: its previous row is kept
                    continue
                raise
            yield from self._project(ctx, record, columns)

    def _key(self, summary: Record, columns: ColumnMap) -> tuple[Any, ...]:
        """The ``immutable`` key of a summary, as the landed columns hold it."""
        return tuple(project(summary, {c: columns[c] for c in self.immutable})[c] for c in self.immutable)


@dataclass(frozen=True, eq=False)
class Custom:
    """A reader written as a function, for a dataset no single call returns; every column is its own.

    ``calls`` are the boto3 calls it makes (``service:method``) and ``reads`` says how, in one line:
    the function cannot say either itself. The policy test holds ``calls`` to what it really calls.
    """

    read: Callable[[UnitContext], Iterable[Row]]
    calls: tuple[str, ...]
    reads: str

    def column_map(self, api_columns: Mapping[str, str]) -> dict[str, str | Computed]:
        return {}

    def rows(self, ctx: UnitContext, columns: ColumnMap) -> Iterable[Row]:
        return self.read(ctx)


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    dataset: str
    reader: Reader
    history: str = SNAPSHOT
    status_column: str | None = None  # set to 'Deleted' on rows a complete listing no longer returns
    drop_vanished: bool = False  # ... or drop those rows (log groups: deleted bytes cost nothing)
    # Key columns naming what one read re-reads whole (an S3 prefix: its rows per storage class and
    # day): a unit's rows, and its ``gone`` keys, replace every previous row sharing them, so rows
    # of a storage class or day no longer there do not linger. Empty: rows replace rows by the key.
    replaces: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    # A kind whose needs failed is not run (its watermark must not move past data it never saw),
    # unless partial references are harmless: the failed kinds publish them again on the next run.
    strict_needs: bool = True
    service: str = "sagemaker"
    # A kind that is never landed (``Extraction.collect``, ``smcost audit``) has no schema in
    # schemas.py: its columns' API paths are declared here instead.
    api_columns: Mapping[str, str] | None = None

    @property
    def schema(self) -> pa.Schema:
        return DATASETS[self.dataset].schema

    @property
    def key(self) -> tuple[str, ...]:
        return DATASETS[self.dataset].key

    @property
    def replaced_by(self) -> tuple[str, ...]:
        """The key columns whose values, once read, replace the previous rows holding them."""
        return self.replaces or self.key

    @property
    def columns(self) -> dict[str, str | Computed]:
        """Column -> API path or function, for kinds that project API records (empty for Custom)."""
        api_columns = self.api_columns if self.api_columns is not None else DATASETS[self.dataset].api_columns
        return self.reader.column_map(api_columns)

    def fetch(self, ctx: UnitContext) -> Iterable[Row]:
        return self.reader.rows(ctx, self.columns)

    @property
    def reads(self) -> str:
        return self.reader.reads

    @property
    def operations(self) -> tuple[str, ...]:
        """The API operations it calls, as the manifest counts them (``sagemaker:ListModels``)."""
        return tuple(
            f"{service}:{api_name(method)}" for service, _, method in (c.partition(":") for c in self.reader.calls)
        )

    @property
    def actions(self) -> tuple[str, ...]:
        """The IAM actions those operations need (``s3:ListObjectsV2`` needs ``s3:ListBucket``)."""
        return tuple(sorted({iam_action(operation) for operation in self.operations}))

    @property
    def across_runs(self) -> str:
        """How the dataset's rows live across runs, in words (docs/extract.md)."""
        if self.history == INCREMENTAL:
            return "incremental: what changed since the watermark; other rows kept"
        if self.history == WINDOW:
            return "time window: the hours this run read"
        if self.status_column:
            return f"snapshot; vanished ones kept, `{self.status_column}` = `Deleted`"
        if self.drop_vanished:
            return "snapshot; vanished ones dropped"
        if self.replaces:
            what = ", ".join(f"`{c}`" for c in self.replaces)
            what = f"({what})" if len(self.replaces) > 1 else what
            return f"snapshot; each {what} read again replaces all its rows; others kept"
        return "snapshot; rows not read again are kept"


@dataclass
class RefSet:
    """References published by the units of one (account, region), read by the kinds after them."""

    values: dict[str, set[Any]] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        if value is not None:
            self.values.setdefault(name, set()).add(value)

    def update(self, other: RefSet) -> None:
        for name, values in other.values.items():
            self.values.setdefault(name, set()).update(values)

    def get(self, name: str) -> set[Any]:
        return self.values.get(name, set())
