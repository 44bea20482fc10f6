{#- The answer to "explain this bill": every SageMaker-scope charge, allocated to one or more
    targets (shared endpoints split by use), each dimension resolved on its own in this precedence:
        bill tag -> API tag -> metadata link -> seed rule -> unattributed (with a reason).
    On shared endpoints the usage split decides the model (one model tag cannot be right for all).
    Grain: one charge x one allocation target. Shares sum to 1 per charge, so every dollar of the
    staged SageMaker bill appears here exactly once (reconciliation tests fail the build if not).
    Incremental by billing period: a run rewrites the periods staging holds (the lookback window,
    or everything on --full-refresh) — Athena overwrites those partitions, DuckDB deletes and
    re-inserts them — and keeps the rest. -#}
{{ config(**billing_period_incremental_config()) }}
with

charges as (
    select * from {{ ref('int_sagemaker_charges_joined_to_resources') }}
),

-- Charges a usage split divides: shared endpoints by use, training-plan fees by the jobs on the plan.
shares as (
    select * from {{ ref('int_sagemaker_endpoint_usage_shares') }}
    union all
    select * from {{ ref('int_sagemaker_training_plan_shares') }}
),

account_rules as (
    select * from {{ ref('attribution_rules_account_environment') }}
),

allocated as (
    select
        charges.*,
        shares.model as split_model,
        shares.team as split_team,
        shares.team_source as split_team_source,
        shares.charge_id is not null as is_split,
        coalesce(shares.allocation_method, 'direct') as allocation_method,
        coalesce(shares.allocation_share, cast(1 as double)) as allocation_share,
        account_rules.environment as rule_environment,
        charges.sagemaker_category in ('savings_plan_fee', 'savings_plan_unused') as is_commitment_charge
    from charges
    left join shares
        on charges.charge_id = shares.charge_id
    left join account_rules
        on charges.sub_account_id = account_rules.account_id
),

-- Precedence: macros/attribution_precedence.sql. A usage-split share takes its model from the
-- split, and its team from the split target's own owner where it has one (an inference component
-- another team owns); idle capacity and multi-model shares keep the endpoint's team.
resolved as (
    select
        *,
        case
            when is_commitment_charge then null
            when is_split then split_model
            else {{ resolved_by_precedence('model') }}
        end as resolved_model,
        case
            when is_commitment_charge then 'unattributed'
            when is_split and split_model = '__idle__' then 'idle'
            when is_split and split_model is not null then 'usage_split'
            when is_split then 'unattributed'
            else {{ resolved_source('model') }}
        end as model_source,
        case
            when not is_commitment_charge then coalesce(split_team, {{ resolved_by_precedence('team') }})
        end as resolved_team,
        case
            when is_commitment_charge then 'unattributed'
            when split_team is not null then split_team_source
            else {{ resolved_source('team') }}
        end as team_source,
        case
            when not is_commitment_charge and coalesce(split_model, '') <> '__idle__'
                then {{ resolved_by_precedence('experiment', ['tag', 'api', 'link', 'mlflow', 'wandb']) }}
        end as resolved_experiment,
        case
            when is_commitment_charge or split_model = '__idle__' then 'unattributed'
            else {{ resolved_source('experiment', ['tag', 'api', 'link', 'mlflow', 'wandb']) }}
        end as experiment_source,
        {{ resolved_by_precedence('environment') }} as resolved_environment,
        {{ resolved_source('environment') }} as environment_source
    from allocated
),

final as (
    select
        {{ hash_key(['charge_id', 'resolved_model', 'resolved_team', 'allocation_method']) }} as allocation_id,
        charge_id,
        billing_account_id,
        sub_account_id,
        region_id,
        billing_currency,
        service_code,
        charge_category,
        charge_class,
        sagemaker_category,
        usage_type,
        resource_type,
        resource_name_lower as resource_name,
        resource_id as resource_arn,
        instance_type,
        endpoint_mode,
        coalesce(resolved_model, 'unattributed') as model,
        coalesce(resolved_team, 'unattributed') as team,
        coalesce(resolved_experiment, 'unattributed') as experiment,
        coalesce(resolved_environment, 'unattributed') as environment,
        trial_name as trial,
        model_source,
        team_source,
        experiment_source,
        environment_source,
        case
            when model_source <> 'unattributed' and team_source <> 'unattributed' then null
            when is_commitment_charge then 'shared_commitment'
            when resource_id is null then 'no_resource_id'
            when resource_key is null then 'no_metadata'
            else 'no_tag_or_rule'
        end as unattributed_reason,
        allocation_method,
        allocation_share,
        billed_cost * allocation_share as billed_cost,
        effective_cost * allocation_share as effective_cost,
        list_cost * allocation_share as list_cost,
        usage_hours * allocation_share as usage_hours,
        is_commitment_covered,
        coalesce(is_time_matched, false) as is_time_matched,
        tag_team is not null
        and tag_model is not null
        and tag_experiment is not null
        and tag_environment is not null as has_all_bill_tags,
        charge_period_start_at as charge_period_start,
        charge_period_end_at as charge_period_end,
        -- Last: the partition column of the Athena table.
        billing_period
    from resolved
)

select * from final
