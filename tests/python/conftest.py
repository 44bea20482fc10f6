"""Shared fixtures: the demo account, generated and built once per test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from smcost_testing import PARSE_CACHE, run_dbt


def pytest_configure(config) -> None:
    """One dbt parse cache for the whole run: made by the controller before xdist starts its workers,
    which inherit the variable (a worker, or a run without xdist, finds it set or makes it)."""
    if not os.environ.get(PARSE_CACHE):
        os.environ[PARSE_CACHE] = tempfile.mkdtemp(prefix="smcost-dbt-parse-")
        config.add_cleanup(lambda: shutil.rmtree(os.environ.pop(PARSE_CACHE), ignore_errors=True))


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> Path:
    """The default demo account (FOCUS 1.2, seed 42, 3 months, scale 1), generated once per session."""
    from smcost.demo import generate

    root = tmp_path_factory.mktemp("demo-lake")
    generate(str(root), seed=42, months=3, scale=1, focus_version="1.2")
    return root


@pytest.fixture(scope="session")
def demo_build(demo_lake, tmp_path_factory) -> Path:
    """`dbt build` of the whole project on the default demo account; returns the DuckDB file."""
    work = tmp_path_factory.mktemp("dbt-demo")
    database = work / "smcost.duckdb"
    run_dbt(["build"], lake_root=demo_lake, database=database, work=work)
    return database
