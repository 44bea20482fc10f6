{#- An analyst rollup of fct_sagemaker_cost_allocations: costs and usage by the given dimensions at
    a daily or monthly grain. Every rollup is this one macro, so they all agree with the fact.
    A daily rollup reads the fact; a monthly one adds up `daily`, the ref of its daily twin (same
    dimensions), a fraction of the fact's rows: each charge lies on one day, so a month's sums and
    distinct charges are the sums of its days' (issue 15: the rollups each re-read the whole fact;
    tests/data/assert_monthly_rollups_match_allocations.sql checks them against the fact).
    Incremental by billing period like the fact: a run re-aggregates only the periods it rebuilt
    (Athena prunes the billing_period partitions), and billing_period comes last because it is the
    Athena table's partition column. -#}
{% macro cost_rollup(dimensions, grain, daily=none) %}
    {{ config(**billing_period_incremental_config()) }}
    {%- if grain not in ('daily', 'monthly') or (grain == 'monthly') == (daily is none) %}
        {{ exceptions.raise_compiler_error(
            "cost_rollup: grain 'daily', or grain 'monthly' with daily=ref(<its daily twin>)") }}
    {%- endif %}
    {%- set is_daily = grain == 'daily' %}
    with

    rows_to_add as (
        {%- if is_daily %}
        select
            cast(charge_period_start as date) as usage_date,
            billing_currency,
            {%- for dimension in dimensions %}
            {{ dimension }},
            {%- endfor %}
            billed_cost,
            effective_cost,
            list_cost,
            usage_hours,
            charge_id,
            billing_period
        from {{ ref('fct_sagemaker_cost_allocations') }}
        {%- else %}
        select * from {{ daily }}
        {%- endif %}
        {#- is_incremental() asks the warehouse, so it is skipped on an offline compile. #}
        {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
            where {{ in_billing_period_window('billing_period') }}
        {%- endif %}
    ),

    final as (
        select
            {%- if is_daily %}
            usage_date,
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
            {%- if is_daily %}
            count(distinct charge_id) as charge_count,
            {%- else %}
            cast(sum(charge_count) as bigint) as charge_count,
            {%- endif %}
            billing_period
        from rows_to_add
        group by
            {%- if is_daily %}
            usage_date,
            {%- endif %}
            billing_currency,
            {%- for dimension in dimensions %}
            {{ dimension }},
            {%- endfor %}
            billing_period
    )

    select * from final
{% endmacro %}
