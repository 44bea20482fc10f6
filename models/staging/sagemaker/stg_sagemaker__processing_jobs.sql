with

source as (
    select * from {{ source('sagemaker', 'processing_jobs') }}
),

latest as (
    {{ latest_snapshot('source', ['processing_job_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        processing_job_arn,
        processing_job_name,
        processing_job_status,
        created_at,
        processing_start_at,
        processing_end_at,
        role_arn,
        instance_type,
        instance_count,
        image_uri,
        input_s3_uris,
        output_s3_uris,
        experiment_name,
        trial_name,
        training_job_arn,
        monitoring_schedule_arn,
        tags,
        lower(processing_job_name) as processing_job_name_lower
    from latest
)

select * from final
