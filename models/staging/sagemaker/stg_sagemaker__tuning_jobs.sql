with

source as (
    select * from {{ source('sagemaker', 'tuning_jobs') }}
),

latest as (
    {{ latest_snapshot('source', ['tuning_job_arn']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        tuning_job_arn,
        tuning_job_name,
        tuning_job_status,
        created_at,
        ended_at,
        strategy,
        max_training_jobs,
        tags,
        lower(tuning_job_name) as tuning_job_name_lower
    from latest
)

select * from final
