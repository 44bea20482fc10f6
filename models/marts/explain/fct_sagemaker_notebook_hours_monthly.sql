{#- Notebooks left running: per billing period, notebook instance and Studio app, its billed compute
    hours split by when they ran, in var('working_hours') local time:
      working      on a working day, inside [start_hour, end_hour);
      after hours  on a working day, outside them;
      weekend      on any other day.
    out_of_hours_saving (after hours + weekend) is what stopping it outside working hours (an idle
    shutdown or a lifecycle schedule) would have saved. A bill row longer than an hour (a daily
    export) cannot be placed in the day and is counted as unclassified_cost, never guessed.
    is_always_on: billed at least var('always_on_min_share') of the hours from its first hour in the
    period to the period's end. is_never_tagged: none of the four attribution keys in the bill or
    the API (team and environment then come from rules or stay unattributed). -#}
{{ config(**billing_period_incremental_config()) }}
{%- set working = var('working_hours') %}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {{ where_in_billing_period_window() }}
),

-- The last instant the bill covers in each period (the open month ends where the export does).
period_ends as (
    select
        billing_period,
        max(charge_period_end) as period_data_end_at
    from allocations
    group by billing_period
),

notebook_charges as (
    select
        *,
        {{ local_time('charge_period_start', working.time_zone) }} as local_start_at,
        {{ hours_between('charge_period_start', 'charge_period_end') }} <= 1 as is_hourly,
        model_source not in ('bill_tag', 'api_tag')
        and team_source not in ('bill_tag', 'api_tag')
        and experiment_source not in ('bill_tag', 'api_tag')
        and environment_source not in ('bill_tag', 'api_tag') as is_untagged
    from allocations
    where (sagemaker_category = 'notebook_instance' or substr(sagemaker_category, 1, 7) = 'studio_')
        and usage_hours > 0
),

classified as (
    select
        *,
        case
            when not is_hourly then 'unclassified'
            when {{ iso_weekday('local_start_at') }} not in ({{ working.days | join(', ') }}) then 'weekend'
            when hour(local_start_at) >= {{ working.start_hour }} and hour(local_start_at) < {{ working.end_hour }}
                then 'working'
            else 'after_hours'
        end as time_slot
    from notebook_charges
),

monthly as (
    select
        billing_period,
        billing_currency,
        resource_arn,
        case when resource_type = 'notebook-instance' then 'notebook_instance' else 'studio_app' end as resource_type,
        min(resource_name) as resource_name,
        min(instance_type) as instance_type,
        min(sub_account_id) as sub_account_id,
        min(region_id) as region_id,
        min(team) as team,
        min(environment) as environment,
        sum(usage_hours) as billed_hours,
        cast(sum(cast(billed_cost as {{ money_decimal() }})) as double) as billed_cost,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        sum(case when time_slot = 'working' then usage_hours else 0 end) as working_hours,
        cast(sum(case when time_slot = 'working' then cast(effective_cost as {{ money_decimal() }}) else 0 end) as double)
            as working_hours_cost,
        sum(case when time_slot = 'after_hours' then usage_hours else 0 end) as after_hours,
        cast(sum(case when time_slot = 'after_hours' then cast(effective_cost as {{ money_decimal() }}) else 0 end) as double)
            as after_hours_cost,
        sum(case when time_slot = 'weekend' then usage_hours else 0 end) as weekend_hours,
        cast(sum(case when time_slot = 'weekend' then cast(effective_cost as {{ money_decimal() }}) else 0 end) as double)
            as weekend_cost,
        cast(sum(case when time_slot = 'unclassified' then cast(effective_cost as {{ money_decimal() }}) else 0 end) as double)
            as unclassified_cost,
        -- Distinct clock hours with a charge: several rows of one hour (e.g. a correction) count once.
        count(distinct case when is_hourly then charge_period_start end) as billed_clock_hours,
        bool_and(is_untagged) as is_never_tagged,
        min(charge_period_start) as first_billed_at,
        max(charge_period_end) as last_billed_at
    from classified
    group by billing_period, billing_currency, resource_arn, resource_type
),

final as (
    select
        monthly.billing_currency,
        monthly.resource_arn,
        monthly.resource_type,
        monthly.resource_name,
        monthly.instance_type,
        monthly.sub_account_id,
        monthly.region_id,
        monthly.team,
        monthly.environment,
        monthly.billed_hours,
        monthly.billed_cost,
        monthly.effective_cost,
        monthly.working_hours,
        monthly.working_hours_cost,
        monthly.after_hours,
        monthly.after_hours_cost,
        monthly.weekend_hours,
        monthly.weekend_cost,
        monthly.unclassified_cost,
        monthly.after_hours_cost + monthly.weekend_cost as out_of_hours_saving,
        monthly.billed_clock_hours
        >= {{ var('always_on_min_share') }}
        * {{ hours_between('monthly.first_billed_at', 'period_ends.period_data_end_at') }} as is_always_on,
        monthly.is_never_tagged,
        monthly.first_billed_at,
        monthly.last_billed_at,
        monthly.billing_period
    from monthly
    inner join period_ends
        on monthly.billing_period = period_ends.billing_period
)

select * from final
