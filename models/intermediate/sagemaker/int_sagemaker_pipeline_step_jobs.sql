{#- Every SageMaker pipeline step attempt, with the job incarnation it launched: the one rule that
    both the pipeline-tag evidence (int_sagemaker_jobs_linked_to_pipelines_and_siblings) and the
    pipeline cost marts read, so a step's job is the same job in the owner and in the dollars.
    A step names its job by ARN; a reused name shares the ARN, so the incarnation is the one valid
    while the step ran (open-ended intervals, a name never reused, are null on that side). A job
    named by steps of several executions (a cached step re-listed elsewhere launches nothing) is
    costed once: is_cost_owner marks the first step attempt that named it (earliest start, then the
    execution ARN), the others keep the link but carry no dollars. Grain: one step attempt
    (pipeline_execution_arn, step_name, attempt). -#}
with

steps as (
    select * from {{ ref('stg_sagemaker__pipeline_execution_steps') }}
),

jobs as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
    where resource_type in ('training-job', 'processing-job', 'transform-job')
),

matched as (
    select
        steps.account_id,
        steps.region,
        steps.pipeline_execution_arn,
        steps.step_name,
        steps.attempt,
        steps.step_type,
        steps.step_status,
        steps.failure_reason,
        steps.job_arn,
        steps.cache_source_execution_arn,
        steps.started_at,
        steps.ended_at,
        jobs.resource_key,
        jobs.resource_type,
        jobs.resource_name_lower
    from steps
    left join jobs
        on lower(steps.job_arn) = lower(jobs.resource_arn)
            and (jobs.valid_from is null or coalesce(steps.ended_at, steps.started_at) >= jobs.valid_from)
            and (jobs.valid_to is null or steps.started_at < jobs.valid_to)
),

final as (
    select
        *,
        resource_key is not null
        and row_number() over (
            partition by resource_key
            order by started_at, pipeline_execution_arn, step_name, attempt
        ) = 1 as is_cost_owner
    from matched
)

select * from final
