with

source as (
    select * from {{ source('sagemaker', 's3_artifacts') }}
),

latest as (
    {{ latest_snapshot('source', ['account_id', 'region', 'bucket', 'key_or_prefix', 'storage_class', 'last_modified_day']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        bucket,
        key_or_prefix,
        storage_class,
        last_modified_day,
        object_count,
        size_bytes
    from latest
)

select * from final
