{#- An analyst rollup of fct_sagemaker_cost_allocations: costs and usage by the given dimensions at
    a daily or monthly grain. Every rollup is this one macro, so they all agree with the fact.
    Incremental by billing period like the fact: a run re-aggregates only the periods it rebuilt
    (Athena prunes the fact's billing_period partitions), and billing_period comes last because
    it is the Athena table's partition column. -#}
{% macro cost_rollup(dimensions, grain) %}
    {{ config(**billing_period_incremental_config()) }}
    with

    allocations as (
        select * from {{ ref('fct_sagemaker_cost_allocations') }}
        {#- is_incremental() asks the warehouse, so it is skipped on an offline compile. #}
        {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
            where {{ in_billing_period_window('billing_period') }}
        {%- endif %}
    ),

    final as (
        select
            {%- if grain != 'monthly' %}
            cast(charge_period_start as date) as usage_date,
            {%- endif %}
            billing_currency,
            {%- for dimension in dimensions %}
            {{ dimension }},
            {%- endfor %}
            {#- Summed as exact decimals, then stored as double: the rollups agree with the fact to the
                cent however many millions of rows they add up, in whatever order. #}
            cast(sum(cast(billed_cost as {{ money_decimal() }})) as double) as billed_cost,
            cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
            cast(sum(cast(list_cost as {{ money_decimal() }})) as double) as list_cost,
            cast(sum(cast(usage_hours as {{ money_decimal() }})) as double) as usage_hours,
            count(distinct charge_id) as charge_count,
            billing_period
        from allocations
        group by
            {%- if grain != 'monthly' %}
            cast(charge_period_start as date),
            {%- endif %}
            billing_currency,
            {%- for dimension in dimensions %}
            {{ dimension }},
            {%- endfor %}
            billing_period
    )

    select * from final
{% endmacro %}
