with

source as (
    select * from {{ source('sagemaker', 'trials') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'trial_name']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        trial_arn,
        trial_name,
        experiment_name,
        created_at,
        tags,
        lower(trial_name) as trial_name_lower
    from latest
)

select * from final
