with

source as (
    select * from {{ source('sagemaker', 'inference_components') }}
),

latest as (
    {{ latest_snapshot('source', ['inference_component_arn', 'created_at']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        inference_component_arn,
        inference_component_name,
        inference_component_status,
        endpoint_name,
        variant_name,
        model_name,
        created_at,
        last_modified_at,
        current_copy_count,
        cpu_cores_required,
        accelerator_devices_required,
        memory_required_mb,
        accelerator_partition_type,
        base_inference_component_name,
        copies_by_instance_type,
        accelerator_devices_by_instance_type,
        cpu_cores_by_instance_type,
        accelerator_partition_by_instance_type,
        tags,
        lower(inference_component_name) as inference_component_name_lower
    from latest
)

select * from final
