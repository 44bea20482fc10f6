with

source as (
    select * from {{ source('sagemaker', 'pipeline_executions') }}
),

latest as (
    {{ latest_snapshot('source', ['pipeline_execution_arn']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        pipeline_execution_arn,
        pipeline_arn,
        pipeline_name,
        execution_display_name,
        execution_status,
        failure_reason,
        experiment_name,
        trial_name,
        source_execution_arn,
        created_at,
        last_modified_at
    from latest
)

select * from final
