with

source as (
    select * from {{ source('sagemaker', 'endpoint_invocations') }}
),

latest as (
    {{ latest_snapshot('source', [
        'account_id', 'region', 'metric_dimension', 'endpoint_name', 'variant_name',
        'inference_component_name', 'target_model', 'metric_hour_at',
    ], latest_partition_only=false) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        metric_dimension,
        metric_namespace,
        endpoint_name,
        variant_name,
        inference_component_name,
        target_model,
        metric_hour_at,
        invocations,
        model_latency_us
    from latest
)

select * from final
