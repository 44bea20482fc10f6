{#- The "never used again" list: per billing period, each S3 prefix and ECR image SageMaker work
    keeps, with what its storage cost that period and who owns it, when a resource that storage_references
    it last ran, and whether it is stale — nothing referencing it (no endpoint serving it, no job
    reading or writing it) ran in the last var('stale_artifact_days', 30) days of the period, or
    nothing references it at all. The storage cost of a stale artifact is the monthly saving of
    deleting it (or moving it to a colder class). Ranked by cost within the period. -#}
{{ config(**billing_period_incremental_config()) }}
with

allocations as (
    select * from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window('billing_period') }}
    {%- endif %}
),

storage_references as (
    select * from {{ ref('int_sagemaker_storage_references') }}
),

sagemaker_usage as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    where usage_hours > 0
),

artifact_costs as (
    select
        billing_period,
        billing_currency,
        sub_account_id,
        region_id,
        case when link_method = 's3_prefix' then 's3_prefix' else 'ecr_image' end as artifact_kind,
        link_detail as artifact_location,
        model,
        team,
        max(charge_period_start) as period_last_charged_at,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as storage_cost
    from allocations
    where link_method in ('s3_prefix', 'ecr_image')
        and cost_component in ('s3_storage', 'ecr_storage')
        and link_detail is not null
    group by billing_period, billing_currency, sub_account_id, region_id, link_method, link_detail, model, team
),

reference_locations as (
    select distinct
        account_id,
        region,
        coalesce('s3://' || s3_bucket || '/' || s3_key_prefix, location_uri) as artifact_location,
        resource_type,
        resource_name_lower
    from storage_references
    where location_kind in ('s3', 'ecr')
),

-- When each resource last ran, per billing period it ran in: an artifact's last use is read as of
-- its period (never from a later one), so a rebuilt month equals what an incremental run built.
resource_last_used as (
    select
        billing_period,
        sub_account_id as account_id,
        region_id as region,
        resource_type,
        resource_name as resource_name_lower,
        max(charge_period_end) as last_used_at
    from sagemaker_usage
    group by billing_period, sub_account_id, region_id, resource_type, resource_name
),

artifact_periods as (
    select distinct
        billing_period,
        sub_account_id,
        region_id,
        artifact_location
    from artifact_costs
),

artifact_last_used as (
    select
        artifact_periods.billing_period,
        artifact_periods.sub_account_id,
        artifact_periods.region_id,
        artifact_periods.artifact_location,
        count(distinct reference_locations.resource_type || '/' || reference_locations.resource_name_lower)
            as referencing_resources,
        max(resource_last_used.last_used_at) as last_used_at
    from artifact_periods
    inner join reference_locations
        on artifact_periods.sub_account_id = reference_locations.account_id
            and artifact_periods.region_id = reference_locations.region
            and artifact_periods.artifact_location = reference_locations.artifact_location
    left join resource_last_used
        on reference_locations.account_id = resource_last_used.account_id
            and reference_locations.region = resource_last_used.region
            and reference_locations.resource_type = resource_last_used.resource_type
            and reference_locations.resource_name_lower = resource_last_used.resource_name_lower
            and artifact_periods.billing_period >= resource_last_used.billing_period
    group by
        artifact_periods.billing_period,
        artifact_periods.sub_account_id,
        artifact_periods.region_id,
        artifact_periods.artifact_location
),

final as (
    select
        artifact_costs.sub_account_id,
        artifact_costs.region_id,
        artifact_costs.artifact_kind,
        artifact_costs.artifact_location,
        artifact_costs.model,
        artifact_costs.team,
        artifact_costs.billing_currency,
        artifact_costs.storage_cost,
        coalesce(artifact_last_used.referencing_resources, 0) as referencing_resources,
        artifact_last_used.last_used_at,
        coalesce(
            artifact_last_used.last_used_at is null
            or {{ hours_between('artifact_last_used.last_used_at', 'artifact_costs.period_last_charged_at') }}
            > 24 * {{ var('stale_artifact_days', 30) | int }},
            true
        ) as is_stale,
        row_number() over (
            partition by artifact_costs.billing_period, artifact_costs.billing_currency
            order by
                artifact_costs.storage_cost desc,
                artifact_costs.artifact_location asc,
                artifact_costs.model asc,
                artifact_costs.team asc
        ) as cost_rank,
        artifact_costs.billing_period
    from artifact_costs
    left join artifact_last_used
        on artifact_costs.billing_period = artifact_last_used.billing_period
            and artifact_costs.sub_account_id = artifact_last_used.sub_account_id
            and artifact_costs.region_id = artifact_last_used.region_id
            and artifact_costs.artifact_location = artifact_last_used.artifact_location
)

select * from final
