"""Hand-built FOCUS export files for tests that need a bill of a few exact rows (not the demo's).

A row names only what the test cares about; every other column of the file's schema is null, and
costs, periods and accounts get plain defaults."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from smcost import lake
from smcost.schemas import DATASETS

PERIOD = "2026-03"
_DEFAULTS: dict[str, Any] = {
    "BilledCost": 1.0,
    "EffectiveCost": 1.0,
    "ListCost": 1.0,
    "ContractedCost": 1.0,
    "ChargeCategory": "Usage",
    "ChargeFrequency": "Usage-Based",
    "BillingAccountId": "111111111111",
    "SubAccountId": "222222222222",
    "BillingCurrency": "USD",
    "BillingPeriodStart": datetime(2026, 3, 1),
    "BillingPeriodEnd": datetime(2026, 4, 1),
    "ChargePeriodStart": datetime(2026, 3, 2, 10),
    "ChargePeriodEnd": datetime(2026, 3, 2, 11),
    "x_ServiceCode": "AmazonSageMaker",
    "ServiceName": "Amazon SageMaker",
    "ServiceCategory": "AI and Machine Learning",
}


def focus_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """The rows over the defaults, in ``schema`` (columns a row does not name are null)."""
    names = set(schema.names)
    filled = [{**{k: v for k, v in _DEFAULTS.items() if k in names}, **row} for row in rows]
    return pa.Table.from_pylist(filled, schema=schema)


def write_focus_file(root: Path, table: pa.Table, name: str = "part-0.parquet", period: str = PERIOD) -> Path:
    folder = root / lake.billing_partition(period)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / name)
    return folder / name


def write_empty_datasets(root: Path) -> None:
    """A lake whose extractor has not run yet: every SageMaker dataset present and empty."""
    for dataset_name, dataset in DATASETS.items():
        lake.write_partition(str(root), lake.dataset_partition(dataset_name, "2026-03-01"), dataset.schema, [])
