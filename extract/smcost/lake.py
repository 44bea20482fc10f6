"""Where landed files live and how they are written (shared by `smcost demo` and `smcost extract`).

Layout under a lake root (a local folder or ``s3://bucket/prefix``)::

    billing/<export-name>/data/BILLING_PERIOD=YYYY-MM/part-*.parquet   # as AWS Data Exports writes it
    sagemaker/<dataset>/extract_date=YYYY-MM-DD/part-*.parquet         # landed metadata
    sagemaker/_runs/<run-id>.json                                      # extraction run manifests
    demo/ground_truth/part-*.parquet                                   # demo only

Writes are atomic per file (write to a temporary name, then rename) and replace a whole partition,
so a rerun of the same partition never duplicates rows.
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

DEFAULT_LAKE_ROOT = "data/lake"
DEFAULT_EXPORT_NAME = "sagemaker-focus"


def filesystem(root: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and path for a local folder or an s3:// URI.

    S3 goes through pyarrow's S3 client, which reads the standard AWS credential chain and
    honours ``AWS_ENDPOINT_URL`` (so moto or any emulator works without a code path).
    """
    if root.startswith("s3://"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        fs = pafs.S3FileSystem(endpoint_override=endpoint, region=region) if endpoint else pafs.S3FileSystem(region=region)
        return fs, root[len("s3://"):].rstrip("/")
    return pafs.LocalFileSystem(), os.path.abspath(root)


# Partition paths, relative to the lake root.
def billing_partition(billing_period: str, export_name: str = DEFAULT_EXPORT_NAME) -> str:
    return posixpath.join("billing", export_name, "data", f"BILLING_PERIOD={billing_period}")


def dataset_partition(dataset: str, extract_date: str) -> str:
    return posixpath.join("sagemaker", dataset, f"extract_date={extract_date}")


GROUND_TRUTH_DIR = posixpath.join("demo", "ground_truth")


class PartitionWriter:
    """Streams record batches into one partition folder, replacing what was there.

    Files are written under temporary names and renamed only on ``close()``; the previous
    contents of the partition are removed at that point, so readers see either the old or the
    new partition, and an interrupted write leaves the old one in place.
    """

    def __init__(self, root: str, partition: str, schema: pa.Schema, rows_per_file: int = 2_000_000):
        self.fs, base = filesystem(root)
        self.path = posixpath.join(base, partition)
        self.schema = schema
        self.rows_per_file = rows_per_file
        self._token = uuid.uuid4().hex[:12]
        self._files: list[str] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0
        self.rows = 0
        self.fs.create_dir(self.path, recursive=True)

    def _tmp_name(self, index: int) -> str:
        return posixpath.join(self.path, f".tmp-{self._token}-part-{index:05d}.parquet")

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows == 0:
            return
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        table = table.select(self.schema.names).cast(self.schema)
        if self._writer is None or self._rows_in_file >= self.rows_per_file:
            self._roll()
        assert self._writer is not None
        self._writer.write_table(table, row_group_size=256_000)
        self._rows_in_file += table.num_rows
        self.rows += table.num_rows

    def _roll(self) -> None:
        if self._writer is not None:
            self._writer.close()
        name = self._tmp_name(len(self._files))
        self._files.append(name)
        # Given a path and filesystem, the writer owns the stream and closes it on close(): an S3
        # multipart upload only completes when its stream is closed.
        self._writer = pq.ParquetWriter(name, self.schema, filesystem=self.fs, compression="snappy")
        self._rows_in_file = 0

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if not self._files:  # an empty partition still gets one (empty) file so readers see the schema
            self._roll()
            assert self._writer is not None
            self._writer.close()
        keep = set(self._files)
        for info in self.fs.get_file_info(pafs.FileSelector(self.path)):
            if info.path not in keep and info.type == pafs.FileType.File:
                self.fs.delete_file(info.path)
        for index, tmp in enumerate(self._files):
            self.fs.move(tmp, posixpath.join(self.path, f"part-{index:05d}-{self._token}.parquet"))

    def __enter__(self) -> "PartitionWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # leave the previous partition untouched
            if self._writer is not None:
                self._writer.close()
            for tmp in self._files:
                self.fs.delete_file(tmp)


def write_partition(root: str, partition: str, schema: pa.Schema, tables: Iterable[pa.Table]) -> int:
    """Replace one partition (a path relative to ``root``) with ``tables``; returns rows written."""
    with PartitionWriter(root, partition, schema) as writer:
        for table in tables:
            writer.write(table)
    return writer.rows


def rows_to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Build a table from dicts, every schema column present (missing keys become null)."""
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
