"""Opening the DuckDB file the marts live in, for the commands that read them (summary, explain,
report, export): one place for what a missing, locked or foreign file means and what to do next."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb


class MartsUnavailable(Exception):
    """The database cannot be read; the message says why and what to do."""


def first_line(exc: BaseException) -> str:
    """An exception's first line (DuckDB's messages go on with hints and context)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def open_error(path: Path, exc: duckdb.Error) -> str:
    """One line saying why the file cannot be opened, and what to do."""
    message = first_line(exc)
    if "Conflicting lock" in message:
        holder = re.search(r"\(PID (\d+)\)", message)
        who = f" (PID {holder.group(1)})" if holder else ""
        return (
            f"{path} is open for writing in another process{who}, e.g. a running `dbt build` or a tool "
            "holding it: wait for it to finish or close it, then rerun"
        )
    if "not a valid DuckDB database" in message:
        return f"{path} is not a DuckDB database: pass the file `dbt build --target local` wrote (--database)"
    if path.is_dir():
        return f"{path} is a folder, not a DuckDB file: pass the file `dbt build --target local` wrote (--database)"
    return f"cannot open {path}: {message}"


def connect_marts(database: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the marts' DuckDB file, or MartsUnavailable saying what to do."""
    path = Path(database)
    if not path.exists():
        raise MartsUnavailable(
            f"{path} does not exist. Build it first: `make demo` (the demo account) or `smcost pipeline` "
            "(yours; or `dbt build --target local`), or pass --database."
        )
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise MartsUnavailable(open_error(path, exc)) from exc
