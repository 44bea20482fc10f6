"""Where landed files live and how they are written (shared by `smcost demo` and `smcost extract`).

Layout under a lake root (a local folder or ``s3://bucket/prefix``)::

    billing/<export-name>/data/BILLING_PERIOD=YYYY-MM/part-*.parquet   # as AWS Data Exports writes it
    billing/<export-name>/metadata/BILLING_PERIOD=YYYY-MM/<export-name>-Manifest.json  # the delivery's file list
    sagemaker/<dataset>/extract_date=YYYY-MM-DD/part-*.parquet         # landed metadata
    sagemaker/_runs/<run-id>.json                                      # extraction run manifests
    demo/ground_truth/part-*.parquet                                   # demo only
    demo/ground_truth_findings/part-*.parquet                          # demo only

Writes are atomic per file (write to a temporary name, then rename) and replace a whole partition,
so a rerun of the same partition never duplicates rows.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import uuid
from collections.abc import Iterable
from types import TracebackType
from typing import Any

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
        fs = (
            pafs.S3FileSystem(endpoint_override=endpoint, region=region)
            if endpoint
            else pafs.S3FileSystem(region=region)
        )
        return fs, root[len("s3://") :].rstrip("/")
    return pafs.LocalFileSystem(), os.path.abspath(root)


# Every name that becomes a folder in the lake or an identifier in SQL (export names, dataset
# names, billing periods, extract dates, Glue database and table names, table prefixes) goes
# through validate_name: one allow-list, so no name can climb out of the lake ("..", "/"), and
# none can end a quoted SQL string or identifier.
_PATH_NAME = re.compile(r"[A-Za-z0-9._-]+")
_SQL_NAME = re.compile(r"[A-Za-z0-9_]+")  # Glue database and table names
_PATH_NAME_RULE = "letters, digits, '-', '_' and '.' (not only dots; no '/')"
_SQL_NAME_RULE = "letters, digits and underscores"
MAX_NAME_LENGTH = 255  # one S3 key segment or file name; Glue's limit too


def validate_name(kind: str, value: str, *, sql: bool = False, allow_empty: bool = False) -> str:
    """``value`` unchanged if it is safe as one folder name (``sql=True``: as a Glue/Athena
    identifier too); otherwise ValueError saying which ``kind`` of name is wrong and what is allowed."""
    rule = _SQL_NAME_RULE if sql else _PATH_NAME_RULE
    if not isinstance(value, str):
        raise ValueError(f"{kind} must be a string of {rule}, got {value!r}")
    if value == "" and allow_empty:
        return value
    if not (_SQL_NAME if sql else _PATH_NAME).fullmatch(value) or set(value) == {"."}:
        raise ValueError(f"{kind} may contain only {rule}, got {value!r}")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"{kind} is longer than {MAX_NAME_LENGTH} characters: {value[:40]!r}...")
    return value


def check_inside(fs: pafs.FileSystem, base: str, path: str) -> str:
    """``path`` if it lies strictly inside the lake root ``base`` (both as ``filesystem()`` returns
    them); otherwise ValueError. Local paths are resolved first (``..``, symlinks), so nothing that
    is written or deleted through this module can land outside the lake or be the lake itself."""
    if isinstance(fs, pafs.LocalFileSystem):
        root, target = os.path.realpath(base), os.path.realpath(path)
    else:
        root, target = posixpath.normpath(base), posixpath.normpath(path)
    if target == root or not target.startswith(root.rstrip("/") + "/"):
        raise ValueError(f"refusing to touch {path}: it is not inside the lake root {base}")
    return path


def delete_inside(fs: pafs.FileSystem, base: str, path: str, *, directory: bool = False) -> None:
    """Delete one file (or, with ``directory=True``, a folder and everything in it) under the lake
    root ``base``; refuses any path that is not strictly inside it."""
    check_inside(fs, base, path)
    if directory:
        fs.delete_dir(path)
    else:
        fs.delete_file(path)


# Partition paths, relative to the lake root.
def billing_partition(billing_period: str, export_name: str = DEFAULT_EXPORT_NAME) -> str:
    validate_name("export name", export_name)
    validate_name("billing period", billing_period)
    return posixpath.join("billing", export_name, "data", f"BILLING_PERIOD={billing_period}")


def dataset_partition(dataset: str, extract_date: str) -> str:
    validate_name("dataset name", dataset)
    validate_name("extract date", extract_date)
    return posixpath.join("sagemaker", dataset, f"extract_date={extract_date}")


def billing_manifest(billing_period: str, export_name: str = DEFAULT_EXPORT_NAME) -> str:
    validate_name("export name", export_name)
    validate_name("billing period", billing_period)
    return posixpath.join(
        "billing", export_name, "metadata", f"BILLING_PERIOD={billing_period}", f"{export_name}-Manifest.json"
    )


GROUND_TRUTH_DIR = posixpath.join("demo", "ground_truth")
GROUND_TRUTH_FINDINGS_DIR = posixpath.join("demo", "ground_truth_findings")


class PartitionWriter:
    """Streams record batches into one partition folder, replacing what was there.

    Files are written under temporary names and renamed only on ``close()``; the previous
    contents of the partition are removed at that point, so readers see either the old or the
    new partition, and an interrupted write leaves the old one in place.
    """

    def __init__(self, root: str, partition: str, schema: pa.Schema, rows_per_file: int = 2_000_000):
        self.fs, base = filesystem(root)
        self._base = base
        self.path = check_inside(self.fs, base, posixpath.join(base, partition))
        self.schema = schema
        self.rows_per_file = rows_per_file
        self._token = uuid.uuid4().hex[:12]
        self._files: list[str] = []
        self.paths: list[str] = []  # the partition's data files once closed
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
                delete_inside(self.fs, self._base, info.path)
        for index, tmp in enumerate(self._files):
            final = posixpath.join(self.path, f"part-{index:05d}-{self._token}.parquet")
            self.fs.move(tmp, final)
            self.paths.append(final)

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:  # leave the previous partition untouched
            if self._writer is not None:
                self._writer.close()
            for tmp in self._files:
                delete_inside(self.fs, self._base, tmp)


def write_export_manifest(
    root: str,
    billing_period: str,
    export_name: str,
    data_files: list[str],
    schema: pa.Schema,
    *,
    bucket: str,
    execution_id: str,
) -> str:
    """Write the ``Manifest.json`` AWS Data Exports delivers with a billing period's files.

    ``data_files`` are paths under ``root``; the manifest names them the way AWS does, as full S3
    URIs (``s3://<bucket>/<path>``), which is why readers match files on the part of the path from
    ``BILLING_PERIOD=`` on. Written last, as AWS does: a manifest means the delivery is complete.
    """
    fs, base = filesystem(root)
    relative = [posixpath.relpath(path, base) for path in data_files]
    document = {
        "executionId": execution_id,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:000000000000:export/{export_name}",
        "billingPeriod": billing_period,
        "columns": [{"name": f.name, "type": str(f.type)} for f in schema],
        "dataFiles": [f"s3://{bucket}/{path}" for path in relative],
    }
    path = posixpath.join(base, billing_manifest(billing_period, export_name))
    fs.create_dir(posixpath.dirname(path), recursive=True)
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with fs.open_output_stream(tmp) as out:
        out.write(json.dumps(document, indent=2).encode())
    fs.move(tmp, path)
    return path


def write_partition(root: str, partition: str, schema: pa.Schema, tables: Iterable[pa.Table]) -> int:
    """Replace one partition (a path relative to ``root``) with ``tables``; returns rows written."""
    with PartitionWriter(root, partition, schema) as writer:
        for table in tables:
            writer.write(table)
    return writer.rows


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema, *, dataset: str | None = None) -> pa.Table:
    """Build a table from dicts, every schema column present (missing keys become null).

    A key the schema lacks is an error, not a column quietly left out: it is a typo or a column
    schemas.py does not declare yet, and either way its values would never land.
    """
    names = set(schema.names)
    for row in rows:
        if not row.keys() <= names:
            extra = ", ".join(sorted(set(row) - names))
            raise ValueError(
                f"{dataset or 'a dataset'}: a row has column(s) {extra} that its schema lacks "
                "(declare them in extract/smcost/schemas.py, or fix the name)"
            )
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
