{#- Why the bill grew: for each billing period against the one before, per team and per model, the
    change in effective cost, what kind of change it is (new: nothing last month; ended: nothing this
    month; grew; shrank; unchanged) and the change decomposed by driver. The drivers add up to
    cost_change exactly (a test):
      idle_change          idle endpoint spend (fct_sagemaker_endpoint_hours.idle_cost: idle hours of
                           single-model endpoints, the __idle__ of shared ones);
      volume_change        more or fewer instance hours, at last month's average rate per hour;
      mix_change           a different blend of usage kinds and instance types (on-demand or spot
                           training, hosting, ... on each type), at last month's rate per kind and
                           type (one new this month enters at its own rate);
      price_change         list price per hour of the same instance type (a region, a price change);
      savings_plan_change  the discount per hour of the same usage kind and type (Savings Plan
                           coverage), i.e. effective minus list rate, changed;
      other_change         what is not billed by the instance hour: storage, data, serverless
                           seconds, credits, tax, the plan's unused commitment.
    Volume, mix, price and plan are measured per usage kind and instance type ("type" below) on
    the non-idle hourly charges:
      with H = hours, R = effective rate, L = list rate, 0/1 = last/this month, R0' = R0 of the type
      (R1 for a new type), Rbar0 = last month's cost / hours over all types:
        volume = (H1 - H0) x Rbar0     mix = sum H1 x R0' - H1 x Rbar0
        price  = sum H1 x (L1 - L0')   plan = sum H1 x ((R1 - L1) - (R0' - L0'))
    (a team with no instance hours last month has all of its hourly cost as volume).
    A period whose previous period is not in the bill has no rows (not zeros). Currencies are never
    mixed. Incremental by billing period: a run rewrites the periods in its window, reading the
    period before the first of them too. -#}
{{ config(**billing_period_incremental_config()) }}
{%- set window_from = billing_period_from() %}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where billing_period >= '{{ billing_period_before(window_from) }}'
    {%- endif %}
),

all_endpoint_hours as (
    select * from {{ ref('fct_sagemaker_endpoint_hours') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where billing_period >= '{{ billing_period_before(window_from) }}'
    {%- endif %}
),

endpoint_hours as (
    select * from all_endpoint_hours
    where idle_cost <> 0
),

-- Idle dollars per charge and owner: a single-model hour is idle whole; a shared one's __idle__ only.
idle_charges as (
    select
        allocations.allocation_id,
        case
            when endpoint_hours.idle_basis = 'no_invocations' then allocations.effective_cost
            when allocations.model = '__idle__' then allocations.effective_cost
            else 0
        end as idle_cost
    from allocations
    inner join endpoint_hours
        on allocations.charge_id = endpoint_hours.charge_id
),

classified as (
    select
        allocations.billing_period,
        allocations.billing_currency,
        allocations.team,
        allocations.model,
        -- What an hour is priced by: the kind of usage and the instance type (a training hour and a
        -- hosting hour of one type have different prices; moving to spot is a change of mix).
        allocations.sagemaker_category || ':' || coalesce(allocations.instance_type, 'none') as instance_type,
        cast(allocations.effective_cost as {{ money_decimal() }}) as effective_cost,
        cast(allocations.list_cost as {{ money_decimal() }}) as list_cost,
        cast(coalesce(idle_charges.idle_cost, 0) as {{ money_decimal() }}) as idle_cost,
        case
            when coalesce(idle_charges.idle_cost, 0) = 0
                and allocations.usage_hours > 0
                and allocations.instance_type is not null
                then allocations.usage_hours
            else 0
        end as hourly_usage_hours
    from allocations
    left join idle_charges
        on allocations.allocation_id = idle_charges.allocation_id
),

{%- for dimension in ['team', 'model'] %}

    by_{{ dimension }}_type as (
        select
            billing_period,
            billing_currency,
            '{{ dimension }}' as dimension,
            {{ dimension }} as dimension_value,
            case when count(distinct team) = 1 then min(team) else 'several' end as team,
            instance_type,
            sum(effective_cost) as effective_cost,
            sum(idle_cost) as idle_cost,
            sum(case when hourly_usage_hours > 0 then effective_cost else 0 end) as hourly_cost,
            sum(case when hourly_usage_hours > 0 then list_cost else 0 end) as hourly_list_cost,
            sum(hourly_usage_hours) as hours
        from classified
        group by billing_period, billing_currency, {{ dimension }}, instance_type
    ),
{%- endfor %}

by_type as (
    select * from by_team_type
    union all
    select * from by_model_type
),

periods as (
    select distinct
        billing_period,
        {{ previous_billing_period('billing_period') }} as previous_billing_period
    from allocations
),

-- Each period that has a previous period in the bill, with every (dimension value, type) seen in
-- either month.
compared_periods as (
    select periods.*
    from periods
    inner join periods as previous
        on periods.previous_billing_period = previous.billing_period
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where periods.billing_period >= '{{ window_from }}'
    {%- endif %}
),

pairs as (
    select distinct
        compared_periods.billing_period,
        compared_periods.previous_billing_period,
        by_type.billing_currency,
        by_type.dimension,
        by_type.dimension_value,
        by_type.instance_type
    from compared_periods
    inner join by_type
        on by_type.billing_period in (compared_periods.billing_period, compared_periods.previous_billing_period)
),

typed as (
    select
        pairs.*,
        coalesce(cur.team, prev.team) as team,
        coalesce(prev.effective_cost, 0) as cost_0,
        coalesce(cur.effective_cost, 0) as cost_1,
        coalesce(prev.idle_cost, 0) as idle_0,
        coalesce(cur.idle_cost, 0) as idle_1,
        coalesce(prev.hourly_cost, 0) as hourly_0,
        coalesce(cur.hourly_cost, 0) as hourly_1,
        coalesce(prev.hours, 0) as hours_0,
        coalesce(cur.hours, 0) as hours_1,
        -- This type's rates last month, or this month's for a type new this month.
        case
            when coalesce(prev.hours, 0) > 0 then prev.hourly_cost / prev.hours
            when coalesce(cur.hours, 0) > 0 then cur.hourly_cost / cur.hours
            else 0
        end as rate_0,
        case when coalesce(cur.hours, 0) > 0 then cur.hourly_cost / cur.hours else 0 end as rate_1,
        case
            when coalesce(prev.hours, 0) > 0 then prev.hourly_list_cost / prev.hours
            when coalesce(cur.hours, 0) > 0 then cur.hourly_list_cost / cur.hours
            else 0
        end as list_rate_0,
        case when coalesce(cur.hours, 0) > 0 then cur.hourly_list_cost / cur.hours else 0 end as list_rate_1
    from pairs
    left join by_type as prev
        on pairs.previous_billing_period = prev.billing_period
            and pairs.billing_currency = prev.billing_currency
            and pairs.dimension = prev.dimension
            and pairs.dimension_value = prev.dimension_value
            and pairs.instance_type = prev.instance_type
    left join by_type as cur
        on pairs.billing_period = cur.billing_period
            and pairs.billing_currency = cur.billing_currency
            and pairs.dimension = cur.dimension
            and pairs.dimension_value = cur.dimension_value
            and pairs.instance_type = cur.instance_type
),

totals as (
    select
        billing_period,
        previous_billing_period,
        billing_currency,
        dimension,
        dimension_value,
        case when count(distinct team) = 1 then min(team) else 'several' end as team,
        sum(cost_0) as previous_cost,
        sum(cost_1) as current_cost,
        sum(idle_1) - sum(idle_0) as idle_change,
        sum(hourly_0) as hourly_0,
        sum(hourly_1) as hourly_1,
        sum(hours_0) as hours_0,
        sum(hours_1) as hours_1,
        sum(hours_1 * rate_0) as hours_1_at_rate_0,
        sum(hours_1 * (list_rate_1 - list_rate_0)) as price_change,
        sum(hours_1 * ((rate_1 - list_rate_1) - (rate_0 - list_rate_0))) as savings_plan_change,
        -- Whether the dimension value had any charge at all in either month (not just cost <> 0).
        count(case when cost_0 <> 0 or hours_0 > 0 then 1 end) > 0 as existed_before,
        count(case when cost_1 <> 0 or hours_1 > 0 then 1 end) > 0 as exists_now
    from typed
    group by billing_period, previous_billing_period, billing_currency, dimension, dimension_value
),

decomposed as (
    select
        *,
        current_cost - previous_cost as cost_change,
        case
            when hours_0 > 0 then (hours_1 - hours_0) * (hourly_0 / hours_0)
            else hourly_1 - hourly_0
        end as volume_change,
        case
            when hours_0 > 0 then hours_1_at_rate_0 - hours_1 * (hourly_0 / hours_0)
            else 0
        end as mix_change_raw
    from totals
),

final as (
    select
        {{ hash_key(['billing_period', 'billing_currency', 'dimension', 'dimension_value']) }} as cost_change_id,
        previous_billing_period,
        billing_currency,
        dimension,
        dimension_value,
        team,
        case
            when not existed_before then 'new'
            when not exists_now then 'ended'
            when current_cost > previous_cost then 'grew'
            when current_cost < previous_cost then 'shrank'
            else 'unchanged'
        end as change_type,
        cast(previous_cost as double) as previous_cost,
        cast(current_cost as double) as current_cost,
        cast(cost_change as double) as cost_change,
        cast(volume_change as double) as volume_change,
        cast(case when hours_0 > 0 then mix_change_raw else 0 end as double) as mix_change,
        cast(case when hours_0 > 0 then price_change else 0 end as double) as price_change,
        cast(case when hours_0 > 0 then savings_plan_change else 0 end as double) as savings_plan_change,
        cast(idle_change as double) as idle_change,
        -- Everything not billed by the instance hour: the cost outside idle and hourly charges.
        cast(cost_change - idle_change - (hourly_1 - hourly_0) as double) as other_change,
        cast(hours_0 as double) as previous_instance_hours,
        cast(hours_1 as double) as current_instance_hours,
        billing_period
    from decomposed
)

select * from final
