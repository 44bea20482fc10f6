"""The demo generator's ledger refuses rows that do not fit their dataset's schema (a typo'd or
mistyped column would otherwise land a NULL column silently): each error names dataset and column."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from smcost.demo.checks import RowSchema, SchemaMismatch, conform_table
from smcost.schemas import DATASETS

ENDPOINTS = DATASETS["endpoints"]


def test_a_metadata_row_with_a_column_the_schema_lacks_is_refused():
    with pytest.raises(SchemaMismatch, match=r"endpoints.*'endpoint_nmae'"):
        RowSchema("sagemaker.endpoints", ENDPOINTS.schema).check({"endpoint_nmae": "x"})


def test_a_metadata_row_with_a_mistyped_value_is_refused():
    with pytest.raises(SchemaMismatch, match=r"endpoints.*'endpoint_created_at'"):
        RowSchema("sagemaker.endpoints", ENDPOINTS.schema).check({"endpoint_created_at": "2026-08-01"})


def test_a_well_formed_row_passes():
    RowSchema("sagemaker.endpoints", ENDPOINTS.schema).check(
        {"endpoint_name": "fraud-xgb-prod", "endpoint_created_at": datetime(2026, 8, 1)}
    )


def test_a_table_missing_a_schema_column_is_refused_naming_it():
    schema = pa.schema([("a", pa.string()), ("b", pa.int64())])
    with pytest.raises(SchemaMismatch, match=r"missing \['b'\]"):
        conform_table("demo.test", pa.table({"a": ["x"]}), schema)
