with

source as (
    select * from {{ source('sagemaker', 'experiments') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'experiment_name']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        experiment_arn,
        experiment_name,
        created_at,
        tags,
        lower(experiment_name) as experiment_name_lower
    from latest
)

select * from final
