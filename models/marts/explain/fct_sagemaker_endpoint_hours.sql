{#- Was anyone using it? Every billed instance charge of a real-time endpoint (usage type Host:, one
    row per bill row: an hour in an hourly export) beside what CloudWatch saw in those hours: the
    variant's Invocations and its utilisation. The variant is the one of the endpoint config in force
    whose instance type the charge bills (several variants of one type share one bill row).
      activity_status  invoked  some invocations in the charge's hours;
                       idle     metered (utilisation or an invocation count landed) and no invocation;
                       unknown  no metric at all: never idle — an endpoint whose metrics were not
                                landed must not read as waste.
      idle_cost        single-model endpoints: the whole charge when idle; shared endpoints (multi-
                       model, inference components): their `__idle__` allocation (hours without
                       traffic, unreserved capacity), exactly as fct_sagemaker_cost_allocations has it.
    Owners come from the allocation fact (one place decides them). Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

charges as (
    select * from {{ ref('int_sagemaker_charges_joined_to_resources') }}
    where resource_type = 'endpoint'
        and sagemaker_category = 'endpoint_instance'
),

all_allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {{ where_in_billing_period_window() }}
),

allocations as (
    select * from all_allocations
    where resource_type = 'endpoint'
        and sagemaker_category = 'endpoint_instance'
),

endpoint_configs as (
    select * from {{ ref('stg_sagemaker__endpoint_configs') }}
),

invocations as (
    select * from {{ ref('stg_sagemaker__endpoint_invocations') }}
    where metric_dimension = 'variant'
),

utilization as (
    select * from {{ ref('stg_sagemaker__endpoint_utilization') }}
),

capacity as (
    select * from {{ ref('instance_type_capacity') }}
),

-- One row per charge: its owners as the allocation fact resolved them. A shared endpoint's charge
-- has several models; its team is the one that owns the endpoint (the team of its __idle__).
charge_owners as (
    select
        charge_id,
        case when count(distinct model) = 1 then min(model) else 'shared' end as model,
        coalesce(
            min(case when model = '__idle__' then team end),
            case when count(distinct team) = 1 then min(team) else 'shared' end
        ) as team,
        case when count(distinct environment) = 1 then min(environment) else 'shared' end as environment,
        sum(case when model = '__idle__' then effective_cost else 0 end) as idle_allocation_cost
    from allocations
    group by charge_id
),

config_variants as (
    select
        account_id,
        region,
        endpoint_config_name_lower,
        instance_type,
        variant_name
    from endpoint_configs
    where instance_type is not null
),

-- A metric hour of a variant: its invocations and utilisation side by side.
variant_hours as (
    select
        coalesce(invocations.account_id, utilization.account_id) as account_id,
        coalesce(invocations.region, utilization.region) as region,
        lower(coalesce(invocations.endpoint_name, utilization.endpoint_name)) as endpoint_name_lower,
        coalesce(invocations.variant_name, utilization.variant_name) as variant_name,
        coalesce(invocations.metric_hour_at, utilization.metric_hour_at) as metric_hour_at,
        invocations.invocations,
        utilization.cpu_utilization_max,
        utilization.memory_utilization_max,
        utilization.gpu_utilization_max,
        utilization.gpu_memory_utilization_max,
        invocations.metric_hour_at is not null as has_invocation_metric,
        utilization.metric_hour_at is not null as has_utilization_metric
    from invocations
    full outer join utilization
        on invocations.account_id = utilization.account_id
            and invocations.region = utilization.region
            and invocations.endpoint_name = utilization.endpoint_name
            and invocations.variant_name = utilization.variant_name
            and invocations.metric_hour_at = utilization.metric_hour_at
),

charge_variants as (
    select
        charges.charge_id,
        config_variants.variant_name
    from charges
    inner join config_variants
        on charges.resource_account_id = config_variants.account_id
            and charges.resource_region = config_variants.region
            and lower(charges.endpoint_config_name) = config_variants.endpoint_config_name_lower
            and charges.instance_type = config_variants.instance_type
),

-- The metric hours inside each charge period. The day is an equality key beside the range, so the
-- join hashes on it instead of pairing every hour of an endpoint with every one of its charges.
charge_metrics as (
    select
        charge_variants.charge_id,
        variant_hours.metric_hour_at,
        variant_hours.invocations,
        variant_hours.cpu_utilization_max,
        variant_hours.memory_utilization_max,
        variant_hours.gpu_utilization_max,
        variant_hours.gpu_memory_utilization_max,
        variant_hours.has_invocation_metric,
        variant_hours.has_utilization_metric
    from charge_variants
    inner join charges
        on charge_variants.charge_id = charges.charge_id
    inner join variant_hours
        on charges.resource_account_id = variant_hours.account_id
            and charges.resource_region = variant_hours.region
            and charges.resource_name_lower = variant_hours.endpoint_name_lower
            and charge_variants.variant_name = variant_hours.variant_name
            and cast(charges.charge_period_start_at as date) = cast(variant_hours.metric_hour_at as date)
            and charges.charge_period_start_at <= variant_hours.metric_hour_at
            and charges.charge_period_end_at > variant_hours.metric_hour_at
),

