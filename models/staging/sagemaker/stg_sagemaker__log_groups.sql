with

source as (
    select * from {{ source('sagemaker', 'log_groups') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'log_group_name']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        log_group_name,
        log_group_arn,
        stored_bytes,
        retention_days,
        created_at
    from latest
)

select * from final
