{#- dbt's default safe_cast is a plain cast on DuckDB (it raises on bad values); Athena's is try_cast.
    Bad values must become NULL on both engines, so tests can count them. -#}
{% macro duckdb__safe_cast(field, type) %}try_cast({{ field }} as {{ type }}){% endmacro %}
