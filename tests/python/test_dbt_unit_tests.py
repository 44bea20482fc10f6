"""The dbt unit tests (models/**/_*__unit_tests.yml), run once for the whole suite.

They read their own fixture rows, never the lake, so the suite's other builds leave them out
(smcost_testing.run_dbt); dbt still needs each tested model's parents built to learn their column
types, which the session's demo build provides."""

from __future__ import annotations

import json

import pytest

from smcost_testing import run_dbt


@pytest.mark.dbt
def test_every_dbt_unit_test_passes(demo_build, demo_lake, tmp_path):
    result = run_dbt(
        ["test", "--select", "test_type:unit"], lake_root=demo_lake, database=demo_build, work=tmp_path, check=False
    )
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failed = [r["unique_id"] for r in results if r["status"] != "pass"]
    assert result.returncode == 0 and not failed, f"failed: {failed}\n{result.stdout[-6000:]}"
    # Every unit test the project declares ran (a selector typo would pass with none).
    declared = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    assert len(results) == len(declared) > 40
