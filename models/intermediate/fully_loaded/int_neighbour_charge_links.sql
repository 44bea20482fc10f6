{#- Each in-scope neighbour charge linked to what caused it, one row per charge and link target,
    with link_share summing to 1 per charge. A target is a billed SageMaker resource (whose owners
    then take the cost: int_sagemaker_resource_owners), an owner named directly (a tag, a link
    rule), or nobody (`unattributed_reason` says why). The rules, one CTE each:
      S3, ECR        through the prefixes and images SageMaker work uses (int_neighbour_storage_links);
      log groups     /aws/sagemaker/Endpoints/<name> to that endpoint; the shared job, notebook and
                     Studio groups across the period's resources of that type by usage hours
                     (one log stream per job, and a job logs about as much per hour it runs);
      EFS, FSx       across the Studio apps of the domain it is home to / the training jobs that
                     mount it, by usage hours;
      tag or rule    the charge's attribution tags, else the first link rule (to an endpoint, or
                     to a team / model / environment), else unattributed. -#}
with

charges as (
    select * from {{ ref('int_neighbour_charges') }}
),

storage_references as (
    select * from {{ ref('int_sagemaker_storage_references') }}
),

storage_links as (
    select * from {{ ref('int_neighbour_storage_links') }}
),

owners as (
    select * from {{ ref('int_sagemaker_resource_owners') }}
),

log_group_rules as (
    select * from {{ ref('neighbour_log_groups') }}
),

-- Usage hours of each billed resource in each period (0 for a resource billed only for storage).
resource_hours as (
    select distinct
        billing_period,
        account_id,
        region,
        resource_type,
        resource_name_lower,
        resource_usage_hours
    from owners
),

-- ---------------------------------------------------------- log groups ----------------------
log_charges as (
    select
        charges.*,
        log_group_rules.resource_type as log_resource_type,
        log_group_rules.split_by,
        row_number() over (partition by charges.charge_id order by length(log_group_rules.log_group_pattern) desc)
            as rule_rank
    from charges
    left join log_group_rules
        on charges.resource_name_lower like log_group_rules.log_group_pattern
    where charges.link_method = 'log_group'
),

log_targets as (
    select
        log_charges.charge_id,
        log_charges.resource_id as link_detail,
        resource_hours.account_id,
        resource_hours.region,
        resource_hours.resource_type,
        resource_hours.resource_name_lower,
        case
            when log_charges.split_by = 'log_group_name' then 1.0
            else resource_hours.resource_usage_hours
        end as weight
    from log_charges
    inner join resource_hours
        on log_charges.billing_period = resource_hours.billing_period
            and log_charges.sub_account_id = resource_hours.account_id
            and log_charges.region_id = resource_hours.region
            and log_charges.log_resource_type = resource_hours.resource_type
            and (
                log_charges.split_by <> 'log_group_name'
                or resource_hours.resource_name_lower
                = substr(log_charges.resource_name_lower, length('/aws/sagemaker/endpoints/') + 1)
            )
    where log_charges.rule_rank = 1
),

log_links as (
    select
        charge_id,
        link_detail,
        account_id,
        region,
        resource_type,
        resource_name_lower,
        weight / sum(weight) over (partition by charge_id) as link_share,
        'log_group' as link_method
    from log_targets
    where weight > 0
),

log_unlinked as (
    select
        log_charges.charge_id,
        1.0 as link_share,
        case
            when log_charges.log_resource_type is null then 'log_group_without_link'
            else 'no_resource_in_period'
        end as unattributed_reason
    from log_charges
    where log_charges.rule_rank = 1
        and not exists (
            select 1 from log_targets
            where log_targets.charge_id = log_charges.charge_id and log_targets.weight > 0
        )
),

-- --------------------------------------------------------------- EFS, FSx -------------------
file_system_targets as (
    select
        charges.charge_id,
        charges.resource_id as link_detail,
        storage_references.account_id,
        storage_references.region,
        storage_references.resource_type,
        storage_references.resource_name_lower,
        coalesce(resource_hours.resource_usage_hours, 0) as weight
    from charges
    inner join storage_references
        on storage_references.location_kind = 'file_system'
            and charges.link_key = storage_references.file_system_id
            and (
                (charges.link_method = 'studio_domain_efs' and storage_references.resource_type = 'app')
                or (charges.link_method = 'training_job_fsx' and storage_references.resource_type = 'training-job')
            )
    inner join resource_hours
        on charges.billing_period = resource_hours.billing_period
            and storage_references.account_id = resource_hours.account_id
            and storage_references.region = resource_hours.region
            and storage_references.resource_type = resource_hours.resource_type
            and storage_references.resource_name_lower = resource_hours.resource_name_lower
    where charges.link_method in ('studio_domain_efs', 'training_job_fsx')
),

file_system_links as (
    select
        charge_id,
        link_detail,
        account_id,
        region,
        resource_type,
        resource_name_lower,
        weight / sum(weight) over (partition by charge_id) as link_share,
        case when resource_type = 'app' then 'studio_domain_efs' else 'training_job_fsx' end as link_method
    from file_system_targets
    where weight > 0
),

