{#- The neighbour services' usage charges that SageMaker work generates: every non-SageMaker usage
    charge whose service and usage type seeds/neighbour_cost_scope.csv declares (the first row by
    priority decides its cost_component and link_method) and that a link can reach — a bucket a
    SageMaker job, model or transform names, a repository holding an image they run, a
    /aws/sagemaker/ log group, the Studio home EFS, an FSx file system a training job mounts, or a
    charge carrying an attribution tag or matching a link rule. Everything else on those services
    (the company's other buckets, repositories, NAT traffic) is not SageMaker's and stays out. -#}
with

charges as (
    select * from {{ ref('stg_focus__charges') }}
    where not is_sagemaker and charge_category = 'Usage'
),

scope as (
    select * from {{ ref('neighbour_cost_scope') }}
),

link_rules as (
    select * from {{ ref('neighbour_link_rules') }}
),

storage_references as (
    select * from {{ ref('int_sagemaker_storage_references') }}
),

-- Patterns are matched once per distinct (service, usage type), not per row.
usage_types as (
    select distinct
        service_code,
        usage_type
    from charges
),

scope_matches as (
    select
        usage_types.service_code,
        usage_types.usage_type,
        scope.cost_component,
        scope.link_method,
        scope.s3_storage_class,
        row_number() over (
            partition by usage_types.service_code, usage_types.usage_type
            order by scope.priority
        ) as match_rank
    from usage_types
    inner join scope
        on usage_types.service_code = scope.service_code
            and coalesce(usage_types.usage_type, '') like scope.usage_type_pattern
),

matched as (
    select
        charges.*,
        scope_matches.cost_component,
        scope_matches.link_method,
        scope_matches.s3_storage_class,
        -- The name a link joins on: the bucket (S3's ResourceId), the repository or log group
        -- name, or the file-system id at the end of the EFS / FSx ARN.
        case
            when scope_matches.link_method in ('s3_prefix_bytes', 's3_prefix_objects') then charges.resource_id
            when scope_matches.link_method in ('studio_domain_efs', 'training_job_fsx')
                then lower(regexp_extract(charges.resource_id, '(fs-[0-9a-zA-Z]+)$', 1))
            else charges.resource_name_lower
        end as link_key
    from charges
    inner join scope_matches
        on charges.service_code = scope_matches.service_code
            and charges.usage_type is not distinct from scope_matches.usage_type
            and scope_matches.match_rank = 1
),

tagged as (
    select
        charge_id,
        tags
    from matched
    where tags is not null
),

charge_tags as (
    {{ normalised_tags('tagged', 'charge_id', 'tags') }}
),

rule_matches as (
    select
        matched.charge_id,
        link_rules.priority,
        link_rules.endpoint_name,
        link_rules.model,
        link_rules.team,
        link_rules.environment,
        row_number() over (partition by matched.charge_id order by link_rules.priority) as match_rank
    from matched
    inner join link_rules
        on matched.service_code = link_rules.service_code
            and coalesce(matched.usage_type, '') like link_rules.usage_type_pattern
            and coalesce(matched.resource_id, '') like link_rules.resource_id_pattern
),

ecr_images as (
    select * from {{ ref('stg_sagemaker__ecr_images') }}
),

s3_buckets as (
    select distinct s3_bucket from storage_references
    where location_kind = 's3' and s3_bucket is not null
),

ecr_repositories as (
    select distinct
        account_id,
        region,
        lower(regexp_extract(location_uri, '^[0-9]+\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/([^:@]+)', 1))
            as repository_name_lower
    from storage_references
    where location_kind = 'ecr'
    union
    -- The extractor lists only repositories SageMaker work uses (also models no endpoint runs).
    select distinct
        account_id,
        region,
        lower(repository_name) as repository_name_lower
    from ecr_images
),

file_systems as (
    select distinct file_system_id from storage_references
    where location_kind = 'file_system'
),

final as (
    select
        matched.charge_id,
        matched.billing_account_id,
        matched.sub_account_id,
        matched.region_id,
        matched.billing_currency,
        matched.service_code,
        matched.usage_type,
        matched.resource_id,
        matched.resource_name_lower,
        matched.cost_component,
        matched.link_method,
        matched.link_key,
        matched.s3_storage_class,
        matched.consumed_quantity,
        matched.consumed_unit,
        matched.billed_cost,
        matched.effective_cost,
        matched.list_cost,
        charge_tags.tag_model,
        charge_tags.tag_team,
        charge_tags.tag_experiment,
        charge_tags.tag_environment,
        rule_matches.endpoint_name as rule_endpoint_name,
        rule_matches.model as rule_model,
        rule_matches.team as rule_team,
        rule_matches.environment as rule_environment,
        case
            when matched.link_method in ('s3_prefix_bytes', 's3_prefix_objects') and s3_buckets.s3_bucket is not null
                then 'bucket_named_by_sagemaker'
            when matched.link_method = 'ecr_image_bytes' and ecr_repositories.repository_name_lower is not null
                then 'repository_used_by_sagemaker'
            when matched.link_method = 'log_group' and matched.resource_name_lower like '/aws/sagemaker/%'
                then 'sagemaker_log_group'
            when matched.link_method in ('studio_domain_efs', 'training_job_fsx') and file_systems.file_system_id is not null
                then 'file_system_used_by_sagemaker'
            when charge_tags.tag_model is not null or charge_tags.tag_team is not null then 'attribution_tag'
            when rule_matches.charge_id is not null then 'link_rule'
        end as scope_reason,
        matched.charge_period_start_at,
        matched.charge_period_end_at,
        matched.billing_period_start_at,
        matched.billing_period_end_at,
        matched.billing_period
    from matched
    left join charge_tags
        on matched.charge_id = charge_tags.charge_id
    left join rule_matches
        on matched.charge_id = rule_matches.charge_id
            and rule_matches.match_rank = 1
    left join s3_buckets
        on matched.link_method in ('s3_prefix_bytes', 's3_prefix_objects')
            and matched.link_key = s3_buckets.s3_bucket
    left join ecr_repositories
        on matched.link_method = 'ecr_image_bytes'
            and matched.sub_account_id = ecr_repositories.account_id
            and matched.region_id = ecr_repositories.region
            and matched.link_key = ecr_repositories.repository_name_lower
    left join file_systems
        on matched.link_method in ('studio_domain_efs', 'training_job_fsx')
            and matched.link_key = file_systems.file_system_id
)

select * from final
where scope_reason is not null
