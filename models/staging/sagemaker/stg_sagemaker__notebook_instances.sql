with

source as (
    select * from {{ source('sagemaker', 'notebook_instances') }}
),

latest as (
    {{ latest_snapshot('source', ['notebook_instance_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        notebook_instance_arn,
        notebook_instance_name,
        notebook_instance_status,
        instance_type,
        created_at,
        last_modified_at,
        role_arn,
        tags,
        lower(notebook_instance_name) as notebook_instance_name_lower
    from latest
)

select * from final
