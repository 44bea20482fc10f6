with

source as (
    select * from {{ source('sagemaker', 'training_plans') }}
),

latest as (
    {{ latest_snapshot('source', ['training_plan_arn']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        training_plan_arn,
        training_plan_name,
        training_plan_status,
        started_at,
        ended_at,
        duration_hours,
        duration_minutes,
        upfront_fee,
        currency_code,
        total_instance_count,
        in_use_instance_count,
        target_resources,
        reserved_instance_types,
        tags,
        lower(training_plan_name) as training_plan_name_lower
    from latest
)

select * from final
