"""What earlier runs left in the lake: the latest partition of each dataset, and run manifests.

A manifest (``sagemaker/_runs/<run-id>.json``) is written last, after every partition of the run
is in place; it also carries the watermarks the next run starts from. Run ids sort in time order.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from smcost import lake

RUNS_DIR = posixpath.join("sagemaker", "_runs")
PARTITION_PREFIX = "extract_date="


def conform(table: pa.Table | pa.RecordBatch, schema: pa.Schema) -> pa.Table:
    """Select and cast to ``schema``; columns an older file lacks come back as nulls."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _hidden(path: str) -> bool:
    """Temporary files of a write in progress (and pyarrow's own convention for ignored files)."""
    return posixpath.basename(path).startswith((".", "_"))


class LakeState:
    def __init__(self, root: str) -> None:
        self.root = root
        self.fs, self.base = lake.filesystem(root)

    def _path(self, relative: str) -> str:
        return posixpath.join(self.base, relative)

    # ---- partitions ----------------------------------------------------------------------

    def latest_partition_date(self, dataset: str, on_or_before: str) -> str | None:
        """The newest ``extract_date`` of ``dataset`` that is not after ``on_or_before``."""
        folder = self._path(posixpath.join("sagemaker", dataset))
        infos = self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
        dates: list[str] = [
            posixpath.basename(i.path)[len(PARTITION_PREFIX) :]
            for i in infos
            if i.type == pafs.FileType.Directory and posixpath.basename(i.path).startswith(PARTITION_PREFIX)
        ]
        # Newest first, stopping at the first with data: one listing per dataset, not one per day.
        for date in sorted((d for d in dates if d <= on_or_before), reverse=True):
            if self._has_data(dataset, date):
                return date
        return None

    def _has_data(self, dataset: str, date: str) -> bool:
        folder = self._path(lake.dataset_partition(dataset, date))
        infos = self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
        return any(i.type == pafs.FileType.File and not _hidden(i.path) for i in infos)

    def _dataset(self, dataset: str, date: str) -> pads.Dataset:
        folder = self._path(lake.dataset_partition(dataset, date))
        return pads.dataset(folder, format="parquet", filesystem=self.fs)

    def read_scope(
        self,
        dataset: str,
        date: str,
        schema: pa.Schema,
        account_id: str,
        region: str,
        columns: tuple[str, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of one account and region, as dicts (small datasets only: history the kinds need)."""
        source = self._dataset(dataset, date)
        wanted = [f.name for f in schema if columns is None or f.name in columns]
        present = [c for c in wanted if c in source.schema.names]
        table = source.to_table(
            columns=present,
            filter=(pc.field("account_id") == account_id) & (pc.field("region") == region),
        )
        sub = pa.schema([schema.field(c) for c in wanted])
        rows: list[dict[str, Any]] = conform(table, sub).to_pylist()
        return rows

    def iter_batches(self, dataset: str, date: str, schema: pa.Schema, batch_size: int) -> Iterator[pa.Table]:
        source = self._dataset(dataset, date)
        present = [f.name for f in schema if f.name in source.schema.names]
        for batch in source.to_batches(columns=present, batch_size=batch_size):
            if batch.num_rows:
                yield conform(batch, schema)

    # ---- manifests -----------------------------------------------------------------------

    def latest_manifest(self) -> dict[str, Any] | None:
        folder = self._path(RUNS_DIR)
        infos = self.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
        names = sorted(
            i.path for i in infos if i.type == pafs.FileType.File and i.path.endswith(".json") and not _hidden(i.path)
        )
        if not names:
            return None
        with self.fs.open_input_stream(names[-1]) as stream:
            manifest: dict[str, Any] = json.loads(stream.read().decode())
        return manifest

    def write_manifest(self, run_id: str, manifest: dict[str, Any]) -> str:
        """Write atomically (temporary name, then rename): a reader never sees half a manifest."""
        folder = self._path(RUNS_DIR)
        self.fs.create_dir(folder, recursive=True)
        final = posixpath.join(folder, f"{run_id}.json")
        tmp = posixpath.join(folder, f".tmp-{uuid.uuid4().hex[:12]}.json")
        with self.fs.open_output_stream(tmp) as stream:
            stream.write(json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())
        self.fs.move(tmp, final)
        return posixpath.join(RUNS_DIR, f"{run_id}.json")
