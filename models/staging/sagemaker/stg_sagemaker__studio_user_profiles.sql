with

source as (
    select * from {{ source('sagemaker', 'studio_user_profiles') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'domain_id', 'user_profile_name']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        domain_id,
        user_profile_name,
        user_profile_arn,
        execution_role_arn,
        created_at,
        tags,
        lower(user_profile_name) as user_profile_name_lower
    from latest
)

select * from final
