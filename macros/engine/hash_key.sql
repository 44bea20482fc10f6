{#- A stable hex key from several expressions (NULL-safe), like dbt_utils.generate_surrogate_key.
    Both engines produce the same key for the same values: the same text (hash_text), the same
    lowercase hex of the MD5 of its UTF-8 bytes (tests/python/test_engine_parity.py checks it). -#}
{% macro hash_key(expressions) %}{{ return(adapter.dispatch('hash_key', 'smcost')(expressions)) }}{% endmacro %}

{% macro _hash_input(expressions) -%}
    concat({% for e in expressions %}coalesce({{ hash_text(e) }}, '~null~'){% if not loop.last %}, '|', {% endif %}{% endfor %})
{%- endmacro %}

{% macro default__hash_key(expressions) %}lower(to_hex(md5(to_utf8({{ _hash_input(expressions) }})))){% endmacro %}

{% macro duckdb__hash_key(expressions) %}md5({{ _hash_input(expressions) }}){% endmacro %}

{#- A value as text for hashing. Athena's timestamps are timestamp(3), which Trino renders as
    'YYYY-MM-DD HH:MM:SS.mmm' — always with the milliseconds — whereas DuckDB's cast drops a zero
    fraction: DuckDB formats its timestamps the Trino way. Every other type used in keys (varchar,
    bigint, date, boolean) casts to the same text on both engines. typeof() is resolved when DuckDB
    binds the query; the round trip through varchar keeps the timestamp branch valid for any type. -#}
{% macro hash_text(expression) %}{{ return(adapter.dispatch('hash_text', 'smcost')(expression)) }}{% endmacro %}

{% macro default__hash_text(expression) %}cast({{ expression }} as varchar){% endmacro %}

{% macro duckdb__hash_text(expression) -%}
    case
        when typeof({{ expression }}) in ('TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS')
            then strftime(cast(cast({{ expression }} as varchar) as timestamp), '%Y-%m-%d %H:%M:%S.%g')
        else cast({{ expression }} as varchar)
    end
{%- endmacro %}
