"""Stand-in for dbt's `run_started_at` under sqlfluff."""


def strftime(fmt):
    return "2026-10"
