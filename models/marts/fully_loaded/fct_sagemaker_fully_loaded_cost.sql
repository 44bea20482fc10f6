{#- What a model really costs: every SageMaker-scope allocation (fct_sagemaker_cost_allocations,
    as is) and every in-scope neighbour charge (S3, ECR, CloudWatch, data transfer, EFS, FSx,
    network: int_neighbour_charges) allocated to the model, team, experiment and environment that
    caused it. A neighbour charge reaches its owners through its links (int_neighbour_charge_links:
    a prefix, an image, a log group, a file system, a tag or a rule) and then the linked resource's
    owners (int_sagemaker_resource_owners: the same evidence and usage split as its compute, in the
    charge's billing period, else in the latest earlier period the resource was billed). Grain: one charge x
    one allocation target; shares sum to 1 per charge, so the total per period is the SageMaker
    total plus the in-scope neighbour total (tests fail the build if not). Incremental by billing
    period like the fact. -#}
{{ config(**billing_period_incremental_config()) }}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window('billing_period') }}
    {%- endif %}
),

taxonomy as (
    select * from {{ ref('usage_type_taxonomy') }}
),

neighbour_charges as (
    select * from {{ ref('int_neighbour_charges') }}
),

links as (
    select * from {{ ref('int_neighbour_charge_links') }}
),

owners as (
    select * from {{ ref('int_sagemaker_resource_owners') }}
),

-- The links to a resource, read from the table again rather than from `links`: a CTE two parts of
-- a query read is one DuckDB materialises, and `links` is every charge's links (2.6 GB at 2.87 M
-- bill rows, spilled under the memory limit). Two narrow scans: 27.2 s became 17.3 s at that size.
resource_links as (
    select
        charge_id,
        linked_account_id,
        linked_region,
        linked_resource_type,
        linked_resource_name
    from {{ ref('int_neighbour_charge_links') }}
    where linked_resource_type is not null
),

sagemaker_components as (
    select distinct
        sagemaker_category,
        cost_component
    from taxonomy
),

owned_periods as (
    select distinct
        billing_period,
        account_id,
        region,
        resource_type,
        resource_name_lower
    from owners
),

-- Whose a linked resource is, as of the charge's period: its owners in that period, else in the
-- latest earlier period it was billed (the artifact outlives the job that wrote it). Never a later
-- period: a rebuilt month then equals what an incremental run built (tests/python/test_incremental.py).
linked_periods as (
    select
        resource_links.linked_account_id,
        resource_links.linked_region,
        resource_links.linked_resource_type,
        resource_links.linked_resource_name,
        neighbour_charges.billing_period,
        max(owned_periods.billing_period) as owner_period
    from resource_links
    inner join neighbour_charges
        on resource_links.charge_id = neighbour_charges.charge_id
    left join owned_periods
        on resource_links.linked_account_id = owned_periods.account_id
            and resource_links.linked_region = owned_periods.region
            and resource_links.linked_resource_type = owned_periods.resource_type
            and resource_links.linked_resource_name = owned_periods.resource_name_lower
            and neighbour_charges.billing_period >= owned_periods.billing_period
    group by
        resource_links.linked_account_id,
        resource_links.linked_region,
        resource_links.linked_resource_type,
        resource_links.linked_resource_name,
        neighbour_charges.billing_period
),

resource_owners as (
    select
        linked_periods.linked_account_id,
        linked_periods.linked_region,
        linked_periods.linked_resource_type,
        linked_periods.linked_resource_name,
        linked_periods.billing_period,
        owners.model,
        owners.team,
        owners.experiment,
        owners.environment,
        owners.model_source,
        owners.team_source,
        owners.experiment_source,
        owners.environment_source,
        owners.owner_share
    from linked_periods
    inner join owners
        on linked_periods.linked_account_id = owners.account_id
            and linked_periods.linked_region = owners.region
            and linked_periods.linked_resource_type = owners.resource_type
            and linked_periods.linked_resource_name = owners.resource_name_lower
            and linked_periods.owner_period = owners.billing_period
),

