{#- What each SageMaker pipeline execution cost: the sum of its step attempts (compute and
    neighbours), with its status, duration and whether a step was retried; a failed execution's
    dollars and its failed attempts' dollars are columns of their own, not hidden in a total.
    Read from the step attempts and their costs (not the step mart: one rule, two marts).
    Executions without any cost yet (running, or every step cached) have zero-cost rows.
    Grain: one execution. -#}
with

executions as (
    select * from {{ ref('stg_sagemaker__pipeline_executions') }}
),

attempts as (
    select
        pipeline_execution_arn,
        count(*) as step_attempts,
        count(case when step_status = 'Failed' then 1 end) as failed_step_attempts,
        max(attempt) > 1 as is_retried,
        count(case when is_cost_owner then 1 end) as job_count
    from {{ ref('int_sagemaker_pipeline_step_jobs') }}
    group by 1
),

costs as (
    select
        pipeline_execution_arn,
        max(billing_currency) as billing_currency,
        sum(case when cost_component = 'compute' then billed_cost else 0 end) as compute_billed_cost,
        sum(case when cost_component = 'compute' then effective_cost else 0 end) as compute_effective_cost,
        sum(case when cost_component = 'neighbour' then effective_cost else 0 end) as neighbour_effective_cost,
        sum(effective_cost) as fully_loaded_effective_cost,
        sum(case when is_failed_attempt then effective_cost else 0 end) as failed_attempt_effective_cost
    from {{ ref('int_sagemaker_pipeline_step_costs') }}
    group by 1
),

step_totals as (
    select
        attempts.*,
        costs.billing_currency,
        costs.compute_billed_cost,
        costs.compute_effective_cost,
        costs.neighbour_effective_cost,
        costs.fully_loaded_effective_cost,
        costs.failed_attempt_effective_cost
    from attempts
    left join costs
        on attempts.pipeline_execution_arn = costs.pipeline_execution_arn
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
