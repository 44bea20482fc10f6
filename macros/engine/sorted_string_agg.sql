{#- The distinct values of a text column in a group, sorted and joined with a separator (a SQL
    string literal, quotes included): Athena
    array_join(array_sort(array_distinct(array_agg(x))), sep), DuckDB string_agg(distinct x, sep
    order by x). -#}
{% macro sorted_string_agg(column, separator) %}
    {{- return(adapter.dispatch('sorted_string_agg', 'smcost')(column, separator)) -}}
{% endmacro %}

{% macro default__sorted_string_agg(column, separator) -%}
    array_join(array_sort(array_distinct(array_agg({{ column }}))), {{ separator }})
{%- endmacro %}

{% macro duckdb__sorted_string_agg(column, separator) -%}
    string_agg(distinct {{ column }}, {{ separator }} order by {{ column }})
{%- endmacro %}
