with

source as (
    select * from {{ source('sagemaker', 'multi_model_targets') }}
),

latest as (
    {{ latest_snapshot('source', [
        'account_id', 'region', 'endpoint_name', 'source', 'dimension_name', 'target_value',
    ]) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        endpoint_name,
        source,
        metric_namespace,
        dimension_name,
        target_value,
        model_data_url,
        lower(endpoint_name) as endpoint_name_lower
    from latest
)

select * from final
