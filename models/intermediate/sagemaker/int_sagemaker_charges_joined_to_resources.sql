{#- Each SageMaker charge with the resource it bills, matched on account, region, ARN resource type
    and lowercased name, and on time: of the resource's validity intervals (endpoint incarnations
    and configs) the one overlapping the charge period most wins; when none overlaps (metadata that
    starts after the charge), the nearest one, flagged. Charges without a match keep null resource
    columns: they are still allocated, by tags or as unattributed. The charge's bill tags (the
    first evidence in the allocation's precedence) join here too. -#}
with

charges as (
    select * from {{ ref('int_sagemaker_charges_classified') }}
),

tags as (
    select * from {{ ref('int_focus_charge_tags_normalised') }}
),

resources as (
    select * from {{ ref('int_sagemaker_resources_attributed') }}
),

-- The columns the match needs, read from the table, not `charges`: DuckDB materialises a CTE two
-- parts of a query read, here every SageMaker charge with all its columns.
charge_resources as (
    select
        charge_id,
        resource_account_id,
        resource_region,
        resource_type,
        resource_name_lower,
        charge_period_start_at,
        charge_period_end_at
    from {{ ref('int_sagemaker_charges_classified') }}
    where resource_name_lower is not null
),

candidates as (
    select
        charge_resources.charge_id,
        resources.resource_key,
        {{ overlap_ms(
            'charge_resources.charge_period_start_at', 'charge_resources.charge_period_end_at',
            'resources.valid_from', 'resources.valid_to'
        ) }} as overlap_ms
    from charge_resources
    inner join resources
        on charge_resources.resource_account_id = resources.account_id
            and charge_resources.resource_region = resources.region
            and charge_resources.resource_type = resources.resource_type
            and charge_resources.resource_name_lower = resources.resource_name_lower
),

best_match as (
    select
        charge_id,
        resource_key,
        overlap_ms > 0 as is_time_matched
    from (
        select
            *,
            row_number() over (partition by charge_id order by overlap_ms desc, resource_key asc) as match_rank
        from candidates
    ) as ranked
    where match_rank = 1
),

final as (
    select
        charges.*,
        tags.tag_team,
        tags.tag_model,
        tags.tag_experiment,
        tags.tag_environment,
        best_match.resource_key,
        best_match.is_time_matched,
        resources.endpoint_config_name,
        resources.endpoint_mode,
        resources.instance_count as resource_instance_count,
        resources.instance_type as resource_instance_type,
        resources.trial_name,
        resources.api_model,
        resources.api_team,
        resources.api_experiment,
        resources.api_environment,
        resources.link_model,
        resources.link_team,
        resources.link_experiment,
        resources.link_environment,
        resources.mlflow_model,
        resources.mlflow_team,
        resources.mlflow_experiment,
        resources.mlflow_environment,
        resources.wandb_model,
        resources.wandb_team,
        resources.wandb_experiment,
        resources.wandb_environment,
        resources.rule_model,
        resources.rule_team
    from charges
    left join tags
        on charges.charge_id = tags.charge_id
    left join best_match
        on charges.charge_id = best_match.charge_id
    left join resources
        on best_match.resource_key = resources.resource_key
)

select * from final
