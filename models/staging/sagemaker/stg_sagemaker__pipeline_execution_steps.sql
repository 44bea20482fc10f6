with

source as (
    select * from {{ source('sagemaker', 'pipeline_execution_steps') }}
),

latest as (
    {{ latest_snapshot('source', ['pipeline_execution_arn', 'step_name', 'attempt']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        pipeline_execution_arn,
        step_name,
        attempt,
        step_display_name,
        step_type,
        step_status,
        failure_reason,
        job_arn,
        cache_source_execution_arn,
        started_at,
        ended_at
    from latest
)

select * from final
