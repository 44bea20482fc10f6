"""One schema, every copy checked: each SageMaker staging model carries exactly the columns its
dataset declares in extract/smcost/schemas.py (plus the lowercased name), in that order, and keeps
the newest snapshot per the dataset's staging key. A column renamed, dropped or typo'd in the SQL
(which would otherwise land a NULL column or lose one silently) fails here."""

from __future__ import annotations

import re

import duckdb
import pytest

from smcost.schemas import DATASETS
from smcost_testing import REPO


@pytest.mark.parametrize("name", list(DATASETS))
def test_staging_model_columns_are_the_datasets(name, demo_build):
    dataset = DATASETS[name]
    with duckdb.connect(str(demo_build), read_only=True) as con:
        built = tuple(row[0] for row in con.execute(f"describe {dataset.staging_model}").fetchall())
    assert built == dataset.staging_columns


@pytest.mark.parametrize("name", list(DATASETS))
def test_staging_model_keeps_the_newest_row_per_staging_key(name):
    dataset = DATASETS[name]
    sql = (REPO / "models/staging/sagemaker" / f"{dataset.staging_model}.sql").read_text()
    match = re.search(r"latest_snapshot\('source', \[(.*?)\]", sql, re.S)
    assert match, f"{dataset.staging_model} does not read its source through latest_snapshot"
    key = tuple(part.strip().strip("'") for part in match.group(1).split(",") if part.strip())
    assert key == dataset.staging_key


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_keys_name_real_columns(name):
    dataset = DATASETS[name]
    assert set(dataset.staging_key) <= set(dataset.schema.names)
    assert set(dataset.nullable_key) <= set(dataset.staging_key)
    if dataset.name_column:
        assert dataset.name_column in dataset.schema.names
