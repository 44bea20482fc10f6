with

source as (
    select * from {{ source('sagemaker', 'studio_apps') }}
),

latest as (
    {{ latest_snapshot('source', ['app_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        app_arn,
        domain_id,
        user_profile_name,
        space_name,
        app_type,
        app_name,
        app_status,
        instance_type,
        created_at,
        tags,
        lower(app_name) as app_name_lower
    from latest
)

select * from final
