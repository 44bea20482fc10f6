"""Stand-in for dbt's cross-database macros under sqlfluff's jinja templater."""


def safe_cast(field, type_):
    return f"try_cast({field} as {type_})"
