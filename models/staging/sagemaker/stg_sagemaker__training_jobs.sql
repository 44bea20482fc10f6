with

source as (
    select * from {{ source('sagemaker', 'training_jobs') }}
),

latest as (
    {{ latest_snapshot('source', ['training_job_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        training_job_arn,
        training_job_name,
        training_job_status,
        created_at,
        last_modified_at,
        training_start_at,
        training_end_at,
        role_arn,
        instance_type,
        instance_count,
        instance_groups,
        training_seconds,
        billable_seconds,
        is_managed_spot,
        warm_pool_retained_billable_seconds,
        tuning_job_arn,
        experiment_name,
        trial_name,
        run_name,
        model_artifact_s3_uri,
        input_s3_uris,
        input_file_system_ids,
        output_s3_uri,
        checkpoint_s3_uri,
        training_image,
        mlflow_resource_arn,
        mlflow_experiment_name,
        mlflow_run_name,
        mlflow_run_id,
        instance_preference_types,
        selected_instance_type,
        selected_instance_count,
        training_plan_arn,
        tags,
        lower(training_job_name) as training_job_name_lower
    from latest
)

select * from final
