{#- Rows where the expression is false fail the test (dbt_utils.expression_is_true, rewritten: no Hub here). -#}
{% test expression_is_true(model, expression, where_clause=None) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {% if where_clause %}and ({{ where_clause }}){% endif %}
{% endtest %}
