with

source as (
    select * from {{ source('sagemaker', 'studio_spaces') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'domain_id', 'space_name']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        domain_id,
        space_name,
        space_arn,
        owner_user_profile_name,
        created_at,
        tags,
        lower(space_name) as space_name_lower
    from latest
)

select * from final
