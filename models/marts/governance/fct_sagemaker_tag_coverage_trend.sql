{#- The coverage trend a platform team watches: fct_sagemaker_tag_coverage_monthly summed over
    teams and resource types, one row per billing period, currency and tag key, so month over month
    shows whether tagging improves. Ratios are recomputed from the summed costs (untaggable charges
    stay out of the denominator). Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

coverage as (
    select * from {{ ref('fct_sagemaker_tag_coverage_monthly') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window('billing_period') }}
    {%- endif %}
),

summed as (
    select
        billing_currency,
        tag_key,
        dimension,
        {%- for column in ['bill_tag_cost', 'api_tag_only_cost', 'inferred_cost', 'inferred_high_confidence_cost',
            'missing_cost', 'taggable_cost', 'untaggable_cost', 'effective_cost', 'all_bill_tags_cost',
            'disallowed_value_cost'] %}
            cast(sum(cast({{ column }} as {{ money_decimal() }})) as double) as {{ column }},
        {%- endfor %}
        billing_period
    from coverage
    group by billing_period, billing_currency, tag_key, dimension
),

final as (
    select
        billing_currency,
        tag_key,
        dimension,
        bill_tag_cost,
        api_tag_only_cost,
        inferred_cost,
        inferred_high_confidence_cost,
        missing_cost,
        taggable_cost,
        untaggable_cost,
        effective_cost,
        all_bill_tags_cost,
        disallowed_value_cost,
        bill_tag_cost / nullif(taggable_cost, 0) as bill_tag_coverage,
        (bill_tag_cost + api_tag_only_cost) / nullif(taggable_cost, 0) as tagged_coverage,
        all_bill_tags_cost / nullif(taggable_cost, 0) as all_bill_tags_coverage,
        billing_period
    from summed
)

select * from final
