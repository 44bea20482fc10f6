with

source as (
    select * from {{ source('sagemaker', 'pipelines') }}
),

latest as (
    {{ latest_snapshot('source', ['pipeline_arn']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        pipeline_arn,
        pipeline_name,
        pipeline_display_name,
        role_arn,
        created_at,
        last_modified_at,
        last_execution_at,
        tags,
        lower(pipeline_name) as pipeline_name_lower
    from latest
)

select * from final
