"""Stand-in for dbt's `exceptions` under sqlfluff: a config error renders as a neutral identifier."""


def raise_compiler_error(message):
    return "unconfigured"
