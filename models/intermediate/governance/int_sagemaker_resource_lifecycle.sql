{#- Each billable SageMaker resource as the metadata last saw it: when it was created (its current
    incarnation, for an endpoint name that was reused), its status, when that status was seen and how
    many tags it carries in the API (the 50-tag limit decides whether AddTags can still add ours).
    One row per lowercased ARN, the join key of the bill's ResourceId. -#}
with

training_jobs as (
    select * from {{ ref('stg_sagemaker__training_jobs') }}
),

processing_jobs as (
    select * from {{ ref('stg_sagemaker__processing_jobs') }}
),

transform_jobs as (
    select * from {{ ref('stg_sagemaker__transform_jobs') }}
),

endpoints as (
    select * from {{ ref('stg_sagemaker__endpoints') }}
),

notebook_instances as (
    select * from {{ ref('stg_sagemaker__notebook_instances') }}
),

studio_apps as (
    select * from {{ ref('stg_sagemaker__studio_apps') }}
),

unioned as (
    select
        lower(training_job_arn) as resource_arn,
        training_job_status as last_seen_status,
        created_at,
        training_end_at as ended_at,
        extracted_at,
        tags
    from training_jobs

    union all

    select
        lower(processing_job_arn) as resource_arn,
        processing_job_status as last_seen_status,
        created_at,
        processing_end_at as ended_at,
        extracted_at,
        tags
    from processing_jobs

    union all

    select
        lower(transform_job_arn) as resource_arn,
        transform_job_status as last_seen_status,
        created_at,
        transform_end_at as ended_at,
        extracted_at,
        tags
    from transform_jobs

    union all

    select
        lower(endpoint_arn) as resource_arn,
        endpoint_status as last_seen_status,
        endpoint_created_at as created_at,
        endpoint_deleted_at as ended_at,
        extracted_at,
        tags
    from endpoints

    union all

    select
        lower(notebook_instance_arn) as resource_arn,
        notebook_instance_status as last_seen_status,
        created_at,
        cast(null as timestamp) as ended_at,
        extracted_at,
        tags
    from notebook_instances

    union all

    select
        lower(app_arn) as resource_arn,
        app_status as last_seen_status,
        created_at,
        cast(null as timestamp) as ended_at,
        extracted_at,
        tags
    from studio_apps
),

ranked as (
    select
        *,
        row_number() over (
            partition by resource_arn order by created_at desc nulls last, extracted_at desc nulls last, last_seen_status asc
        ) as incarnation_rank
    from unioned
    where resource_arn is not null
),

current_incarnations as (
    select * from ranked
    where incarnation_rank = 1
),

-- Counted from the map's entries (the engines' unnest, macros/engine/tags.sql): every key counts,
-- whatever its case, as SageMaker counts them against its 50-tag limit.
tag_entries as (
    {{ unnest_map('current_incarnations', 'resource_arn', 'tags') }}
),

tag_counts as (
    select
        resource_arn,
        count(*) as api_tag_count
    from tag_entries
    group by resource_arn
),

final as (
    select
        current_incarnations.resource_arn,
        current_incarnations.last_seen_status,
        current_incarnations.created_at,
        current_incarnations.ended_at,
        current_incarnations.extracted_at as status_seen_at,
        coalesce(tag_counts.api_tag_count, 0) as api_tag_count
    from current_incarnations
    left join tag_counts
        on current_incarnations.resource_arn = tag_counts.resource_arn
)

select * from final
