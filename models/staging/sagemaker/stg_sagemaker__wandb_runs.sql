with

source as (
    select * from {{ source('sagemaker', 'wandb_runs') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'entity', 'project', 'run_id']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        entity,
        project,
        run_id,
        run_name,
        run_group,
        job_type,
        user_name,
        run_state,
        host,
        started_at,
        ended_at,
        tags,
        config
    from latest
)

select * from final
