with

source as (
    select * from {{ source('sagemaker', 'endpoint_configs') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'endpoint_config_name', 'variant_name', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        endpoint_config_arn,
        endpoint_config_name,
        created_at,
        variant_name,
        model_name,
        instance_type,
        initial_instance_count,
        initial_variant_weight,
        serverless_memory_mb,
        serverless_max_concurrency,
        is_async,
        instance_pools,
        tags,
        lower(endpoint_config_name) as endpoint_config_name_lower
    from latest
)

select * from final
