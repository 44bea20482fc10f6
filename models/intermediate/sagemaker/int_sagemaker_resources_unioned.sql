{#- Every billable SageMaker resource the metadata knows, and every allocation target a usage split
    divides a charge among (inference components), one row per resource and validity interval, in
    one shape: the join target for charges, and what int_sagemaker_resources_attributed decides
    owners for. Billing names resources by account, region, ARN resource type and lowercased name;
    names can be reused after deletion, so each row carries the interval it is valid for (endpoints:
    one row per incarnation and config in force; jobs: one per incarnation). The links each kind has (experiment, tuning job,
    model, user profile, ...) ride along. -#}
with

training_jobs as (
    select
        *,
        {{ name_reuse_interval('created_at', ['account_id', 'region', 'training_job_name_lower']) }}
    from {{ ref('stg_sagemaker__training_jobs') }}
),

processing_jobs as (
    select
        *,
        {{ name_reuse_interval('created_at', ['account_id', 'region', 'processing_job_name_lower']) }}
    from {{ ref('stg_sagemaker__processing_jobs') }}
),

transform_jobs as (
    select
        *,
        {{ name_reuse_interval('created_at', ['account_id', 'region', 'transform_job_name_lower']) }}
    from {{ ref('stg_sagemaker__transform_jobs') }}
),

endpoints as (
    select * from {{ ref('stg_sagemaker__endpoints') }}
),

endpoint_configs as (
    select * from {{ ref('stg_sagemaker__endpoint_configs') }}
),

models as (
    select * from {{ ref('stg_sagemaker__models') }}
),

notebook_instances as (
    select * from {{ ref('stg_sagemaker__notebook_instances') }}
),

studio_apps as (
    select * from {{ ref('stg_sagemaker__studio_apps') }}
),

studio_spaces as (
    select * from {{ ref('stg_sagemaker__studio_spaces') }}
),

inference_components as (
    select * from {{ ref('stg_sagemaker__inference_components') }}
),

training_plans as (
    select * from {{ ref('stg_sagemaker__training_plans') }}
),

clusters as (
    select * from {{ ref('stg_sagemaker__clusters') }}
),

-- One variant per config decides an endpoint's model and mode; a config with several variants
-- (A/B) is attributed through its first variant's model, the others' cost split is not billed apart.
config_primary_variant as (
    select
        endpoint_configs.account_id,
        endpoint_configs.region,
        endpoint_configs.endpoint_config_name,
        endpoint_configs.model_name,
        endpoint_configs.instance_type,
        endpoint_configs.initial_instance_count,
        models.container_mode,
        row_number() over (
            partition by endpoint_configs.account_id, endpoint_configs.region, endpoint_configs.endpoint_config_name
            order by endpoint_configs.variant_name
        ) as variant_rank
    from endpoint_configs
    left join models
        on endpoint_configs.account_id = models.account_id
            and endpoint_configs.region = models.region
            and lower(endpoint_configs.model_name) = models.model_name_lower
),

unioned as (
    select
        account_id,
        region,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower,
        training_job_arn as resource_arn,
        tags,
        nullif(regexp_extract(role_arn, '[^/]+$'), '') as role_name,
        experiment_name,
        trial_name,
        tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        cast(null as varchar) as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        -- A flexible job (InstancePreferences) runs, and is billed, on the instances SageMaker selected.
        coalesce(selected_instance_count, instance_count) as instance_count,
        coalesce(selected_instance_type, instance_type) as instance_type,
        cast(null as varchar) as owner_user_profile_name,
        created_at,
        -- Names reused after deletion: each incarnation until the next (macros/name_reuse_interval.sql).
        valid_from,
        valid_to
    from training_jobs

    union all

    select
        account_id,
        region,
        'processing-job' as resource_type,
        processing_job_name_lower as resource_name_lower,
        processing_job_arn as resource_arn,
        tags,
        nullif(regexp_extract(role_arn, '[^/]+$'), '') as role_name,
        experiment_name,
        trial_name,
        cast(null as varchar) as tuning_job_arn,
        training_job_arn as linked_training_job_arn,
        cast(null as varchar) as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        cast(null as bigint) as instance_count,
        cast(null as varchar) as instance_type,
        cast(null as varchar) as owner_user_profile_name,
        created_at,
        valid_from,
        valid_to
    from processing_jobs

    union all

    select
        account_id,
        region,
        'transform-job' as resource_type,
        transform_job_name_lower as resource_name_lower,
        transform_job_arn as resource_arn,
        tags,
        cast(null as varchar) as role_name,
        experiment_name,
        trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        model_name as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        cast(null as bigint) as instance_count,
        cast(null as varchar) as instance_type,
        cast(null as varchar) as owner_user_profile_name,
        created_at,
        valid_from,
        valid_to
    from transform_jobs

    union all

    select
        endpoints.account_id,
        endpoints.region,
        'endpoint' as resource_type,
        endpoints.endpoint_name_lower as resource_name_lower,
        endpoints.endpoint_arn as resource_arn,
        endpoints.tags,
        cast(null as varchar) as role_name,
        cast(null as varchar) as experiment_name,
        cast(null as varchar) as trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        config_primary_variant.model_name as sagemaker_model_name,
        endpoints.endpoint_config_name,
        case
            when config_primary_variant.container_mode = 'MultiModel' then 'multi_model'
            when config_primary_variant.model_name is null then 'inference_components'
            else 'single_model'
        end as endpoint_mode,
        config_primary_variant.initial_instance_count as instance_count,
        config_primary_variant.instance_type,
        cast(null as varchar) as owner_user_profile_name,
        endpoints.endpoint_created_at as created_at,
        endpoints.config_active_from as valid_from,
        coalesce(endpoints.config_active_to, endpoints.endpoint_deleted_at) as valid_to
    from endpoints
    left join config_primary_variant
        on endpoints.account_id = config_primary_variant.account_id
            and endpoints.region = config_primary_variant.region
            and endpoints.endpoint_config_name = config_primary_variant.endpoint_config_name
            and config_primary_variant.variant_rank = 1

    union all

    select
        account_id,
        region,
        'notebook-instance' as resource_type,
        notebook_instance_name_lower as resource_name_lower,
        notebook_instance_arn as resource_arn,
        tags,
        nullif(regexp_extract(role_arn, '[^/]+$'), '') as role_name,
        cast(null as varchar) as experiment_name,
        cast(null as varchar) as trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        cast(null as varchar) as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        cast(null as bigint) as instance_count,
        instance_type,
        cast(null as varchar) as owner_user_profile_name,
        created_at,
        created_at as valid_from,
        cast(null as timestamp) as valid_to
    from notebook_instances

    union all

    select
        studio_apps.account_id,
        studio_apps.region,
        'app' as resource_type,
        {{ arn_resource_name('studio_apps.app_arn') }} as resource_name_lower,
        studio_apps.app_arn as resource_arn,
        studio_apps.tags,
        cast(null as varchar) as role_name,
        cast(null as varchar) as experiment_name,
        cast(null as varchar) as trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        cast(null as varchar) as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        cast(null as bigint) as instance_count,
        studio_apps.instance_type,
        coalesce(studio_apps.user_profile_name, studio_spaces.owner_user_profile_name) as owner_user_profile_name,
        studio_apps.created_at,
        studio_apps.created_at as valid_from,
        cast(null as timestamp) as valid_to
    from studio_apps
    left join studio_spaces
        on studio_apps.account_id = studio_spaces.account_id
            and studio_apps.region = studio_spaces.region
            and studio_apps.domain_id = studio_spaces.domain_id
            and studio_apps.space_name = studio_spaces.space_name

    union all

    -- Not billed itself (its endpoint's instances are), but an allocation target: the usage split
    -- divides the endpoint's charges among its components and takes each one's owner from here.
    select
        account_id,
        region,
        'inference-component' as resource_type,
        inference_component_name_lower as resource_name_lower,
        inference_component_arn as resource_arn,
        tags,
        cast(null as varchar) as role_name,
        cast(null as varchar) as experiment_name,
        cast(null as varchar) as trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        model_name as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        cast(null as bigint) as instance_count,
        cast(null as varchar) as instance_type,
        cast(null as varchar) as owner_user_profile_name,
        created_at,
        created_at as valid_from,
        cast(null as timestamp) as valid_to
    from inference_components

    union all

    -- HyperPod: the bill names a cluster by its ARN, which carries the cluster ID, not the name, and
    -- an ID is never reused (a name is): one row per cluster, valid from its creation on. The
    -- deletion time is not in the API (a deleted cluster just leaves ListClusters), and needs no
    -- interval: no later cluster can take the ID.
    select
        account_id,
        region,
        'cluster' as resource_type,
        lower(cluster_id) as resource_name_lower,
        cluster_arn as resource_arn,
        tags,
        nullif(regexp_extract(execution_role_arn, '[^/]+$'), '') as role_name,
        cast(null as varchar) as experiment_name,
        cast(null as varchar) as trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        cast(null as varchar) as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        instance_count,
        cast(null as varchar) as instance_type,
        cast(null as varchar) as owner_user_profile_name,
        created_at,
        created_at as valid_from,
        cast(null as timestamp) as valid_to
    from clusters

    union all

    -- The upfront fee of a training plan bills on the plan's ARN; its owner (tags) takes the
    -- reserved hours no job used (int_sagemaker_training_plan_shares). A plan cannot be deleted, so
    -- its name is never reused: one row, valid whenever its fee is billed (bought before it starts).
    select
        account_id,
        region,
        'training-plan' as resource_type,
        training_plan_name_lower as resource_name_lower,
        training_plan_arn as resource_arn,
        tags,
        cast(null as varchar) as role_name,
        cast(null as varchar) as experiment_name,
        cast(null as varchar) as trial_name,
        cast(null as varchar) as tuning_job_arn,
        cast(null as varchar) as linked_training_job_arn,
        cast(null as varchar) as sagemaker_model_name,
        cast(null as varchar) as endpoint_config_name,
        cast(null as varchar) as endpoint_mode,
        total_instance_count as instance_count,
        cast(null as varchar) as instance_type,
        cast(null as varchar) as owner_user_profile_name,
        started_at as created_at,
        cast('2000-01-01 00:00:00' as timestamp) as valid_from,
        cast(null as timestamp) as valid_to
    from training_plans
),

final as (
    select
        {{ hash_key(['account_id', 'region', 'resource_type', 'resource_name_lower', 'valid_from', 'endpoint_config_name']) }}
            as resource_key,
        *
    from unioned
)

select * from final
