with

source as (
    select * from {{ source('sagemaker', 's3_artifacts') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'bucket', 'key_or_prefix']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        bucket,
        key_or_prefix,
        is_prefix_total,
        object_count,
        size_bytes,
        last_modified_at
    from latest
)

select * from final
