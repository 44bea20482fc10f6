"""Shared fixtures: the demo account, generated and built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from smcost_testing import run_dbt


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
