{#- For every billing period the growth mart explains, per dimension (team, model): its current
    costs add up to the allocation fact's total of that period, its previous costs to the total of
    the period before, and every period whose previous period is in the fact has rows (and none
    other does). So no team or model's dollars are lost or invented between two months, and a first
    month is never compared with nothing. Fails with each (period, currency, dimension) that differs. -#}
with

changes as (
    select
        billing_period,
        previous_billing_period,
        billing_currency,
        dimension,
        sum(cast(current_cost as {{ money_decimal() }})) as current_total,
        sum(cast(previous_cost as {{ money_decimal() }})) as previous_total
    from {{ ref('fct_sagemaker_cost_change_monthly') }}
    group by billing_period, previous_billing_period, billing_currency, dimension
),

allocations as (
    select
        billing_period,
        billing_currency,
        sum(cast(effective_cost as {{ money_decimal() }})) as total
    from {{ ref('fct_sagemaker_cost_allocations') }}
    group by billing_period, billing_currency
),

expected as (
    select
        current_period.billing_period,
        current_period.billing_currency,
        dimensions.dimension,
        current_period.total as current_total,
        previous_period.total as previous_total
    from allocations as current_period
    inner join allocations as previous_period
        on {{ previous_billing_period('current_period.billing_period') }} = previous_period.billing_period
            and current_period.billing_currency = previous_period.billing_currency
    cross join (select 'team' as dimension union all select 'model' as dimension) as dimensions
)

select
    coalesce(changes.billing_period, expected.billing_period) as billing_period,
    coalesce(changes.billing_currency, expected.billing_currency) as billing_currency,
    coalesce(changes.dimension, expected.dimension) as dimension,
    changes.current_total,
    expected.current_total as expected_current_total,
    changes.previous_total,
    expected.previous_total as expected_previous_total
from changes
full outer join expected
    on changes.billing_period = expected.billing_period
        and changes.billing_currency = expected.billing_currency
        and changes.dimension = expected.dimension
where changes.billing_period is null
    or expected.billing_period is null
    or abs(changes.current_total - expected.current_total) >= {{ money_tolerance('expected.current_total') }}
    or abs(changes.previous_total - expected.previous_total) >= {{ money_tolerance('expected.previous_total') }}
