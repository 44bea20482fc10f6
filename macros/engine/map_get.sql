{#- Value of key k in map m, NULL when absent. Athena's m[k] throws on a missing key, and DuckDB's
    element_at returns a list, so neither spelling is portable. -#}
{% macro map_get(m, k) %}{{ return(adapter.dispatch('map_get', 'smcost')(m, k)) }}{% endmacro %}

{% macro default__map_get(m, k) %}element_at({{ m }}, {{ k }}){% endmacro %}

{% macro duckdb__map_get(m, k) %}map_extract_value({{ m }}, {{ k }}){% endmacro %}
