with

source as (
    select * from {{ source('sagemaker', 'endpoints') }}
),

latest as (
    {{ latest_snapshot('source', ['endpoint_arn', 'endpoint_created_at', 'endpoint_config_name', 'config_active_from']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        endpoint_arn,
        endpoint_name,
        endpoint_status,
        endpoint_created_at,
        endpoint_deleted_at,
        endpoint_config_name,
        config_active_from,
        config_active_to,
        tags,
        lower(endpoint_name) as endpoint_name_lower
    from latest
)

select * from final
