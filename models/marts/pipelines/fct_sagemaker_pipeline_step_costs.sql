{#- What each step attempt of each SageMaker pipeline execution cost: the job it launched (compute,
    from fct_sagemaker_cost_allocations) and that job's neighbours (fully-loaded), with the step's
    status, attempt and duration. A retried step has a row per attempt, so a failed attempt's
    dollars stay visible as such. Steps that launch no job (a model or condition step, a cached
    step) have rows with zero cost. Grain: one step attempt. -#}
with

step_jobs as (
    select * from {{ ref('int_sagemaker_pipeline_step_jobs') }}
),

executions as (
    select * from {{ ref('stg_sagemaker__pipeline_executions') }}
),

step_costs as (
    select
        pipeline_execution_arn,
        step_name,
        attempt,
        max(billing_currency) as billing_currency,
        sum(case when cost_component = 'compute' then billed_cost else 0 end) as compute_billed_cost,
        sum(case when cost_component = 'compute' then effective_cost else 0 end) as compute_effective_cost,
        sum(case when cost_component = 'neighbour' then effective_cost else 0 end) as neighbour_effective_cost
    from {{ ref('int_sagemaker_pipeline_step_costs') }}
    group by 1, 2, 3
),

final as (
    select
        {{ hash_key(['step_jobs.pipeline_execution_arn', 'step_jobs.step_name', 'step_jobs.attempt']) }}
            as pipeline_step_id,
        step_jobs.pipeline_execution_arn,
        executions.pipeline_arn,
        executions.pipeline_name,
        step_jobs.account_id,
        step_jobs.region,
        step_jobs.step_name,
        step_jobs.attempt,
        step_jobs.step_type,
        step_jobs.step_status,
        step_jobs.step_status = 'Failed' as is_failed,
        step_jobs.attempt > 1 as is_retry,
        step_jobs.failure_reason,
        step_jobs.job_arn,
        step_jobs.resource_type as job_type,
        step_jobs.is_cost_owner,
        step_jobs.started_at,
        step_jobs.ended_at,
        {{ hours_between('step_jobs.started_at', 'step_jobs.ended_at') }} * 60 as duration_minutes,
        step_costs.billing_currency,
        coalesce(step_costs.compute_billed_cost, 0) as compute_billed_cost,
        coalesce(step_costs.compute_effective_cost, 0) as compute_effective_cost,
        coalesce(step_costs.neighbour_effective_cost, 0) as neighbour_effective_cost,
        coalesce(step_costs.compute_effective_cost, 0) + coalesce(step_costs.neighbour_effective_cost, 0)
            as fully_loaded_effective_cost
    from step_jobs
    left join executions
        on step_jobs.pipeline_execution_arn = executions.pipeline_execution_arn
    left join step_costs
        on step_jobs.pipeline_execution_arn = step_costs.pipeline_execution_arn
            and step_jobs.step_name = step_costs.step_name
            and step_jobs.attempt = step_costs.attempt
)

select * from final
