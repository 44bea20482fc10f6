{#- A table, not a view like the other staging models: the latest-snapshot window runs over every
    metric hour (5.7 M rows at 10 M bill rows), and six models and their tests read it; as a view
    each reader re-ran the window (issue 15). -#}
{{ config(materialized='table') }}
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
