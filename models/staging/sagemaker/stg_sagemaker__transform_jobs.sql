with

source as (
    select * from {{ source('sagemaker', 'transform_jobs') }}
),

latest as (
    {{ latest_snapshot('source', ['transform_job_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        transform_job_arn,
        transform_job_name,
        transform_job_status,
        created_at,
        transform_start_at,
        transform_end_at,
        model_name,
        instance_type,
        instance_count,
        input_s3_uri,
        output_s3_uri,
        experiment_name,
        trial_name,
        tags,
        lower(transform_job_name) as transform_job_name_lower
    from latest
)

select * from final
