"""Rows and tables held to their dataset's Arrow schema, so a typo in a column name is an error
naming the dataset and column instead of a NULL column in the lake."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from functools import lru_cache

import pyarrow as pa

Check = Callable[[object], bool]


class SchemaMismatch(Exception):
    """A demo row or table that does not fit its dataset's schema: a bug in the generator."""


def check_row(dataset: str, schema: pa.Schema, row: Mapping[str, object], *,
              allowed: Collection[str] | None = None) -> None:  # fmt: skip
    """Every key of ``row`` is a column of ``schema`` (and of ``allowed``, if given) and its value
    has the column's type (None is always allowed)."""
    checks = _checks(schema)
    for column, value in row.items():
        check = checks.get(column)
        if check is None:
            raise SchemaMismatch(f"{dataset}: column {column!r} is not in the dataset's schema (smcost/schemas.py)")
        if allowed is not None and column not in allowed:
            raise SchemaMismatch(f"{dataset}: column {column!r} is computed per row, not set on the row")
        if not check(value):
            raise SchemaMismatch(
                f"{dataset}: column {column!r} is {schema.field(column).type}, got {type(value).__name__} {value!r}"
            )


def conform_table(dataset: str, table: pa.Table, schema: pa.Schema, *, exact: bool = True) -> pa.Table:
    """``table`` with ``schema``'s columns in its order and types. Every schema column must be
    there; with ``exact``, no other column may be; a column that cannot be cast names itself."""
    extra = [name for name in table.column_names if name not in schema.names]
    missing = [name for name in schema.names if name not in table.column_names]
    if missing or (exact and extra):
        raise SchemaMismatch(f"{dataset}: columns missing {missing}, not in the schema {extra if exact else []}")
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


@lru_cache(maxsize=None)
def _checks(schema: pa.Schema) -> dict[str, Check]:
    return {f.name: _check(f.type) for f in schema}


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
        return lambda v: v is None or (
            isinstance(v, Mapping) and all(k in members and members[k](e) for k, e in v.items())
        )
    for is_type, python in _SCALARS:
        if is_type(type_):
            return _instance_of(python)
    raise SchemaMismatch(f"no check for Arrow type {type_}: add one to smcost/demo/checks.py")


def _instance_of(python: type) -> Check:
    if python is int:  # bool is an int to Python, not to Arrow
        return lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool))
    return lambda v: v is None or isinstance(v, python)


def _is_pairs(value: object, key: Check, item: Check) -> bool:
    """A map value: a dict, or (key, value) pairs as pyarrow accepts them."""
    pairs = value.items() if isinstance(value, Mapping) else value
    if not isinstance(pairs, (list, type({}.items()))):
        return False
    return all(isinstance(p, tuple) and len(p) == 2 and key(p[0]) and item(p[1]) for p in pairs)


_SCALARS: list[tuple[Callable[[pa.DataType], bool], type]] = [
    (pa.types.is_string, str),
    (pa.types.is_timestamp, datetime),
    (pa.types.is_boolean, bool),
    (pa.types.is_int64, int),
    (pa.types.is_float64, float),
]