charge_metric_totals as (
    select
        charge_id,
        sum(invocations) as invocations,
        count(distinct metric_hour_at) as metered_hours,
        count(distinct case when has_invocation_metric and has_utilization_metric then metric_hour_at end)
            as fully_metered_hours,
        max(cpu_utilization_max) as cpu_utilization_max,
        max(memory_utilization_max) as memory_utilization_max,
        max(gpu_utilization_max) as gpu_utilization_max,
        max(gpu_memory_utilization_max) as gpu_memory_utilization_max
    from charge_metrics
    group by charge_id
),

variant_names as (
    select
        charge_id,
        {{ sorted_string_agg('variant_name', "','") }} as variant_name
    from charge_variants
    group by charge_id
),

joined as (
    select
        charges.charge_id,
        charges.billing_period,
        charges.billing_currency,
        charges.sub_account_id,
        charges.region_id,
        charges.resource_id as endpoint_arn,
        charges.resource_name_lower as endpoint_name,
        coalesce(charges.endpoint_mode, 'unknown') as endpoint_mode,
        variant_names.variant_name,
        charges.instance_type,
        coalesce(charge_owners.team, 'unattributed') as team,
        coalesce(charge_owners.model, 'unattributed') as model,
        coalesce(charge_owners.environment, 'unattributed') as environment,
        charges.charge_period_start_at as hour_start_at,
        charges.charge_period_end_at as hour_end_at,
        {{ hours_between('charges.charge_period_start_at', 'charges.charge_period_end_at') }} as charge_hours,
        charges.usage_hours as instance_hours,
        charges.billed_cost,
        charges.effective_cost,
        coalesce(charge_owners.idle_allocation_cost, 0) as idle_allocation_cost,
        charge_metric_totals.invocations as period_invocations,
        coalesce(charge_metric_totals.metered_hours, 0) as metered_hours,
        coalesce(charge_metric_totals.fully_metered_hours, 0) as fully_metered_hours,
        charge_metric_totals.cpu_utilization_max / nullif(capacity.vcpus, 0) as cpu_peak_percent,
        charge_metric_totals.memory_utilization_max as memory_peak_percent,
        charge_metric_totals.gpu_utilization_max / nullif(capacity.accelerators, 0) as gpu_peak_percent,
        charge_metric_totals.gpu_memory_utilization_max / nullif(capacity.accelerators, 0) as gpu_memory_peak_percent
    from charges
    left join charge_owners
        on charges.charge_id = charge_owners.charge_id
    left join variant_names
        on charges.charge_id = variant_names.charge_id
    left join charge_metric_totals
        on charges.charge_id = charge_metric_totals.charge_id
    left join capacity
        on charges.instance_type = capacity.instance_type
),

classified as (
    select
        *,
        case
            -- A shared endpoint's hour is as its usage split says: idle when __idle__ took all of it.
            when endpoint_mode in ('multi_model', 'inference_components')
                then case when idle_allocation_cost >= effective_cost then 'idle' else 'invoked' end
            when coalesce(period_invocations, 0) > 0 then 'invoked'
            when metered_hours > 0 then 'idle'
            else 'unknown'
        end as activity_status,
        -- Several bill rows can bill one variant's hour (the part a Savings Plan covers and the rest
        -- on demand): each takes its share of the hour's invocations by instance hours, so they add up.
        period_invocations * coalesce(
            instance_hours / nullif(sum(instance_hours) over (
                partition by endpoint_arn, variant_name, hour_start_at, hour_end_at
            ), 0),
            1.0 / count(*) over (partition by endpoint_arn, variant_name, hour_start_at, hour_end_at)
        ) as invocations,
        least(metered_hours / nullif(charge_hours, 0), 1.0) as metric_coverage,
        -- Some but not all of the charge's hours metered, or an hour with only one of the two signals.
        metered_hours > 0 and (metered_hours < round(charge_hours) or fully_metered_hours < metered_hours)
            as has_partial_metrics
    from joined
),

final as (
    select
        charge_id,
        billing_currency,
        sub_account_id,
        region_id,
        endpoint_arn,
        endpoint_name,
        endpoint_mode,
        variant_name,
        instance_type,
        team,
        model,
        environment,
        activity_status,
        case
            when endpoint_mode in ('multi_model', 'inference_components') then idle_allocation_cost
            when activity_status = 'idle' then effective_cost
            else 0
        end as idle_cost,
        case
            when endpoint_mode in ('multi_model', 'inference_components') then 'shared_endpoint_idle_allocation'
            else 'no_invocations'
        end as idle_basis,
        -- A shared endpoint's unmetered hours are already its __idle__ (the usage split decides them).
        case
            when endpoint_mode in ('multi_model', 'inference_components') then 0
            when activity_status = 'unknown' then effective_cost
            else 0
        end as unknown_cost,
        instance_hours,
        billed_cost,
        effective_cost,
        invocations,
        metered_hours,
        metric_coverage,
        cpu_peak_percent,
        memory_peak_percent,
        gpu_peak_percent,
        gpu_memory_peak_percent,
        has_partial_metrics,
        hour_start_at,
        hour_end_at,
        billing_period
    from classified
)

select * from final
