{#- 'YYYY-MM' of a timestamp: the billing-period key used everywhere. -#}
{% macro year_month(ts) %}{{ return(adapter.dispatch('year_month', 'smcost')(ts)) }}{% endmacro %}

{% macro default__year_month(ts) %}date_format({{ ts }}, '%Y-%m'){% endmacro %}

{% macro duckdb__year_month(ts) %}strftime({{ ts }}, '%Y-%m'){% endmacro %}

{#- Hours between two timestamps, fractional. -#}
{% macro hours_between(start_ts, end_ts) %}
    {{- return(adapter.dispatch('hours_between', 'smcost')(start_ts, end_ts)) -}}
{% endmacro %}

{% macro default__hours_between(start_ts, end_ts) -%}
    cast(date_diff('millisecond', {{ start_ts }}, {{ end_ts }}) as double) / 3600000.0
{%- endmacro %}
