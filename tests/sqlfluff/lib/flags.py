"""Stand-in for dbt's `flags` under sqlfluff: an offline compile, not a full refresh."""

FULL_REFRESH = False
WHICH = "compile"