neighbour_allocations as (
    select
        neighbour_charges.charge_id,
        neighbour_charges.billing_account_id,
        neighbour_charges.sub_account_id,
        neighbour_charges.region_id,
        neighbour_charges.billing_currency,
        neighbour_charges.service_code,
        neighbour_charges.cost_component,
        neighbour_charges.usage_type,
        neighbour_charges.resource_id,
        links.linked_resource_type,
        links.linked_resource_name,
        coalesce(resource_owners.model, links.direct_model) as model,
        coalesce(resource_owners.team, links.direct_team) as team,
        coalesce(resource_owners.experiment, links.direct_experiment) as experiment,
        coalesce(resource_owners.environment, links.direct_environment) as environment,
        coalesce(resource_owners.model_source, case when links.direct_model is not null then links.direct_source end)
            as model_source,
        coalesce(resource_owners.team_source, case when links.direct_team is not null then links.direct_source end)
            as team_source,
        coalesce(
            resource_owners.experiment_source, case when links.direct_experiment is not null then links.direct_source end
        ) as experiment_source,
        coalesce(
            resource_owners.environment_source,
            case when links.direct_environment is not null then links.direct_source end
        ) as environment_source,
        links.link_method,
        links.link_detail,
        case
            when links.unattributed_reason is not null then links.unattributed_reason
            when links.linked_resource_type is not null and resource_owners.owner_share is null
                then 'linked_resource_not_billed'
        end as link_unattributed_reason,
        links.link_share * coalesce(resource_owners.owner_share, 1.0) as allocation_share,
        neighbour_charges.billed_cost,
        neighbour_charges.effective_cost,
        neighbour_charges.list_cost,
        neighbour_charges.charge_period_start_at,
        neighbour_charges.billing_period
    from neighbour_charges
    inner join links
        on neighbour_charges.charge_id = links.charge_id
    left join resource_owners
        on links.linked_account_id = resource_owners.linked_account_id
            and links.linked_region = resource_owners.linked_region
            and links.linked_resource_type = resource_owners.linked_resource_type
            and links.linked_resource_name = resource_owners.linked_resource_name
            and neighbour_charges.billing_period = resource_owners.billing_period
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window('neighbour_charges.billing_period') }}
    {%- endif %}
),

unioned as (
    select
        allocations.allocation_id,
        allocations.charge_id,
        allocations.billing_account_id,
        allocations.sub_account_id,
        allocations.region_id,
        allocations.billing_currency,
        allocations.service_code,
        true as is_sagemaker_line,
        coalesce(sagemaker_components.cost_component, 'sagemaker_compute') as cost_component,
        allocations.usage_type,
        allocations.resource_arn as resource_id,
        allocations.resource_type as linked_resource_type,
        allocations.resource_name as linked_resource_name,
        allocations.model,
        allocations.team,
        allocations.experiment,
        allocations.environment,
        allocations.model_source,
        allocations.team_source,
        allocations.experiment_source,
        allocations.environment_source,
        'sagemaker_line' as link_method,
        cast(null as varchar) as link_detail,
        allocations.unattributed_reason,
        allocations.allocation_share,
        allocations.billed_cost,
        allocations.effective_cost,
        allocations.list_cost,
        allocations.charge_period_start,
        allocations.billing_period
    from allocations
    left join sagemaker_components
        on allocations.sagemaker_category = sagemaker_components.sagemaker_category
    union all
    select
        {{ hash_key(['charge_id', 'link_method', 'link_detail', 'linked_resource_type', 'linked_resource_name',
            'model', 'team', 'experiment', 'environment', 'link_unattributed_reason']) }} as allocation_id,
        charge_id,
        billing_account_id,
        sub_account_id,
        region_id,
        billing_currency,
        service_code,
        false as is_sagemaker_line,
        cost_component,
        usage_type,
        resource_id,
        linked_resource_type,
        linked_resource_name,
        coalesce(model, 'unattributed') as model,
        coalesce(team, 'unattributed') as team,
        coalesce(experiment, 'unattributed') as experiment,
        coalesce(environment, 'unattributed') as environment,
        coalesce(model_source, 'unattributed') as model_source,
        coalesce(team_source, 'unattributed') as team_source,
        coalesce(experiment_source, 'unattributed') as experiment_source,
        coalesce(environment_source, 'unattributed') as environment_source,
        link_method,
        link_detail,
        case
            when link_unattributed_reason is not null then link_unattributed_reason
            when model is null or team is null then 'owner_partly_unknown'
            when model = 'unattributed' or team = 'unattributed' then 'linked_owner_unattributed'
        end as unattributed_reason,
        allocation_share,
        billed_cost * allocation_share as billed_cost,
        effective_cost * allocation_share as effective_cost,
        list_cost * allocation_share as list_cost,
        charge_period_start_at as charge_period_start,
        billing_period
    from neighbour_allocations
),

final as (
    select
        allocation_id,
        charge_id,
        billing_account_id,
        sub_account_id,
        region_id,
        billing_currency,
        service_code,
        is_sagemaker_line,
        cost_component,
        usage_type,
        resource_id,
        linked_resource_type,
        linked_resource_name,
        model,
        team,
        experiment,
        environment,
        model_source,
        team_source,
        experiment_source,
        environment_source,
        link_method,
        link_detail,
        unattributed_reason,
        allocation_share,
        billed_cost,
        effective_cost,
        list_cost,
        charge_period_start,
        -- Last: the partition column of the Athena table.
        billing_period
    from unioned
)

select * from final