-- ------------------------------------------------------------ tag or rule -------------------
-- Also where a structural link finds nothing in the period, a tag or rule still decides.
-- The storage-linked charges read from the table, not `storage_links`: DuckDB materialises a CTE
-- two parts of a query read, and that one holds every S3 and ECR charge x prefix or image.
structurally_linked as (
    select charge_id from {{ ref('int_neighbour_storage_links') }}
    union
    select charge_id from log_links
    union
    select charge_id from file_system_links
),

tag_or_rule as (
    select * from charges
    where
        charges.charge_id not in (select structurally_linked.charge_id from structurally_linked)
        and charges.charge_id not in (select log_unlinked.charge_id from log_unlinked)
),

rule_endpoint_links as (
    select
        tag_or_rule.charge_id,
        'rule:endpoint/' || tag_or_rule.rule_endpoint_name as link_detail,
        resource_hours.account_id,
        resource_hours.region,
        resource_hours.resource_type,
        resource_hours.resource_name_lower,
        1.0 as link_share,
        'link_rule' as link_method
    from tag_or_rule
    inner join resource_hours
        on tag_or_rule.billing_period = resource_hours.billing_period
            and tag_or_rule.sub_account_id = resource_hours.account_id
            and tag_or_rule.region_id = resource_hours.region
            and resource_hours.resource_type = 'endpoint'
            and resource_hours.resource_name_lower = lower(tag_or_rule.rule_endpoint_name)
    where tag_or_rule.tag_model is null
        and tag_or_rule.tag_team is null
        and tag_or_rule.rule_endpoint_name is not null
),

direct_links as (
    select
        charge_id,
        coalesce(resource_id, usage_type) as link_detail,
        coalesce(tag_model, rule_model) as direct_model,
        coalesce(tag_team, rule_team) as direct_team,
        tag_experiment as direct_experiment,
        coalesce(tag_environment, rule_environment) as direct_environment,
        case when tag_model is not null or tag_team is not null then 'bill_tag' else 'rule' end as direct_source,
        case when tag_model is not null or tag_team is not null then 'bill_tag' else 'link_rule' end as link_method
    from tag_or_rule
    where (tag_model is not null or tag_team is not null or rule_team is not null or rule_model is not null)
        and tag_or_rule.charge_id not in (select rule_endpoint_links.charge_id from rule_endpoint_links)
),

-- ------------------------------------------------------------------ all ---------------------
resource_links as (
    select * from log_links
    union all
    select * from file_system_links
    union all
    select * from rule_endpoint_links
),

unattributed as (
    select
        charge_id,
        'log_group' as link_method,
        link_share,
        unattributed_reason
    from log_unlinked
    union all
    select
        charge_id,
        'none' as link_method,
        1.0 as link_share,
        'no_link_in_period' as unattributed_reason
    from tag_or_rule
    where
        tag_or_rule.charge_id not in (select rule_endpoint_links.charge_id from rule_endpoint_links)
        and tag_or_rule.charge_id not in (select direct_links.charge_id from direct_links)
),

final as (
    select
        charge_id,
        link_method,
        link_detail,
        linked_account_id,
        linked_region,
        linked_resource_type,
        linked_resource_name,
        cast(null as varchar) as direct_model,
        cast(null as varchar) as direct_team,
        cast(null as varchar) as direct_experiment,
        cast(null as varchar) as direct_environment,
        cast(null as varchar) as direct_source,
        unattributed_reason,
        link_share
    from storage_links
    union all
    select
        charge_id,
        link_method,
        link_detail,
        account_id as linked_account_id,
        region as linked_region,
        resource_type as linked_resource_type,
        resource_name_lower as linked_resource_name,
        cast(null as varchar) as direct_model,
        cast(null as varchar) as direct_team,
        cast(null as varchar) as direct_experiment,
        cast(null as varchar) as direct_environment,
        cast(null as varchar) as direct_source,
        cast(null as varchar) as unattributed_reason,
        link_share
    from resource_links
    union all
    select
        charge_id,
        link_method,
        link_detail,
        cast(null as varchar) as linked_account_id,
        cast(null as varchar) as linked_region,
        cast(null as varchar) as linked_resource_type,
        cast(null as varchar) as linked_resource_name,
        direct_model,
        direct_team,
        direct_experiment,
        direct_environment,
        direct_source,
        cast(null as varchar) as unattributed_reason,
        1.0 as link_share
    from direct_links
    union all
    select
        charge_id,
        link_method,
        cast(null as varchar) as link_detail,
        cast(null as varchar) as linked_account_id,
        cast(null as varchar) as linked_region,
        cast(null as varchar) as linked_resource_type,
        cast(null as varchar) as linked_resource_name,
        cast(null as varchar) as direct_model,
        cast(null as varchar) as direct_team,
        cast(null as varchar) as direct_experiment,
        cast(null as varchar) as direct_environment,
        cast(null as varchar) as direct_source,
        unattributed_reason,
        link_share
    from unattributed
    where link_share > 0
)

select * from final
