{#- For every canonical tag key and billing period the coverage mart holds, taggable + untaggable
    cost is the allocation fact's effective cost (within money_tolerance): the coverage mart loses and
    invents no dollar, whatever the key's class. Fails with each (period, currency, key) that differs. -#}
with

coverage as (
    select
        billing_period,
        billing_currency,
        tag_key,
        sum(cast(taggable_cost as {{ money_decimal() }}) + cast(untaggable_cost as {{ money_decimal() }})) as total
    from {{ ref('fct_sagemaker_tag_coverage_monthly') }}
    group by billing_period, billing_currency, tag_key
),

allocations as (
    select
        billing_period,
        billing_currency,
        sum(cast(effective_cost as {{ money_decimal() }})) as total
    from {{ ref('fct_sagemaker_cost_allocations') }}
    group by billing_period, billing_currency
),

tag_keys as (
    {%- for dimension in ['team', 'model', 'experiment', 'environment'] %}
    select '{{ var("tag_keys")[dimension] }}' as tag_key
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

expected as (
    select
        allocations.billing_period,
        allocations.billing_currency,
        tag_keys.tag_key,
        allocations.total
    from allocations
    cross join tag_keys
)

select
    coalesce(expected.billing_period, coverage.billing_period) as billing_period,
    coalesce(expected.billing_currency, coverage.billing_currency) as billing_currency,
    coalesce(expected.tag_key, coverage.tag_key) as tag_key,
    expected.total as allocated_total,
    coverage.total as coverage_total
from expected
full outer join coverage
    on expected.billing_period = coverage.billing_period
        and expected.billing_currency is not distinct from coverage.billing_currency
        and expected.tag_key = coverage.tag_key
where abs(coalesce(expected.total, 0) - coalesce(coverage.total, 0))
    >= {{ money_tolerance('coalesce(expected.total, coverage.total)') }}
