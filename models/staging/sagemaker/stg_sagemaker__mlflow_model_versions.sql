with

source as (
    select * from {{ source('sagemaker', 'mlflow_model_versions') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'tracking_server', 'registered_model_name', 'model_version']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        tracking_server,
        registered_model_name,
        model_version,
        source_run_id,
        version_status,
        created_at,
        tags
    from latest
)

select * from final
