{#- The dollars of each pipeline step attempt, per billing period and currency, in two components:
      compute    the allocations of fct_sagemaker_cost_allocations whose charge bills the job the
                 step launched (its charge joined that job incarnation: the fact's own join);
      neighbour  the in-scope neighbour charges (S3, ECR, CloudWatch Logs, EFS/FSx) that
                 fct_sagemaker_fully_loaded_cost links to that job, by its type and name, in the
                 incarnation valid at the charge (the neighbour rows carry a name, not an ARN).
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

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
),

jobs as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
    where resource_type in ('training-job', 'processing-job', 'transform-job')
),

neighbour_lines as (
    select * from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    where not is_sagemaker_line
        and linked_resource_type in ('training-job', 'processing-job', 'transform-job')
),

compute as (
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
        allocations.billing_period,
        allocations.billing_currency,
        'compute' as cost_component,
        sum(allocations.billed_cost) as billed_cost,
        sum(allocations.effective_cost) as effective_cost,
        sum(allocations.list_cost) as list_cost
    from step_jobs
    inner join jobs
        on step_jobs.resource_key = jobs.resource_key
    -- The job incarnation valid when the charge ran (names are reused), matched on the fact itself:
    -- on an incremental run the charge-level models hold only the rebuilt periods, the fact them all.
    inner join allocations
        on jobs.account_id = allocations.sub_account_id
            and jobs.resource_type = allocations.resource_type
            and jobs.resource_name_lower = allocations.resource_name
            and (jobs.valid_from is null or jobs.valid_from <= allocations.charge_period_start)
            and (jobs.valid_to is null or jobs.valid_to > allocations.charge_period_start)
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
),

neighbours as (
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
        neighbour_lines.billing_period,
        neighbour_lines.billing_currency,
        'neighbour' as cost_component,
        sum(neighbour_lines.billed_cost) as billed_cost,
        sum(neighbour_lines.effective_cost) as effective_cost,
        sum(neighbour_lines.list_cost) as list_cost
    from step_jobs
    inner join jobs
        on step_jobs.resource_key = jobs.resource_key
    inner join neighbour_lines
        on jobs.account_id = neighbour_lines.sub_account_id
            and jobs.resource_type = neighbour_lines.linked_resource_type
            and jobs.resource_name_lower = lower(neighbour_lines.linked_resource_name)
            and (jobs.valid_from is null or jobs.valid_from <= neighbour_lines.charge_period_start)
            and (jobs.valid_to is null or jobs.valid_to > neighbour_lines.charge_period_start)
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
),

unioned as (
    select * from compute
    union all
    select * from neighbours
),

final as (
    select
        {{ hash_key(['pipeline_execution_arn', 'step_name', 'attempt', 'billing_period', 'billing_currency', 'cost_component']) }}
            as pipeline_step_cost_id,
        *
    from unioned
)

select * from final
