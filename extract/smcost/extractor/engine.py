"""The engine: plan units, run them on a bounded pool, land what succeeded, write the manifest.

The engine is handed its kinds (``catalog.resolve`` in ``smcost.extractor.run``, or whatever a
test needs) and gives each unit's reader a ``Context``, its ``kinds.UnitContext``.

A unit is one (account, region, dataset). Units are independent: a unit that fails (access
denied, throttled past every retry, endpoint unreachable, or a bug) is recorded with its error and
the others carry on. A unit's rows spill to a local Parquet file as they are read (memory holds one
batch), and reach the lake only if the unit succeeded. Landing a dataset merges those rows with
the dataset's previous partition (rows of failed units are kept as they were) and replaces today's
partition atomically. The manifest, with the watermarks the next run starts from, is written last.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from botocore.client import BaseClient
from tqdm import tqdm

from smcost import lake
from smcost.extractor import aws
from smcost.extractor.kinds import INCREMENTAL, SNAPSHOT, WINDOW, Kind, Record, RefSet, Row
from smcost.extractor.options import Options, usage_error
from smcost.extractor.state import LakeState

log = logging.getLogger("smcost.extract")

BATCH_ROWS = 1_000
EXIT_COMPLETE, EXIT_PARTIAL, EXIT_FAILED = 0, 3, 4


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


@dataclass(eq=False)
class Unit:
    account_id: str
    region: str
    kind: Kind
    since: datetime | None = None  # incremental kinds: read what changed from here
    until: datetime | None = None  # the watermark this unit leaves if it succeeds
    status: str = "pending"  # pending | running | ok | error
    rows: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    error: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)
    refs: RefSet = field(default_factory=RefSet)
    gone: set[tuple[Any, ...]] = field(default_factory=set)
    spill: str | None = None
    collected: list[Row] = field(default_factory=list)  # Extraction.collect: the rows, in memory
    seconds: float = 0.0

    @property
    def id(self) -> str:
        return f"{self.account_id}/{self.region}/{self.kind.dataset}"

    @property
    def scope(self) -> tuple[str, str]:
        return (self.account_id, self.region)


class Context:
    """The engine's ``kinds.UnitContext``: clients, paging, history, references, warnings."""

    def __init__(self, extraction: Extraction, unit: Unit, upstream: RefSet) -> None:
        self._extraction = extraction
        self._unit = unit
        self._upstream = upstream
        self.account_id = unit.account_id
        self.region = unit.region
        self.options = extraction.options
        self.since = unit.since
        self.until = extraction.extracted_at
        # A time series reads its own window; every other kind sees the scope's (kinds.UnitContext).
        if unit.kind.history == WINDOW and unit.since is not None and unit.until is not None:
            self.window = (unit.since, unit.until)
        else:
            self.window = extraction.windows[unit.scope]

    @property
    def partition(self) -> str:
        return self._extraction.access.partition(self.region)

    def client(self, service: str | None = None) -> BaseClient:
        return self._extraction.access.client(
            self.account_id, self.region, service or self._unit.kind.service, self._unit.kind.dataset
        )

    def call(self, operation: str, *, service: str | None = None, **params: Any) -> Record:
        response: Record = getattr(self.client(service), operation)(**params)
        return response

    def pages(
        self,
        operation: str,
        items_key: str,
        *,
        service: str | None = None,
        token: tuple[str, str] = ("NextToken", "NextToken"),
        **params: Any,
    ) -> Iterator[list[Record]]:
        return aws.paginate(
            self.client(service),
            operation,
            items_key,
            max_pages=self.options.max_pages,
            warn=self.warn,
            token=token,
            **params,
        )

    def items(self, operation: str, items_key: str, **params: Any) -> Iterator[Record]:
        for page in self.pages(operation, items_key, **params):
            yield from page

    def tags(self, arn: str) -> list[Record]:
        """ListTags, as the API returns them ([{Key, Value}]): at most 50 a resource, one page."""
        tags: list[Record] = []
        for page in self.pages("list_tags", "Tags", ResourceArn=arn, MaxResults=50):
            tags += page
        return tags

    def previous(self, columns: tuple[str, ...] | None = None) -> list[Row]:
        """This account and region's rows in the dataset's previous partition (history)."""
        return self._extraction.previous_rows(self._unit, columns)

    def publish(self, name: str, value: Any) -> None:
        self._unit.refs.add(name, value)

    def upstream(self, name: str) -> set[Any]:
        return self._upstream.get(name)

    def gone(self, key: tuple[Any, ...]) -> None:
        """A row the previous partition holds is known to be gone: do not keep it (``kinds.UnitContext``)."""
        self._unit.gone.add(key)

    def warn(self, message: str) -> None:
        self._unit.warnings.append(message)
        log.warning("%s: %s", self._unit.id, message)


