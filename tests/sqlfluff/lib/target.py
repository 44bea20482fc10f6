"""Stand-in for dbt's `target` under sqlfluff: lint the SQL Athena (the production engine) gets."""

type = "athena"  # noqa: A001 - mirrors dbt's attribute name
name = "athena"
schema = "smcost"
database = "awsdatacatalog"
