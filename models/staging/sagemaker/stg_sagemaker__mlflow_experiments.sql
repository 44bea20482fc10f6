with

source as (
    select * from {{ source('sagemaker', 'mlflow_experiments') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'tracking_server', 'experiment_id']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        tracking_server,
        experiment_id,
        experiment_name,
        lifecycle_stage,
        created_at,
        last_updated_at,
        tags,
        lower(experiment_name) as experiment_name_lower
    from latest
)

select * from final
