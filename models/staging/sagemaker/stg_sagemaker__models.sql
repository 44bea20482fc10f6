with

source as (
    select * from {{ source('sagemaker', 'models') }}
),

latest as (
    {{ latest_snapshot('source', ['model_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        model_arn,
        model_name,
        created_at,
        execution_role_arn,
        image_uri,
        model_data_url,
        container_mode,
        tags,
        lower(model_name) as model_name_lower
    from latest
)

select * from final
