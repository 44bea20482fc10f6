{#- An analyst rollup of fct_sagemaker_cost_allocations: costs and usage by the given dimensions at
    a daily or monthly grain. Every rollup is this one macro, so they all agree with the fact. -#}
{% macro cost_rollup(dimensions, grain) %}
    {%- set period = 'billing_period' if grain == 'monthly' else 'cast(charge_period_start as date)' -%}
    with

    allocations as (
        select * from {{ ref('fct_sagemaker_cost_allocations') }}
    ),

    final as (
        select
            {{ period }} as {{ 'billing_period' if grain == 'monthly' else 'usage_date' }},
            {%- if grain != 'monthly' %}
            billing_period,
            {%- endif %}
            billing_currency,
            {%- for dimension in dimensions %}
            {{ dimension }},
            {%- endfor %}
            sum(billed_cost) as billed_cost,
            sum(effective_cost) as effective_cost,
            sum(list_cost) as list_cost,
            sum(usage_hours) as usage_hours,
            count(distinct charge_id) as charge_count
        from allocations
        group by
            {{ period }},
            {%- if grain != 'monthly' %}
            billing_period,
            {%- endif %}
            billing_currency
            {%- for dimension in dimensions %},
            {{ dimension }}
            {%- endfor %}
    )

    select * from final
{% endmacro %}
