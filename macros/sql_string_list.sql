{#- 'a', 'b', 'c' from a list of strings, for IN (...) lists built from vars. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}
