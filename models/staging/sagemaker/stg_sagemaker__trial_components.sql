with

source as (
    select * from {{ source('sagemaker', 'trial_components') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'trial_component_name', 'trial_name']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        trial_component_arn,
        trial_component_name,
        trial_name,
        experiment_name,
        source_arn,
        source_type,
        created_at,
        tags,
        lower(trial_component_name) as trial_component_name_lower
    from latest
)

select * from final
