{#- A stable hex key from several expressions (NULL-safe), like dbt_utils.generate_surrogate_key. -#}
{% macro hash_key(expressions) %}{{ return(adapter.dispatch('hash_key', 'smcost')(expressions)) }}{% endmacro %}

{% macro _hash_input(expressions) -%}
    concat({% for e in expressions %}coalesce(cast({{ e }} as varchar), '~null~'){% if not loop.last %}, '|', {% endif %}{% endfor %})
{%- endmacro %}

{% macro default__hash_key(expressions) %}lower(to_hex(md5(to_utf8({{ _hash_input(expressions) }})))){% endmacro %}

{% macro duckdb__hash_key(expressions) %}md5({{ _hash_input(expressions) }}){% endmacro %}
