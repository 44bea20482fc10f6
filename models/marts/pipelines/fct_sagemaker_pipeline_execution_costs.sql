{#- What each SageMaker pipeline execution cost: the sum of its step attempts (compute and
    neighbours), with its status, duration and whether a step was retried; a failed execution's
    dollars and its failed attempts' dollars are columns of their own, not hidden in a total.
    Executions without any cost yet (running, or every step cached) have zero-cost rows.
    Grain: one execution. -#}
with

executions as (
    select * from {{ ref('stg_sagemaker__pipeline_executions') }}
),

steps as (
    select * from {{ ref('fct_sagemaker_pipeline_step_costs') }}
),

step_totals as (
    select
        pipeline_execution_arn,
        count(*) as step_attempts,
        count(case when is_failed then 1 end) as failed_step_attempts,
        max(attempt) > 1 as is_retried,
        count(case when is_cost_owner then 1 end) as job_count,
        max(billing_currency) as billing_currency,
        sum(compute_billed_cost) as compute_billed_cost,
        sum(compute_effective_cost) as compute_effective_cost,
        sum(neighbour_effective_cost) as neighbour_effective_cost,
        sum(fully_loaded_effective_cost) as fully_loaded_effective_cost,
        sum(case when is_failed then fully_loaded_effective_cost else 0 end) as failed_attempt_effective_cost
    from steps
    group by 1
),

final as (
    select
        executions.pipeline_execution_arn,
        executions.pipeline_arn,
        executions.pipeline_name,
        executions.account_id,
        executions.region,
        executions.execution_display_name,
        executions.execution_status,
        executions.execution_status = 'Failed' as is_failed,
        coalesce(step_totals.is_retried, false) as is_retried,
        executions.failure_reason,
        executions.created_at as started_at,
        executions.last_modified_at as ended_at,
        {{ hours_between('executions.created_at', 'executions.last_modified_at') }} * 60 as duration_minutes,
        coalesce(step_totals.step_attempts, 0) as step_attempts,
        coalesce(step_totals.failed_step_attempts, 0) as failed_step_attempts,
        coalesce(step_totals.job_count, 0) as job_count,
        step_totals.billing_currency,
        coalesce(step_totals.compute_billed_cost, 0) as compute_billed_cost,
        coalesce(step_totals.compute_effective_cost, 0) as compute_effective_cost,
        coalesce(step_totals.neighbour_effective_cost, 0) as neighbour_effective_cost,
        coalesce(step_totals.fully_loaded_effective_cost, 0) as fully_loaded_effective_cost,
        coalesce(step_totals.failed_attempt_effective_cost, 0) as failed_attempt_effective_cost
    from executions
    left join step_totals
        on executions.pipeline_execution_arn = step_totals.pipeline_execution_arn
)

select * from final
