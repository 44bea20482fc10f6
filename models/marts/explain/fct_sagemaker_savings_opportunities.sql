{#- What to do first: one ranked list per billing period of the savings the explain marts found, each
    with the dollars it would have saved in that period (monthly_saving, at what was billed), the
    evidence, a confidence and the action. One saving per dollar: an endpoint that is forgotten
    offers only its deletion (not also its idle hours or a smaller size); a rightsizing saving is
    counted on the used hours only, so it never overlaps the idle one.
      forgotten_endpoint         delete it                                  high
      idle_endpoint              scale to zero / serverless / schedule      medium (idle >= half), else low
      idle_capacity              consolidate the shared endpoint            low
      over_provisioned_endpoint  the next size down                         medium
      notebook_out_of_hours      stop outside working hours                 high when it runs 24/7, else medium
      spot_training              managed spot for a model's on-demand jobs  high with checkpointing, else low
      stale_artifacts            delete or archive a team's stale S3 / ECR  medium
    Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

endpoints as (
    select * from {{ ref('fct_sagemaker_endpoint_idle_monthly') }}
    {{ where_in_billing_period_window() }}
),

notebooks as (
    select * from {{ ref('fct_sagemaker_notebook_hours_monthly') }}
    {{ where_in_billing_period_window() }}
),

training_jobs as (
    select * from {{ ref('fct_sagemaker_training_job_costs') }}
    {{ where_in_billing_period_window() }}
),

all_stale_artifacts as (
    select * from {{ ref('fct_sagemaker_stale_artifacts') }}
    {{ where_in_billing_period_window() }}
),

stale_artifacts as (
    select * from all_stale_artifacts
    where is_stale
),

endpoint_variants as (
    select
        *,
        case
            when is_over_provisioned then variant_name || ' ' || instance_type || ' -> ' || next_smaller_instance_type
        end as rightsizing_move
    from endpoints
),

-- Endpoint findings are per endpoint (its variants together): an endpoint is deleted whole.
endpoint_totals as (
    select
        billing_period,
        billing_currency,
        endpoint_arn,
        min(endpoint_name) as endpoint_name,
        min(endpoint_mode) as endpoint_mode,
        case when count(distinct team) = 1 then min(team) else 'shared' end as team,
        case when count(distinct model) = 1 then min(model) else 'shared' end as model,
        case when count(distinct environment) = 1 then min(environment) else 'shared' end as environment,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        cast(sum(cast(idle_cost as {{ money_decimal() }})) as double) as idle_cost,
        cast(sum(cast(rightsizing_saving as {{ money_decimal() }})) as double) as rightsizing_saving,
        bool_or(is_forgotten) as is_forgotten,
        max(idle_days) as idle_days,
        max(age_days) as age_days,
        {{ sorted_string_agg('rightsizing_move', "'; '") }} as rightsizing_moves,
        max(greatest(coalesce(cpu_peak_percent, 0), coalesce(gpu_peak_percent, 0), coalesce(memory_peak_percent, 0)))
            as peak_percent
    from endpoint_variants
    group by billing_period, billing_currency, endpoint_arn
),

forgotten as (
    select
        billing_period,
        billing_currency,
        'forgotten_endpoint' as opportunity_type,
        'endpoint' as resource_type,
        endpoint_arn as resource_arn,
        endpoint_name as resource_name,
        team,
        model,
        environment,
        effective_cost as current_cost,
        effective_cost as monthly_saving,
        'high' as confidence,
        'no invocations for ' || cast(cast(floor(idle_days) as integer) as varchar) || ' days, running for '
        || cast(cast(floor(age_days) as integer) as varchar) || ' days' as evidence,
        'Delete the endpoint (keep its endpoint config and model to re-create it); it serves no traffic' as action
    from endpoint_totals
    where is_forgotten
),

idle as (
    select
        billing_period,
        billing_currency,
        case when endpoint_mode = 'single_model' then 'idle_endpoint' else 'idle_capacity' end as opportunity_type,
        'endpoint' as resource_type,
        endpoint_arn as resource_arn,
        endpoint_name as resource_name,
        team,
        model,
        environment,
        effective_cost as current_cost,
        idle_cost as monthly_saving,
        case
            when endpoint_mode <> 'single_model' then 'low'
            when idle_cost >= 0.5 * effective_cost then 'medium'
            else 'low'
        end as confidence,
        cast(cast(round(100 * idle_cost / nullif(effective_cost, 0)) as integer) as varchar) || '% of its instance cost idle ('
        || case
            when endpoint_mode = 'single_model' then 'hours without invocations'
            else 'hours without traffic or capacity no component reserves'
        end || ')' as evidence,
        case
            when endpoint_mode = 'single_model'
                then 'Scale to zero when idle (auto scaling MinCapacity 0), or move to serverless or asynchronous inference'
            else 'Consolidate: fewer or smaller instances for the models it hosts, or scale-to-zero components'
        end as action
    from endpoint_totals
    where not is_forgotten
        and idle_cost > 0
),

rightsizing as (
    select
        billing_period,
        billing_currency,
        'over_provisioned_endpoint' as opportunity_type,
        'endpoint' as resource_type,
        endpoint_arn as resource_arn,
        endpoint_name as resource_name,
        team,
        model,
        environment,
        effective_cost as current_cost,
        rightsizing_saving as monthly_saving,
        'medium' as confidence,
        'utilisation peaked at ' || cast(cast(round(peak_percent) as integer) as varchar)
        || '% (per vCPU, per GPU and memory) all month' as evidence,
        'Move to the next size down: ' || rightsizing_moves as action
    from endpoint_totals
    where not is_forgotten
        and rightsizing_saving > 0
),

notebook_hours as (
    select
        billing_period,
        billing_currency,
        'notebook_out_of_hours' as opportunity_type,
        resource_type,
        resource_arn,
        resource_name,
        team,
        cast(null as varchar) as model,
        environment,
        effective_cost as current_cost,
        out_of_hours_saving as monthly_saving,
        case when is_always_on then 'high' else 'medium' end as confidence,
        cast(cast(after_hours + weekend_hours as integer) as varchar) || ' of ' || cast(cast(billed_hours as integer) as varchar)
        || ' billed hours outside working hours' || case when is_always_on then ', running 24/7' else '' end
        || case when is_never_tagged then ', never tagged' else '' end as evidence,
        'Stop it outside working hours: an idle-shutdown lifecycle configuration or a schedule' as action
    from notebooks
    where out_of_hours_saving > 0
),

spot as (
    select
        billing_period,
        billing_currency,
        'spot_training' as opportunity_type,
        'training-job' as resource_type,
        cast(null as varchar) as resource_arn,
        model || ' on-demand training jobs' as resource_name,
        team,
        model,
        min(environment) as environment,
        cast(sum(cast(compute_cost as {{ money_decimal() }})) as double) as current_cost,
        cast(sum(cast(spot_saving_potential as {{ money_decimal() }})) as double) as monthly_saving,
        case when is_spot_feasible then 'high' else 'low' end as confidence,
        cast(count(*) as varchar) || ' on-demand jobs'
        || case when is_spot_feasible then ' that checkpoint' else ' without checkpointing' end
        || ' (managed spot saves ~' || cast(cast(100 * {{ var('managed_spot_saving_share') }} as integer) as varchar) || '%)'
            as evidence,
        case
            when is_spot_feasible then 'Enable managed spot training (EnableManagedSpotTraining, MaxWaitTimeInSeconds)'
            else 'Add checkpointing (CheckpointConfig), then enable managed spot training'
        end as action
    from training_jobs
    where not is_managed_spot
    group by billing_period, billing_currency, model, team, is_spot_feasible
    having sum(spot_saving_potential) > 0
),

stale as (
    select
        billing_period,
        billing_currency,
        'stale_artifacts' as opportunity_type,
        'storage' as resource_type,
        cast(null as varchar) as resource_arn,
        team || ' stale S3 prefixes and ECR images' as resource_name,
        team,
        cast(null as varchar) as model,
        cast(null as varchar) as environment,
        cast(sum(cast(storage_cost as {{ money_decimal() }})) as double) as current_cost,
        cast(sum(cast(storage_cost as {{ money_decimal() }})) as double) as monthly_saving,
        'medium' as confidence,
        cast(count(*) as varchar) || ' prefixes and images nothing used for '
        || cast({{ var('stale_artifact_days', 30) }} as varchar) || ' days' as evidence,
        'Delete or archive them (S3 lifecycle to Glacier, ECR lifecycle policy); list: fct_sagemaker_stale_artifacts' as action
    from stale_artifacts
    group by billing_period, billing_currency, team
    having sum(storage_cost) > 0
),

unioned as (
    select * from forgotten
    union all
    select * from idle
    union all
    select * from rightsizing
    union all
    select * from notebook_hours
    union all
    select * from spot
    union all
    select * from stale
),

final as (
    select
        {{ hash_key(['billing_period', 'billing_currency', 'opportunity_type', 'resource_arn', 'resource_name', 'team', 'confidence']) }}
            as opportunity_id,
        billing_currency,
        row_number() over (
            partition by billing_period, billing_currency
            order by monthly_saving desc, opportunity_type asc, resource_name asc
        ) as saving_rank,
        opportunity_type,
        resource_type,
        resource_arn,
        resource_name,
        team,
        model,
        environment,
        current_cost,
        monthly_saving,
        confidence,
        evidence,
        action,
        billing_period
    from unioned
)

select * from final
