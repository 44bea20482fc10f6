{#- The billing period (YYYY-MM) before a period column, in SQL: the same on both engines (integer
    arithmetic on the text, no date functions). -#}
{% macro previous_billing_period(column) -%}
    case
        when cast(substr({{ column }}, 6, 2) as integer) = 1
            then cast(cast(substr({{ column }}, 1, 4) as integer) - 1 as varchar) || '-12'
        else substr({{ column }}, 1, 5) || lpad(cast(cast(substr({{ column }}, 6, 2) as integer) - 1 as varchar), 2, '0')
    end
{%- endmacro %}

{#- The same in Jinja, for a literal period (the window's first period minus one). -#}
{% macro billing_period_before(period) -%}
    {%- set year, month = period[:4] | int, period[5:7] | int -%}
    {%- set index = year * 12 + (month - 1) - 1 -%}
    {{- '%04d-%02d' | format(index // 12, index % 12 + 1) -}}
{%- endmacro %}
