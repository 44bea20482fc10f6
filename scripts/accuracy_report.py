#!/usr/bin/env python3
"""Attribution accuracy per dimension on the demo: the share of knowable effective cost each of
model, team, experiment and environment puts on the ground truth's value (prints figures).

Not a test (tests/python/test_attribution_accuracy.py asserts the model-and-team figure); this is
the table an issue's closing note quotes, "before and after". A charge's truth is matched per
dimension on the bill's own keys (period, account, resource, hour, usage type, charge category and
class, pricing category), so a split charge counts each share where it went.

    .venv/bin/python scripts/accuracy_report.py --database data/smcost.duckdb --lake data/lake [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb

KEY = [
    "billing_period",
    "sub_account_id",
    "resource_id",
    "charge_period_start",
    "usage_type",
    "charge_category",
    "charge_class",
    "pricing_category",
]
DIMENSIONS = ("model", "team", "experiment", "environment")


def dimension_accuracy(database: Path, lake: Path) -> dict[str, dict[str, float]]:
    """Knowable cost and the part of it on the true value, per dimension."""
    with duckdb.connect(str(database), read_only=True) as con:
        truth_files = (lake / "demo" / "ground_truth").as_posix().replace("'", "''") + "/*.parquet"
        con.execute(
            f"create temp view truth as select * from read_parquet('{truth_files}') "
            "where service_code in ('AmazonSageMaker', 'MachineLearningSavingsPlans')"
        )
        join = " and ".join(f"t.{k} is not distinct from a.{k}" for k in KEY)
        figures = {}
        for dimension in DIMENSIONS:
            knowable, matched = con.execute(f"""
                with allocations as (
                    select a.billing_period, a.sub_account_id, a.resource_arn as resource_id,
                           a.charge_period_start, a.usage_type, a.charge_category, a.charge_class,
                           c.pricing_category, a.{dimension} as value, sum(a.effective_cost) as effective_cost
                    from fct_sagemaker_cost_allocations as a
                    inner join stg_focus__charges as c on a.charge_id = c.charge_id
                    group by all
                ),
                truth_rows as (
                    select {", ".join(KEY)}, coalesce({dimension}, 'unattributed') as value,
                           sum(effective_cost) as effective_cost
                    from truth
                    where is_knowable
                    group by all
                    having sum(effective_cost) > 0
                )
                select sum(t.effective_cost), sum(least(t.effective_cost, coalesce(a.effective_cost, 0)))
                from truth_rows as t
                left join allocations as a on {join} and t.value = a.value
            """).fetchone()
            figures[dimension] = {"knowable": knowable, "matched": matched, "accuracy": matched / knowable}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, default=Path("data/smcost.duckdb"))
    parser.add_argument("--lake", type=Path, default=Path("data/lake"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    figures = dimension_accuracy(args.database, args.lake)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{'dimension':<12} {'knowable cost':>15} {'on the true value':>18} {'accuracy':>9}")
    for dimension, f in figures.items():
        print(f"{dimension:<12} {f['knowable']:>15,.2f} {f['matched']:>18,.2f} {f['accuracy']:>9.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
