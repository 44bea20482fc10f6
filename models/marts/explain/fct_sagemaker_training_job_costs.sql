{#- What each training job cost, and what spot did or could save: per billing period and training
    job, its allocated cost (compute: on-demand and spot training; plus its ML storage), owners,
    instance hours and GPU hours, and
      realised_spot_saving_share  managed spot jobs: 1 - BillableTimeInSeconds / TrainingTimeInSeconds,
                                  the figure the SageMaker console reports;
      realised_spot_saving        on-demand equivalent (the list price of the billed hours, over the
                                  whole training time) minus what the compute cost;
      spot_saving_potential       on-demand jobs: compute cost x var('managed_spot_saving_share');
      is_spot_feasible            the job writes checkpoints (CheckpointConfig), so an interruption
                                  resumes instead of restarting — the precondition for managed spot.
    Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

all_allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {{ where_in_billing_period_window() }}
),

allocations as (
    select * from all_allocations
    where resource_type = 'training-job'
),

training_jobs as (
    select * from {{ ref('stg_sagemaker__training_jobs') }}
),

capacity as (
    select * from {{ ref('instance_type_capacity') }}
),

job_costs as (
    select
        billing_period,
        billing_currency,
        resource_arn,
        min(resource_name) as resource_name,
        min(sub_account_id) as sub_account_id,
        min(region_id) as region_id,
        min(model) as model,
        min(team) as team,
        min(experiment) as experiment,
        min(environment) as environment,
        min(case when sagemaker_category in ('training', 'spot_training') then instance_type end) as billed_instance_type,
        sum(case when sagemaker_category in ('training', 'spot_training') then coalesce(usage_hours, 0) else 0 end) as instance_hours,
        cast(sum(
            case when sagemaker_category in ('training', 'spot_training') then cast(effective_cost as {{ money_decimal() }}) else 0 end
        ) as double) as compute_cost,
        cast(sum(
            case when sagemaker_category in ('training', 'spot_training') then cast(list_cost as {{ money_decimal() }}) else 0 end
        ) as double) as compute_list_cost,
        cast(sum(cast(billed_cost as {{ money_decimal() }})) as double) as billed_cost,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        bool_or(sagemaker_category = 'spot_training') as has_spot_charges
    from allocations
    group by billing_period, billing_currency, resource_arn
),

-- A name reused after DeleteTrainingJob shares the ARN: take the incarnation created last up to
-- the billing period (jobs billed in one period under one ARN are one row of this mart).
job_incarnations as (
    select *
    from (
        select
            job_costs.billing_period,
            job_costs.billing_currency,
            job_costs.resource_arn,
            -- A flexible job's instances are the ones SageMaker selected from its preferences.
            coalesce(training_jobs.selected_instance_type, training_jobs.instance_type) as instance_type,
            coalesce(training_jobs.selected_instance_count, training_jobs.instance_count) as instance_count,
            training_jobs.is_managed_spot,
            training_jobs.checkpoint_s3_uri,
            training_jobs.training_seconds,
            training_jobs.billable_seconds,
            row_number() over (
                partition by job_costs.billing_period, job_costs.billing_currency, job_costs.resource_arn
                order by
                    case when {{ year_month('training_jobs.created_at') }} <= job_costs.billing_period then 0 else 1 end,
                    training_jobs.created_at desc
            ) as incarnation_rank
        from job_costs
        inner join training_jobs
            on lower(job_costs.resource_arn) = lower(training_jobs.training_job_arn)
    ) as ranked
    where incarnation_rank = 1
),

joined as (
    select
        job_costs.*,
        coalesce(job_costs.billed_instance_type, training_jobs.instance_type) as instance_type,
        training_jobs.instance_count,
        coalesce(training_jobs.is_managed_spot, job_costs.has_spot_charges) as is_managed_spot,
        training_jobs.checkpoint_s3_uri is not null as has_checkpointing,
        training_jobs.training_seconds,
        training_jobs.billable_seconds,
        capacity.accelerators
    from job_costs
    left join job_incarnations as training_jobs
        on job_costs.billing_period = training_jobs.billing_period
            and job_costs.billing_currency = training_jobs.billing_currency
            and job_costs.resource_arn = training_jobs.resource_arn
    left join capacity
        on coalesce(job_costs.billed_instance_type, training_jobs.instance_type) = capacity.instance_type
),

final as (
    select
        billing_currency,
        resource_arn as training_job_arn,
        resource_name as training_job_name,
        sub_account_id,
        region_id,
        model,
        team,
        experiment,
        environment,
        instance_type,
        instance_count,
        is_managed_spot,
        has_checkpointing,
        training_seconds,
        billable_seconds,
        instance_hours,
        instance_hours * accelerators as gpu_hours,
        compute_cost,
        billed_cost,
        effective_cost,
        case
            when is_managed_spot and billable_seconds > 0
                then compute_list_cost * training_seconds / billable_seconds
            else compute_list_cost
        end as on_demand_equivalent_cost,
        case
            when is_managed_spot and training_seconds > 0
                then 1 - cast(billable_seconds as double) / training_seconds
        end as realised_spot_saving_share,
        case
            when is_managed_spot and billable_seconds > 0
                then compute_list_cost * training_seconds / billable_seconds - compute_cost
            else 0
        end as realised_spot_saving,
        case when is_managed_spot then 0 else compute_cost * {{ var('managed_spot_saving_share') }} end
            as spot_saving_potential,
        not is_managed_spot and has_checkpointing as is_spot_feasible,
        billing_period
    from joined
)

select * from final
