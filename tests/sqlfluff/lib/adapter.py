"""Stand-in for dbt's `adapter` when sqlfluff renders models with its jinja templater (offline).

`adapter.dispatch(name)` returns a function that renders a neutral SQL expression of the right
shape, so the model around it can be linted for the athena dialect without a dbt runtime.
"""

RELATIONS = {"focus_source": "focus_export"}
STATEMENTS = {"unnest_map": "select {1}, 'k' as tag_key, 'v' as tag_value from {0}"}


def dispatch(name, macro_namespace=None):
    def render(*args, **kwargs):
        if name in RELATIONS:
            return RELATIONS[name]
        if name in STATEMENTS:
            return STATEMENTS[name].format(*args)
        return f"{name}({', '.join(str(a) for a in args)})"

    return render
