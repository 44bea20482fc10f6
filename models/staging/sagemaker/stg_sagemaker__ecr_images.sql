with

source as (
    select * from {{ source('sagemaker', 'ecr_images') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'repository_name', 'image_digest']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        repository_name,
        repository_arn,
        image_digest,
        image_tags,
        image_uri,
        size_bytes,
        pushed_at
    from latest
)

select * from final
