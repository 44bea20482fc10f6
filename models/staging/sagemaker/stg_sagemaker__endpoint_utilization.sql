with

source as (
    select * from {{ source('sagemaker', 'endpoint_utilization') }}
),

latest as (
    {{ latest_snapshot('source', [
        'account_id', 'region', 'endpoint_name', 'variant_name', 'metric_hour_at',
    ], latest_partition_only=false) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        endpoint_name,
        variant_name,
        metric_hour_at,
        cpu_utilization_max,
        memory_utilization_max,
        gpu_utilization_max,
        gpu_memory_utilization_max
    from latest
)

select * from final
