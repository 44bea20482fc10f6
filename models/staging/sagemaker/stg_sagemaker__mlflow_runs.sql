with

source as (
    select * from {{ source('sagemaker', 'mlflow_runs') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'tracking_server', 'run_id']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        tracking_server,
        run_id,
        experiment_id,
        run_name,
        user_id,
        run_status,
        lifecycle_stage,
        started_at,
        ended_at,
        tags,
        params
    from latest
)

select * from final
