{#- dbt_utils.expression_is_true, with its name, signature and SQL (dbt-labs/dbt-utils,
    macros/generic_tests/expression_is_true.sql, Apache-2.0), dispatched in this project's namespace
    because the dbt Hub is out of reach here; installing dbt_utils later is one line in packages.yml
    plus deleting this file. Rows where the expression is false fail; with column_name, the
    expression is applied to that column ('>= 0'). Restrict the rows with `config: where:`. -#}
{% test expression_is_true(model, expression, column_name=None) %}
    {{ return(adapter.dispatch('test_expression_is_true', 'smcost')(model, expression, column_name)) }}
{% endtest %}

{% macro default__test_expression_is_true(model, expression, column_name) %}
    {%- set column_list = '*' if should_store_failures() else '1' %}

    select {{ column_list }}
    from {{ model }}
    {%- if column_name is none %}
    where not ({{ expression }})
    {%- else %}
    where not ({{ column_name }} {{ expression }})
    {%- endif %}
{% endmacro %}