class _Sink(Protocol):
    """Where a unit's rows go while it runs: a spill file (``run``) or memory (``collect``)."""

    @property
    def path(self) -> str | None: ...  # the spill file, None in memory

    @property
    def count(self) -> int: ...

    def add(self, row: Row) -> None: ...

    def close(self) -> None: ...

    def discard(self) -> None: ...


class _Spill:
    """A unit's rows on local disk, in batches, until the unit is known to have succeeded."""

    def __init__(self, path: str, dataset: str, schema: pa.Schema) -> None:
        self.path = path
        self.dataset = dataset
        self.schema = schema
        self._rows: list[Row] = []
        self._writer = pq.ParquetWriter(path, schema)
        self.count = 0

    def add(self, row: Row) -> None:
        self._rows.append(row)
        if len(self._rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(lake.rows_to_table(self._rows, self.schema, dataset=self.dataset))
            self.count += len(self._rows)
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def discard(self) -> None:
        self._writer.close()
        os.remove(self.path)


class _Collect:
    """A unit's rows in memory (``Extraction.collect``), kept only if the unit succeeds."""

    path: str | None = None

    def __init__(self, unit: Unit) -> None:
        self._unit = unit
        self._rows: list[Row] = []
        self.count = 0

    def add(self, row: Row) -> None:
        self._rows.append(row)
        self.count += 1

    def close(self) -> None:
        self._unit.collected = self._rows

    def discard(self) -> None:
        self._rows = []


@dataclass
class RunResult:
    status: str  # complete | partial | failed | dry-run
    units: list[Unit]
    extracted_at: datetime
    manifest: dict[str, Any] | None = None
    manifest_path: str | None = None

    @property
    def exit_code(self) -> int:
        return {"partial": EXIT_PARTIAL, "failed": EXIT_FAILED}.get(self.status, EXIT_COMPLETE)


class Extraction:
    """One run: ``kinds`` in schedule order (each after the kinds it needs), e.g. ``catalog.resolve``'s."""

    def __init__(
        self, options: Options, kinds: list[Kind], *, client_overrides: aws.ClientOverrides | None = None
    ) -> None:
        self.options = options
        self.kinds = kinds
        self.access = aws.AwsAccess(
            role_arn_template=options.role_arn_template,
            sts_region=options.regions[0] if options.regions else None,
            external_id=options.external_id,
            role_session_name=options.role_session_name,
            limits=aws.Limits(
                connect_timeout=options.connect_timeout,
                read_timeout=options.read_timeout,
                max_attempts=options.max_attempts,
                max_retry_seconds=options.max_retry_seconds,
            ),
            max_pool_connections=max(10, options.workers),
            overrides=client_overrides,
        )
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        self.started_at = started.replace(microsecond=started.microsecond // 1000 * 1000)
        self.extracted_at = self.started_at
        # Sortable: the latest manifest (whose watermarks the next run starts from) sorts last.
        millis = self.started_at.microsecond // 1000
        self.run_id = f"{self.started_at:%Y%m%dT%H%M%S}{millis:03d}Z-{uuid.uuid4().hex[:6]}"
        self.extract_date = (options.extract_date or self.started_at.date()).isoformat()
        self.state = LakeState(options.out)
        self.windows: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        self.previous_dates: dict[str, str | None] = {}
        self.watermarks: dict[str, str] = {}
        self.calls: Counter[str] = Counter()  # calls made for the run itself, outside any unit

    # ---- plan ----------------------------------------------------------------------------

    def _scope(self) -> tuple[list[str], list[str]]:
        """(accounts, regions): the flags', else the caller's account and the session's region."""
        options = self.options
        regions = options.regions or ([self.access.default_region] if self.access.default_region else [])
        if not regions:
            raise usage_error("no region: pass --regions or set AWS_REGION", options.command)
        return options.accounts or [self._caller_account()], regions

    def plan(self) -> list[Unit]:
        options = self.options
        accounts, regions = self._scope()
        manifest = self.state.latest_manifest() or {}
        self.watermarks = dict(manifest.get("watermarks", {}))
        self.previous_dates = {
            k.dataset: self.state.latest_partition_date(k.dataset, self.extract_date) for k in self.kinds
        }
        overlap = timedelta(hours=options.overlap_hours)
        window_end = options.until or self.started_at.replace(minute=0, second=0, microsecond=0)

        backfill = options.since or window_end - timedelta(days=options.backfill_days)

        def hour_from(since: datetime | None) -> datetime:
            # Hourly periods aligned on the hour, as CloudWatch aggregates them.
            return (since or backfill).replace(minute=0, second=0, microsecond=0)

        units = []
        for account in accounts:
            for region in regions:
                scope = [Unit(account, region, kind) for kind in self.kinds]
                for unit in scope:
                    if unit.kind.history == INCREMENTAL:
                        unit.since, unit.until = self._since(unit.id, unit.kind.dataset, overlap), self.started_at
                    elif unit.kind.history == WINDOW:
                        # Each time series from its own watermark: a unit that failed reads its
                        # window again next run, whatever the other series of the scope did.
                        unit.since = hour_from(self._since(unit.id, unit.kind.dataset, overlap))
                        unit.until = window_end
                # The scope's window covers every series' own, so the endpoints and components the
                # SageMaker kinds hand on are those alive in any of them.
                starts = [u.since for u in scope if u.kind.history == WINDOW and u.since is not None]
                self.windows[(account, region)] = (min(starts, default=hour_from(None)), window_end)
                units += scope
        return units

    def _caller_account(self) -> str:
        aws.count_calls_into(self.calls)
        try:
            return self.access.caller_account()
        except Exception:
            if self.options.dry_run:  # a plan needs no credentials
                return "<caller account>"
            raise
        finally:
            aws.count_calls_into(None)

    def _since(self, unit_id: str, dataset: str, overlap: timedelta) -> datetime | None:
        if self.options.since is not None:
            return self.options.since
        if self.options.full or unit_id not in self.watermarks or self.previous_dates.get(dataset) is None:
            return None  # a first run, or the history it would extend is missing: read everything
        return _from_iso(self.watermarks[unit_id]) - overlap

    def describe_plan(self, units: list[Unit]) -> str:
        accounts = sorted({u.account_id for u in units})
        regions = sorted({u.region for u in units})
        lines = [
            "smcost extract --dry-run: nothing is called or written",
            f"  out          {self.options.out}  (partitions extract_date={self.extract_date})",
            f"  accounts     {', '.join(accounts)}"
            + (f"  via {self.options.role_arn_template}" if self.options.role_arn_template else ""),
            f"  regions      {', '.join(regions)}",
            f"  units        {len(units)} (accounts x regions x datasets), {self.options.workers} at a time",
            "",
            f"  {'dataset':<22} window, then the calls that read it (the kind's declaration)",
        ]
        for kind in self.kinds:
            own = [u for u in units if u.kind is kind]
            if kind.history == INCREMENTAL:
                starts = {u.since for u in own}
                window = (
                    "everything"
                    if starts == {None}
                    else ("changed since " + ", ".join(sorted(_iso(s) or "the beginning" for s in starts)))
                )
            elif kind.history == WINDOW:
                window = ", ".join(sorted({f"{_iso(u.since)} .. {_iso(u.until)} hourly" for u in own}))
            else:
                window = "current state, merged with history"
            lines += [f"  {kind.dataset:<22} {window}", f"  {'':<22} {kind.reads}"]
        lines += ["", f"  manifest     {self.state.root}/sagemaker/_runs/{self.run_id}.json, written last"]
        return "\n".join(lines)

    # ---- run -----------------------------------------------------------------------------

    def run(self) -> RunResult:
        units = self.plan()
        if self.options.dry_run:
            print(self.describe_plan(units))
            return RunResult("dry-run", units, self.extracted_at)
        with tempfile.TemporaryDirectory(prefix="smcost-extract-") as spill_dir:
            self._execute(units, lambda unit: self._spill(unit, spill_dir))
            datasets = self._land(units)
        ok = [u for u in units if u.status == "ok"]
        status = "complete" if len(ok) == len(units) else ("partial" if ok else "failed")
        manifest = self._manifest(units, datasets, status)
        path = self.state.write_manifest(self.run_id, manifest)
        log.info("run %s %s: manifest %s", self.run_id, status, path)
        return RunResult(status, units, self.extracted_at, manifest, path)

    def collect(self) -> list[Unit]:
        """Run every (account, region, kind) unit and keep its rows in memory (``Unit.collected``).

        For reads that land nothing (``smcost audit``): the lake is neither read nor written and no
        manifest is kept; clients, retries, time bounds, call counting, per-unit failures and the
        progress bar are ``run``'s. The kinds must not depend on history (``ctx.previous``).
        """
        accounts, regions = self._scope()
        units = []
        for account in accounts:
            for region in regions:
                self.windows[(account, region)] = (self.started_at, self.started_at)
                units += [Unit(account, region, kind) for kind in self.kinds]
        self._execute(units, _Collect)
        return units

    def _execute(self, units: list[Unit], open_sink: Callable[[Unit], _Sink]) -> None:
        by_id = {u.id: u for u in units}
        scope_refs: dict[tuple[str, str], RefSet] = {}
        pending = list(units)
        running: dict[Future[None], Unit] = {}
        show = self.options.progress if self.options.progress is not None else sys.stderr.isatty()
        with (
            ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="unit") as pool,
            tqdm(total=len(units), unit="unit", desc=self.options.command, file=sys.stderr, disable=not show) as bar,
        ):
            while pending or running:
                for unit in list(pending):
                    needs = [by_id[f"{unit.account_id}/{unit.region}/{n}"] for n in unit.kind.needs]
                    if any(n.status in ("pending", "running") for n in needs):
                        continue
                    pending.remove(unit)
                    failed = [n.kind.dataset for n in needs if n.status == "error"]
                    if failed and unit.kind.strict_needs:
                        unit.status = "error"
                        unit.error = {
                            "code": "UpstreamFailed",
                            "kind": "UpstreamFailed",
                            "message": f"not run because {', '.join(failed)} failed in this scope",
                        }
                        self._report(unit, bar)
                        continue
                    upstream = RefSet()
                    upstream.update(scope_refs.get(unit.scope, RefSet()))
                    unit.status = "running"
                    running[pool.submit(self._run_unit, unit, upstream, open_sink)] = unit
                if not running:
                    if pending:  # cannot happen with needs in catalog order; never spin
                        raise RuntimeError(f"units waiting on each other: {[u.id for u in pending]}")
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    unit = running.pop(future)
                    future.result()
                    if unit.status == "ok":
                        scope_refs.setdefault(unit.scope, RefSet()).update(unit.refs)
                    self._report(unit, bar)

    def _run_unit(self, unit: Unit, upstream: RefSet, open_sink: Callable[[Unit], _Sink]) -> None:
        aws.count_calls_into(unit.calls)
        started = time.monotonic()
        spill = open_sink(unit)
        try:
            ctx = Context(self, unit, upstream)
            for row in unit.kind.fetch(ctx):
                row["account_id"], row["region"] = unit.account_id, unit.region
                row.setdefault("extracted_at", self.extracted_at)
                spill.add(row)
            spill.close()
            unit.rows, unit.spill, unit.status = spill.count, spill.path, "ok"
        except Exception as exc:  # one unit's failure, whatever it is, must not stop the others
            spill.discard()
            unit.status, unit.error = "error", aws.describe_error(exc, aws.last_call())
            if not aws.is_expected(exc):
                log.exception("%s failed unexpectedly", unit.id)
        finally:
            aws.count_calls_into(None)
            unit.seconds = round(time.monotonic() - started, 3)

    @staticmethod
    def _spill(unit: Unit, spill_dir: str) -> _Spill:
        return _Spill(
            os.path.join(spill_dir, unit.id.replace("/", "__") + ".parquet"), unit.kind.dataset, unit.kind.schema
        )

    @staticmethod
    def _report(unit: Unit, bar: tqdm[Any]) -> None:
        bar.update(1)
        calls = sum(unit.calls.values())
        if unit.status == "ok":
            log.info("ok     %-48s %6d rows %5d calls %6.1fs", unit.id, unit.rows, calls, unit.seconds)
        else:
            error = unit.error or {}
            log.error(
                "FAILED %-48s %s: %s%s",
                unit.id,
                error.get("code"),
                error.get("message"),
                f" ({error['hint']})" if error.get("hint") else "",
            )

    # ---- history and landing -------------------------------------------------------------

    def previous_rows(self, unit: Unit, columns: tuple[str, ...] | None) -> list[Row]:
        date = self.previous_dates.get(unit.kind.dataset)
        if date is None:
            return []
        return self.state.read_scope(unit.kind.dataset, date, unit.kind.schema, unit.account_id, unit.region, columns)

    def _land(self, units: list[Unit]) -> dict[str, dict[str, Any]]:
        landed = {}
        for kind in self.kinds:
            own = [u for u in units if u.kind is kind]
            ok = [u for u in own if u.status == "ok"]
            info: dict[str, Any] = {"units_ok": len(ok), "units_failed": len(own) - len(ok), "partition": None}
            if ok:
                try:
                    info.update(self._land_dataset(kind, ok))
                except Exception as exc:  # the lake refused the write: these units did not land
                    error = aws.describe_error(exc)
                    log.error("landing %s failed: %s", kind.dataset, error["message"])
                    for unit in ok:
                        unit.status, unit.error = "error", {**error, "kind": "LandFailed"}
                    info.update(units_ok=0, units_failed=len(own), error=error)
            elif own and self.previous_dates.get(kind.dataset) is None:
                # Nothing known about this dataset yet: land it empty, so every dataset is readable
                # (dbt, Athena) from the first run on; the manifest still records the failed units.
                info.update(self._land_dataset(kind, []))
            landed[kind.dataset] = info
        if not self.options.datasets:
            landed.update(self._land_other_sources_empty(set(landed)))
        return landed

    def _land_other_sources_empty(self, run_here: set[str]) -> dict[str, dict[str, Any]]:
        """Datasets another source lands (the experiment trackers: `--mlflow-tracking-uri`,
        `--wandb-*`) and that have no partition yet: landed empty once, so dbt and Athena can read
        every declared dataset from the first run on. A dataset with data is never touched."""
        from smcost.schemas import DATASETS

        landed = {}
        for name, dataset in DATASETS.items():
            if name in run_here or self.state.latest_partition_date(name, self.extract_date) is not None:
                continue
            partition = lake.dataset_partition(name, self.extract_date)
            with lake.PartitionWriter(self.options.out, partition, dataset.schema):
                pass
            landed[name] = {"units_ok": 0, "units_failed": 0, "partition": partition, "rows": 0, "landed_empty": True}
        return landed

    def _land_dataset(self, kind: Kind, ok: list[Unit]) -> dict[str, Any]:
        partition = lake.dataset_partition(kind.dataset, self.extract_date)
        previous = self.previous_dates.get(kind.dataset)
        key_columns = ("account_id", "region", *kind.replaced_by)
        read = kept = 0
        with lake.PartitionWriter(self.options.out, partition, kind.schema) as writer:
            seen: set[tuple[Any, ...]] = set()
            for unit in ok:
                for batch in pq.ParquetFile(unit.spill).iter_batches(batch_size=BATCH_ROWS):
                    writer.write(batch)
                    seen.update(_keys(batch, key_columns))
                    read += batch.num_rows
            # A time series is not carried to a new date: yesterday's hours stay in yesterday's
            # partition. Within the same date (a rerun), hours outside the new window are kept.
            if previous is not None and (kind.history != WINDOW or previous == self.extract_date):
                ok_scopes = {u.scope for u in ok}
                gone = {(u.account_id, u.region, *key) for u in ok for key in u.gone}
                for table in self.state.iter_batches(kind.dataset, previous, kind.schema, BATCH_ROWS):
                    table = _carry(kind, table, key_columns, seen, gone, ok_scopes, self.extracted_at)
                    writer.write(table)
                    kept += table.num_rows
        return {"partition": partition, "rows": read + kept, "rows_read": read, "rows_kept": kept}

    # ---- manifest ------------------------------------------------------------------------

    def _manifest(self, units: list[Unit], datasets: dict[str, dict[str, Any]], status: str) -> dict[str, Any]:
        watermarks = dict(self.watermarks)
        for unit in units:
            until = _iso(unit.until)
            if unit.status == "ok" and unit.kind.history in (INCREMENTAL, WINDOW) and until is not None:
                # A backfill of an old window (--since/--until) must not move a watermark backwards.
                watermarks[unit.id] = max(watermarks.get(unit.id, ""), until)
        calls: Counter[str] = Counter(self.calls)
        for unit in units:
            calls.update(unit.calls)
        windows = list(self.windows.values())
        return {
            "run_id": self.run_id,
            "status": status,
            "extract_date": self.extract_date,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(datetime.now(timezone.utc).replace(tzinfo=None)),
            "out": self.options.out,
            "accounts": sorted({u.account_id for u in units}),
            "regions": sorted({u.region for u in units}),
            "window": {
                "metrics_start": _iso(min(w[0] for w in windows)) if windows else None,
                "metrics_end": _iso(max(w[1] for w in windows)) if windows else None,
                "overlap_hours": self.options.overlap_hours,
                "full": self.options.full,
            },
            "datasets": datasets,
            "api_calls": dict(sorted(calls.items())),
            "api_calls_total": sum(calls.values()),
            "units": [
                {
                    "unit": u.id,
                    "account_id": u.account_id,
                    "region": u.region,
                    "dataset": u.kind.dataset,
                    "status": u.status,
                    "rows": u.rows,
                    "since": _iso(u.since),
                    "until": _iso(u.until),
                    "seconds": u.seconds,
                    "api_calls": dict(sorted(u.calls.items())),
                    **({"warnings": u.warnings} if u.warnings else {}),
                    **({"error": u.error} if u.error else {}),
                }
                for u in units
            ],
            "errors": [{"unit": u.id, **u.error} for u in units if u.error],
            "watermarks": dict(sorted(watermarks.items())),
        }


def _keys(batch: pa.RecordBatch | pa.Table, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    return zip(*(batch.column(c).to_pylist() for c in columns), strict=True)


def _carry(
    kind: Kind,
    table: pa.Table,
    key_columns: tuple[str, ...],
    seen: set[tuple[Any, ...]],
    gone: set[tuple[Any, ...]],
    ok_scopes: set[tuple[str, str]],
    now: datetime,
) -> pa.Table:
    """The previous partition's rows to keep: not re-read now, not known to be gone.

    ``key_columns`` are the scope and the kind's ``replaced_by`` columns: a row read in this run
    replaces every previous row that shares them.

    Rows of a scope whose unit failed (or was not part of this run) are kept untouched. In a scope
    that succeeded, a snapshot kind's row that the complete listing no longer returns is marked
    Deleted as of this run (or dropped, for kinds whose deleted resources cost nothing).
    """
    keep, mark = [], []
    for key in _keys(table, key_columns):
        if key[:2] not in ok_scopes:
            keep.append(True)
            mark.append(False)
        elif key in seen or key in gone or (kind.history == SNAPSHOT and kind.drop_vanished):
            keep.append(False)
            mark.append(False)
        else:
            keep.append(True)
            mark.append(kind.history == SNAPSHOT and kind.status_column is not None)
    if any(mark):
        marked = pa.array(mark)
        changes = ((kind.status_column, pa.scalar("Deleted")), ("extracted_at", pa.scalar(now, pa.timestamp("ms"))))
        for column, value in changes:
            index = table.schema.get_field_index(column)
            table = table.set_column(index, column, pc.if_else(marked, value, table.column(index)))
    return table.filter(pa.array(keep, type=pa.bool_()))
