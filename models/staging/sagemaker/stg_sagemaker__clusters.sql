with

source as (
    select * from {{ source('sagemaker', 'clusters') }}
),

latest as (
    {{ latest_snapshot('source', ['cluster_arn']) }}
),

final as (
    select
        account_id,
        region,
        extracted_at,
        cluster_arn,
        cluster_id,
        cluster_name,
        cluster_status,
        orchestrator,
        created_at,
        execution_role_arn,
        instance_count,
        instance_groups,
        tags,
        lower(cluster_name) as cluster_name_lower
    from latest
)

select * from final
