with

source as (
    select * from {{ source('sagemaker', 'studio_domains') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'domain_id']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        domain_id,
        domain_arn,
        domain_name,
        home_efs_file_system_id,
        created_at,
        tags
    from latest
)

select * from final
