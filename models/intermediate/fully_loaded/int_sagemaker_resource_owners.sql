{#- Who owns each billed SageMaker resource, per billing period, exactly as the SageMaker
    attribution decided for its compute: one row per resource, period and owner (a multi-model or
    inference-component endpoint has one per model), with the owner's share of the resource's
    list cost and the resource's usage hours. Neighbour charges linked to a resource are split by
    these shares, so a bucket's bytes follow the same evidence and the same usage split as the
    compute that put them there. Idle capacity (`__idle__`) owns no neighbour cost: shares are
    taken over the rest. -#}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    where resource_type is not null
        and resource_name is not null
        and charge_category = 'Usage'
        and model <> '__idle__'
),

by_owner as (
    select
        billing_period,
        sub_account_id as account_id,
        region_id as region,
        resource_type,
        resource_name as resource_name_lower,
        model,
        team,
        experiment,
        environment,
        model_source,
        team_source,
        experiment_source,
        environment_source,
        sum(abs(list_cost)) as owner_list_cost,
        sum(coalesce(usage_hours, 0)) as owner_usage_hours
    from allocations
    group by
        billing_period,
        sub_account_id,
        region_id,
        resource_type,
        resource_name,
        model,
        team,
        experiment,
        environment,
        model_source,
        team_source,
        experiment_source,
        environment_source
),

final as (
    select
        billing_period,
        account_id,
        region,
        resource_type,
        resource_name_lower,
        model,
        team,
        experiment,
        environment,
        model_source,
        team_source,
        experiment_source,
        environment_source,
        coalesce(
            owner_list_cost / nullif(sum(owner_list_cost) over (
                partition by billing_period, account_id, region, resource_type, resource_name_lower
            ), 0),
            1.0 / count(*) over (partition by billing_period, account_id, region, resource_type, resource_name_lower)
        ) as owner_share,
        sum(owner_usage_hours) over (
            partition by billing_period, account_id, region, resource_type, resource_name_lower
        ) as resource_usage_hours
    from by_owner
)

select * from final
