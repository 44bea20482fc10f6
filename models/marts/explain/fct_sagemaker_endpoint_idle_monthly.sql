{#- Idle, forgotten and over-provisioned real-time endpoints: per billing period, endpoint, variant
    and instance type, the instance cost of fct_sagemaker_endpoint_hours split into idle, unknown and
    used, and
      is_forgotten         a single-model endpoint still running at the end of the period that has
                           had no invocation for var('forgotten_endpoint_days') days or more (counted
                           from its last invocation, or from when it was first metered or created,
                           whichever is later: idleness is claimed only while someone measured);
      is_over_provisioned  every utilisation it reports (CPU per vCPU, GPU per GPU, memory) peaked
                           under var('over_provisioned_peak_percent') all period (GPU memory
                           per GPU too), and a smaller size
                           of its family exists: rightsizing_saving is what that size would have
                           saved on its used (non-idle) hours, at the list-price ratio of the two sizes
                           (seeds/sagemaker_instance_prices.csv; us-east-1's when the region has none).
    An endpoint without any metric is 'unknown': never idle, forgotten or over-provisioned.
    Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

endpoint_hours as (
    select * from {{ ref('fct_sagemaker_endpoint_hours') }}
    {{ where_in_billing_period_window() }}
),

invocations as (
    select * from {{ ref('stg_sagemaker__endpoint_invocations') }}
    where metric_dimension = 'variant'
),

utilization as (
    select * from {{ ref('stg_sagemaker__endpoint_utilization') }}
),

endpoints as (
    select * from {{ ref('stg_sagemaker__endpoints') }}
),

capacity as (
    select * from {{ ref('instance_type_capacity') }}
),

prices as (
    select * from {{ ref('sagemaker_instance_prices') }}
),

-- The last instant the bill covers in each period (the open month ends where the export does).
period_ends as (
    select
        billing_period,
        max(hour_end_at) as period_data_end_at
    from endpoint_hours
    group by billing_period
),

monthly as (
    select
        billing_period,
        billing_currency,
        endpoint_arn,
        coalesce(variant_name, 'unknown') as variant_name,
        coalesce(instance_type, 'unknown') as instance_type,
        min(sub_account_id) as sub_account_id,
        min(region_id) as region_id,
        min(endpoint_name) as endpoint_name,
        min(endpoint_mode) as endpoint_mode,
        case when count(distinct team) = 1 then min(team) else 'shared' end as team,
        case when count(distinct model) = 1 then min(model) else 'shared' end as model,
        case when count(distinct environment) = 1 then min(environment) else 'shared' end as environment,
        sum(instance_hours) as instance_hours,
        cast(sum(cast(billed_cost as {{ money_decimal() }})) as double) as billed_cost,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        cast(sum(cast(idle_cost as {{ money_decimal() }})) as double) as idle_cost,
        cast(sum(cast(unknown_cost as {{ money_decimal() }})) as double) as unknown_cost,
        sum(invocations) as invocations,
        sum(metered_hours) as metered_hours,
        sum({{ hours_between('hour_start_at', 'hour_end_at') }}) as charge_hours,
        max(cpu_peak_percent) as cpu_peak_percent,
        max(gpu_peak_percent) as gpu_peak_percent,
        max(memory_peak_percent) as memory_peak_percent,
        max(gpu_memory_peak_percent) as gpu_memory_peak_percent,
        min(hour_start_at) as first_billed_at,
        max(hour_end_at) as last_billed_at
    from endpoint_hours
    group by billing_period, billing_currency, endpoint_arn, variant_name, instance_type
),

-- The end of the last invoked hour of each endpoint per day (a day at a time, so the lookup below
-- pairs an endpoint's months with its days, not with every hour of its history).
invoked_days as (
    select
        account_id,
        region,
        lower(endpoint_name) as endpoint_name_lower,
        cast(metric_hour_at as date) as invoked_on,
        max(metric_hour_at) as last_invoked_hour_at
    from invocations
    where invocations > 0
    group by account_id, region, lower(endpoint_name), cast(metric_hour_at as date)
),

first_metered as (
    select
        account_id,
        region,
        endpoint_name_lower,
        min(metric_hour_at) as first_metered_at
    from (
        select
            account_id,
            region,
            lower(endpoint_name) as endpoint_name_lower,
            metric_hour_at
        from invocations
        union all
        select
            account_id,
            region,
            lower(endpoint_name) as endpoint_name_lower,
            metric_hour_at
        from utilization
    ) as metered
    group by account_id, region, endpoint_name_lower
),

-- One row of `monthly` each: an endpoint name reused by another incarnation in the same period is
-- another row, with its own last billed hour.
endpoint_keys as (
    select
        billing_period,
        billing_currency,
        endpoint_arn,
        variant_name,
        instance_type,
        {{ arn_account_id('endpoint_arn') }} as account_id,
        {{ arn_region('endpoint_arn') }} as region,
        endpoint_name,
        last_billed_at
    from monthly
),

last_invocations as (
    select
        endpoint_keys.billing_period,
        endpoint_keys.billing_currency,
        endpoint_keys.endpoint_arn,
        endpoint_keys.variant_name,
        endpoint_keys.instance_type,
        max(invoked_days.last_invoked_hour_at) as last_invoked_hour_at
    from endpoint_keys
    inner join invoked_days
        on endpoint_keys.account_id = invoked_days.account_id
            and endpoint_keys.region = invoked_days.region
            and endpoint_keys.endpoint_name = invoked_days.endpoint_name_lower
            and invoked_days.invoked_on <= cast(endpoint_keys.last_billed_at as date)
            and endpoint_keys.last_billed_at > invoked_days.last_invoked_hour_at
    group by
        endpoint_keys.billing_period,
        endpoint_keys.billing_currency,
        endpoint_keys.endpoint_arn,
        endpoint_keys.variant_name,
        endpoint_keys.instance_type
),

-- The incarnation billed last in the period (a name can be reused: the latest created before then).
creations as (
    select
        endpoint_keys.billing_period,
        endpoint_keys.billing_currency,
        endpoint_keys.endpoint_arn,
        endpoint_keys.variant_name,
        endpoint_keys.instance_type,
        max(endpoints.endpoint_created_at) as created_at
    from endpoint_keys
    inner join endpoints
        on endpoint_keys.account_id = endpoints.account_id
            and endpoint_keys.region = endpoints.region
            and endpoint_keys.endpoint_name = endpoints.endpoint_name_lower
            and endpoint_keys.last_billed_at > endpoints.endpoint_created_at
    group by
        endpoint_keys.billing_period,
        endpoint_keys.billing_currency,
        endpoint_keys.endpoint_arn,
        endpoint_keys.variant_name,
        endpoint_keys.instance_type
),

price_regions as (
    select distinct region from prices
),

-- The next size down: same family (ml.<family>.<size>), the most vCPUs below this size's.
smaller_sizes as (
    select
        larger.instance_type,
        smaller.instance_type as smaller_instance_type,
        row_number() over (
            partition by larger.instance_type order by smaller.vcpus desc, smaller.instance_type asc
        ) as size_rank
    from capacity as larger
    inner join capacity as smaller
        on split_part(larger.instance_type, '.', 2) = split_part(smaller.instance_type, '.', 2)
            and larger.vcpus > smaller.vcpus
            and (smaller.accelerators > 0) = (larger.accelerators > 0)
),

price_ratios as (
    select
        smaller_sizes.instance_type,
        smaller_sizes.smaller_instance_type,
        regions.region,
        coalesce(smaller_here.usd_per_hour, smaller_default.usd_per_hour)
        / nullif(coalesce(larger_here.usd_per_hour, larger_default.usd_per_hour), 0) as price_ratio
    from smaller_sizes
    cross join price_regions as regions
    left join prices as larger_here
        on smaller_sizes.instance_type = larger_here.instance_type and regions.region = larger_here.region
    left join prices as smaller_here
        on smaller_sizes.smaller_instance_type = smaller_here.instance_type and regions.region = smaller_here.region
    left join prices as larger_default
        on smaller_sizes.instance_type = larger_default.instance_type and larger_default.region = 'us-east-1'
    left join prices as smaller_default
        on smaller_sizes.smaller_instance_type = smaller_default.instance_type and smaller_default.region = 'us-east-1'
    where smaller_sizes.size_rank = 1
),

default_price_ratios as (
    select * from price_ratios
    where region = 'us-east-1'
),

joined as (
    select
        monthly.*,
        period_ends.period_data_end_at,
        creations.created_at,
        last_invocations.last_invoked_hour_at,
        first_metered.first_metered_at,
        coalesce(price_ratios.smaller_instance_type, default_price_ratios.smaller_instance_type)
            as smaller_instance_type,
        coalesce(price_ratios.price_ratio, default_price_ratios.price_ratio) as price_ratio,
        coalesce(
            last_invocations.last_invoked_hour_at + interval '1' hour,
            greatest(first_metered.first_metered_at, coalesce(creations.created_at, first_metered.first_metered_at))
        ) as idle_since_at,
        case
            -- Shared endpoints' idle is their usage split's __idle__ (reservations need no metric).
            when monthly.endpoint_mode in ('multi_model', 'inference_components') then 'split_by_allocation'
            when monthly.metered_hours = 0 then 'unknown'
            when monthly.metered_hours < round(monthly.charge_hours) then 'partially_metered'
            else 'metered'
        end as activity_status
    from monthly
    inner join period_ends
        on monthly.billing_period = period_ends.billing_period
    left join creations
        on monthly.billing_period = creations.billing_period
            and monthly.billing_currency = creations.billing_currency
            and monthly.endpoint_arn = creations.endpoint_arn
            and monthly.variant_name = creations.variant_name
            and monthly.instance_type = creations.instance_type
    left join last_invocations
        on monthly.billing_period = last_invocations.billing_period
            and monthly.billing_currency = last_invocations.billing_currency
            and monthly.endpoint_arn = last_invocations.endpoint_arn
            and monthly.variant_name = last_invocations.variant_name
            and monthly.instance_type = last_invocations.instance_type
    left join first_metered
        on {{ arn_account_id('monthly.endpoint_arn') }} = first_metered.account_id
            and {{ arn_region('monthly.endpoint_arn') }} = first_metered.region
            and monthly.endpoint_name = first_metered.endpoint_name_lower
    left join price_ratios
        on monthly.instance_type = price_ratios.instance_type
            and monthly.region_id = price_ratios.region
    left join default_price_ratios
        on monthly.instance_type = default_price_ratios.instance_type
),

assessed as (
    select
        *,
        {{ hours_between('last_billed_at', 'period_data_end_at') }} <= 1 as is_running_at_period_end,
        case
            when activity_status <> 'unknown' and endpoint_mode = 'single_model'
                then {{ hours_between('idle_since_at', 'last_billed_at') }} / 24.0
        end as idle_days,
        activity_status <> 'unknown'
        and smaller_instance_type is not null
        and cpu_peak_percent < {{ var('over_provisioned_peak_percent') }}
        and coalesce(gpu_peak_percent, 0) < {{ var('over_provisioned_peak_percent') }}
        and coalesce(memory_peak_percent, 0) < {{ var('over_provisioned_peak_percent') }}
        and coalesce(gpu_memory_peak_percent, 0) < {{ var('over_provisioned_peak_percent') }} as is_over_provisioned
    from joined
),

final as (
    select
        billing_currency,
        endpoint_arn,
        endpoint_name,
        variant_name,
        instance_type,
        endpoint_mode,
        sub_account_id,
        region_id,
        team,
        model,
        environment,
        activity_status,
        instance_hours,
        billed_cost,
        effective_cost,
        invocations,
        idle_cost,
        unknown_cost,
        idle_cost / nullif(effective_cost, 0) as idle_share,
        least(metered_hours / nullif(charge_hours, 0), 1.0) as metric_coverage,
        created_at,
        {{ hours_between('created_at', 'last_billed_at') }} / 24.0 as age_days,
        last_invoked_hour_at + interval '1' hour as last_invoked_at,
        idle_days,
        is_running_at_period_end,
        coalesce(is_running_at_period_end and idle_days >= {{ var('forgotten_endpoint_days') }}, false)
            as is_forgotten,
        cpu_peak_percent,
        gpu_peak_percent,
        gpu_memory_peak_percent,
        memory_peak_percent,
        coalesce(is_over_provisioned, false) as is_over_provisioned,
        case when is_over_provisioned then smaller_instance_type end as next_smaller_instance_type,
        case
            when is_over_provisioned then (effective_cost - idle_cost) * (1 - price_ratio) else 0
        end as rightsizing_saving,
        first_billed_at,
        last_billed_at,
        billing_period
    from assessed
)

select * from final
