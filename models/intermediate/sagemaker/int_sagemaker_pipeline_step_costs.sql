{#- The dollars of each pipeline step attempt, per billing period and currency, in two components,
    both read from fct_sagemaker_fully_loaded_cost's lines linked to the job the step launched, by
    its type and name, in the job incarnation valid at the charge (names are reused):
      compute    its SageMaker lines (fct_sagemaker_cost_allocations' allocations, as is);
      neighbour  its in-scope neighbour charges (S3, ECR, CloudWatch Logs, EFS/FSx).
    Only the step attempt that owns the job's cost (int_sagemaker_pipeline_step_jobs.is_cost_owner)
    carries it, so a job several executions name is counted once. Grain: one step attempt x billing
    period x currency x cost component. -#}
with

executions as (
    select * from {{ ref('stg_sagemaker__pipeline_executions') }}
),

-- The execution's identity and outcome ride along, so the monthly mart reads this model only.
step_jobs as (
    select
        attempts.*,
        executions.pipeline_arn,
        executions.pipeline_name,
        coalesce(executions.execution_status = 'Failed', false) as is_failed_execution
    from (
        select
            *,
            max(attempt) over (partition by pipeline_execution_arn) > 1 as is_retried_execution
        from {{ ref('int_sagemaker_pipeline_step_jobs') }}
    ) as attempts
    left join executions
        on attempts.pipeline_execution_arn = executions.pipeline_execution_arn
    where attempts.is_cost_owner
),

jobs as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
    where resource_type in ('training-job', 'processing-job', 'transform-job')
),

-- The fully-loaded fact holds every period on an incremental run too (the charge-level models hold
-- only the rebuilt ones).
job_lines as (
    select
        sub_account_id,
        linked_resource_type,
        lower(linked_resource_name) as linked_resource_name_lower,
        charge_period_start,
        billing_period,
        billing_currency,
        case when is_sagemaker_line then 'compute' else 'neighbour' end as cost_component,
        billed_cost,
        effective_cost,
        list_cost
    from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    where linked_resource_type in ('training-job', 'processing-job', 'transform-job')
),

step_costs as (
    select
        step_jobs.pipeline_execution_arn,
        step_jobs.step_name,
        step_jobs.attempt,
        step_jobs.step_status = 'Failed' as is_failed_attempt,
        step_jobs.pipeline_arn,
        step_jobs.pipeline_name,
        step_jobs.account_id,
        step_jobs.region,
        step_jobs.is_failed_execution,
        step_jobs.is_retried_execution,
        job_lines.billing_period,
        job_lines.billing_currency,
        job_lines.cost_component,
        sum(job_lines.billed_cost) as billed_cost,
        sum(job_lines.effective_cost) as effective_cost,
        sum(job_lines.list_cost) as list_cost
    from step_jobs
    inner join jobs
        on step_jobs.resource_key = jobs.resource_key
    inner join job_lines
        on jobs.account_id = job_lines.sub_account_id
            and jobs.resource_type = job_lines.linked_resource_type
            and jobs.resource_name_lower = job_lines.linked_resource_name_lower
            and (jobs.valid_from is null or jobs.valid_from <= job_lines.charge_period_start)
            and (jobs.valid_to is null or jobs.valid_to > job_lines.charge_period_start)
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
),

final as (
    select
        {{ hash_key(['pipeline_execution_arn', 'step_name', 'attempt', 'billing_period', 'billing_currency', 'cost_component']) }}
            as pipeline_step_cost_id,
        *
    from step_costs
)

select * from final
