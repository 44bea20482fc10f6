{#- Tag coverage weighted by dollars: per billing period, currency, team (as attributed), resource
    type and canonical tag key, the effective cost whose key came from the bill (an activated
    cost-allocation tag), from the SageMaker API only (tagged, never activated for billing: a fix in
    the Billing console), was inferred (metadata link or rule) or is missing; the spend that carried
    all four keys in the bill; values outside seeds/tag_allowed_values.csv. Untaggable charges (tax,
    credits, Savings Plan fees and unused commitment, no resource id) are counted apart and stay out
    of the coverage ratios' denominator. For every key, taggable + untaggable cost of a period is the
    allocation fact's total (tests/data/assert_tag_coverage_reconciles_to_allocations.sql).
    Incremental by billing period, like the fact. -#}
{{ config(**billing_period_incremental_config()) }}
with

tag_keys as (
    select * from {{ ref('int_sagemaker_allocation_tag_keys') }}
),

summed as (
    select
        billing_currency,
        team,
        resource_type,
        tag_key,
        dimension,
        {%- for class in ['bill', 'api_only', 'inferred', 'missing', 'untaggable'] %}
            cast(
                coalesce(sum(case when coverage_class = '{{ class }}' then cast(effective_cost as {{ money_decimal() }}) end), 0)
                as double
            ) as {{ class }}_cost,
        {%- endfor %}
        cast(coalesce(sum(
            case when coverage_class = 'inferred' and confidence = 'high' then cast(effective_cost as {{ money_decimal() }}) end
        ), 0) as double) as inferred_high_confidence_cost,
        cast(coalesce(sum(
            case when coverage_class <> 'untaggable' then cast(effective_cost as {{ money_decimal() }}) end
        ), 0) as double) as taggable_cost,
        cast(coalesce(sum(
            case when coverage_class <> 'untaggable' and has_all_bill_tags then cast(effective_cost as {{ money_decimal() }}) end
        ), 0) as double) as all_bill_tags_cost,
        cast(coalesce(sum(
            case when coverage_class <> 'untaggable' and is_disallowed_value then cast(effective_cost as {{ money_decimal() }}) end
        ), 0) as double) as disallowed_value_cost,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        count(distinct case when coverage_class <> 'untaggable' then resource_arn end) as resource_count,
        count(distinct charge_id) as charge_count,
        billing_period
    from tag_keys
    group by billing_period, billing_currency, team, resource_type, tag_key, dimension
),

final as (
    select
        billing_currency,
        team,
        resource_type,
        tag_key,
        dimension,
        bill_cost as bill_tag_cost,
        api_only_cost as api_tag_only_cost,
        inferred_cost,
        inferred_high_confidence_cost,
        missing_cost,
        taggable_cost,
        untaggable_cost,
        effective_cost,
        all_bill_tags_cost,
        disallowed_value_cost,
        bill_cost / nullif(taggable_cost, 0) as bill_tag_coverage,
        (bill_cost + api_only_cost) / nullif(taggable_cost, 0) as tagged_coverage,
        all_bill_tags_cost / nullif(taggable_cost, 0) as all_bill_tags_coverage,
        resource_count,
        charge_count,
        billing_period
    from summed
)

select * from final
