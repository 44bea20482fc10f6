"""Rows and tables held to their dataset's Arrow schema, so a typo in a column name is an error
naming the dataset and column instead of a NULL column in the lake."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

import pyarrow as pa

Check = Callable[[object], bool]


class SchemaMismatch(Exception):
    """A demo row or table that does not fit its dataset's schema: a bug in the generator."""


class RowSchema:
    """A dataset's schema as checks on Python rows, built once per dataset. Millions of values go
    through ``check`` at scale, so scalar columns are a plain isinstance test."""

    def __init__(self, dataset: str, schema: pa.Schema, *, allowed: Collection[str] | None = None) -> None:
        self.dataset, self.schema = dataset, schema
        self.columns = frozenset(schema.names if allowed is None else allowed)
        self.scalars = {f.name: python for f in schema if (python := _scalar_type(f.type)) is not None}
        self.nested = {f.name: _check(f.type) for f in schema if f.name not in self.scalars}

    def check(self, row: Mapping[str, object]) -> None:
        """Every key of ``row`` is a column of the schema (and of ``allowed``, if given) and its
        value has the column's type (None is always allowed)."""
        if not self.columns.issuperset(row):
            self._unknown(row)
        for column, value in row.items():
            if value is None:
                continue
            python = self.scalars.get(column)
            if python is None:
                if self.nested[column](value):
                    continue
            elif isinstance(value, python) and not (python is int and isinstance(value, bool)):
                continue
            raise SchemaMismatch(
                f"{self.dataset}: column {column!r} is {self.schema.field(column).type}, "
                f"got {type(value).__name__} {value!r}"
            )

    def _unknown(self, row: Mapping[str, object]) -> None:
        column = next(c for c in row if c not in self.columns)
        if column in self.schema.names:
            raise SchemaMismatch(f"{self.dataset}: column {column!r} is computed per row, not set on the row")
        raise SchemaMismatch(f"{self.dataset}: column {column!r} is not in the dataset's schema (smcost/schemas.py)")


def conform_table(dataset: str, table: pa.Table, schema: pa.Schema, *, exact: bool = True) -> pa.Table:
    """``table`` with ``schema``'s columns in its order and types. Every schema column must be
    there; with ``exact``, no other column may be; a column that cannot be cast names itself."""
    extra = [name for name in table.column_names if name not in schema.names]
    missing = [name for name in schema.names if name not in table.column_names]
    problems = [f"missing {missing}"] if missing else []
    problems += [f"not in the schema {extra}"] if exact and extra else []
    if problems:
        raise SchemaMismatch(f"{dataset}: columns {' and '.join(problems)}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        bad = next(f.name for f in schema if not _casts(table.column(f.name), f.type))
        raise SchemaMismatch(f"{dataset}: column {bad!r} cannot be {schema.field(bad).type}: {exc}") from None


def _casts(column: pa.ChunkedArray, type_: pa.DataType) -> bool:
    try:
        column.cast(type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return False
    return True


def _check(type_: pa.DataType) -> Check:
    """A test that a Python value (or None) would land in a column of ``type_`` as is."""
    if pa.types.is_map(type_):
        key, item = _check(type_.key_type), _check(type_.item_type)
        return lambda v: v is None or _is_pairs(v, key, item)
    if pa.types.is_list(type_):
        element = _check(type_.value_type)
        return lambda v: v is None or (isinstance(v, list) and all(element(e) for e in v))
    if pa.types.is_struct(type_):
        members = {type_.field(i).name: _check(type_.field(i).type) for i in range(type_.num_fields)}
        return lambda v: (
            v is None or (isinstance(v, Mapping) and all(k in members and members[k](e) for k, e in v.items()))
        )
    python = _scalar_type(type_)
    if python is not None:
        return _instance_of(python)
    raise SchemaMismatch(f"no check for Arrow type {type_}: add one to smcost/demo/checks.py")


def _scalar_type(type_: pa.DataType) -> type | None:
    """The Python type of a scalar Arrow type's values (None for nested types)."""
    return next((python for is_type, python in _SCALARS if is_type(type_)), None)


def _instance_of(python: type) -> Check:
    if python is int:  # bool is an int to Python, not to Arrow
        return lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool))
    return lambda v: v is None or isinstance(v, python)


def _is_pairs(value: object, key: Check, item: Check) -> bool:
    """A map value: a dict, or (key, value) pairs as pyarrow accepts them."""
    pairs: list[object]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = value
    else:
        return False
    return all(isinstance(p, tuple) and len(p) == 2 and key(p[0]) and item(p[1]) for p in pairs)


_SCALARS: list[tuple[Callable[[pa.DataType], bool], type]] = [
    (pa.types.is_string, str),
    (pa.types.is_timestamp, datetime),
    (pa.types.is_boolean, bool),
    (pa.types.is_int64, int),
    (pa.types.is_float64, float),
]
