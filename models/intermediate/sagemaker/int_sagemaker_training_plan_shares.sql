{#- How each training plan's upfront fee divides among what used the plan, one row per fee charge
    and target, shares summing to 1 per charge: each job that ran on the plan (its
    ResourceConfig.TrainingPlanArn) by its instance-hours inside the plan's window, of the plan's
    reserved instance-hours (total instance count x window); the reserved hours no job used ->
    `__idle__`, owned by the plan's own owner (its tags, resolved in the allocation). The fee is
    amortised over the jobs rather than kept as a commitment like the Savings Plan's: a plan buys
    specific capacity for specific work, so the team whose jobs ran on it pays for it, and the team
    that bought it pays for what it left unused. Each job's model and team are its owner as
    int_sagemaker_resources_attributed decides it; this model only splits. Jobs over-running the
    reservation (overlapping hours counted twice) divide the fee among themselves: no idle share.
    Endpoints, HyperPod clusters and Studio apps on a plan are not landed with their plan yet, so
    a plan used only by them keeps its whole fee on its owner (no row here: a direct allocation). -#}
with

fee_charges as (
    select * from {{ ref('int_sagemaker_charges_joined_to_resources') }}
    where sagemaker_category = 'training_plan_fee'
),

plans as (
    select * from {{ ref('stg_sagemaker__training_plans') }}
),

training_jobs as (
    select * from {{ ref('stg_sagemaker__training_jobs') }}
    where training_plan_arn is not null
),

job_owners as (
    select * from {{ ref('int_sagemaker_resources_attributed') }}
    where resource_type = 'training-job'
),

plan_fees as (
    select
        fee_charges.charge_id,
        plans.training_plan_arn,
        plans.started_at,
        plans.ended_at,
        plans.total_instance_count
        * cast({{ overlap_ms('plans.started_at', 'plans.ended_at', 'plans.started_at', 'plans.ended_at') }} as double)
        / 3600000 as reserved_hours
    from fee_charges
    inner join plans
        on fee_charges.resource_account_id = plans.account_id
            and fee_charges.resource_region = plans.region
            and lower(fee_charges.resource_id) = lower(plans.training_plan_arn)
),

job_use as (
    select
        plan_fees.charge_id,
        {{ resolved_by_precedence('model', ['api', 'link', 'rule'], 'job_owners.') }} as model,
        {{ resolved_by_precedence('team', ['api', 'link', 'rule'], 'job_owners.') }} as team,
        nullif({{ resolved_source('team', ['api', 'link', 'rule'], 'job_owners.') }}, 'unattributed') as team_source,
        coalesce(training_jobs.selected_instance_count, training_jobs.instance_count, 1)
        * cast(greatest(
            {{ overlap_ms(
                'training_jobs.training_start_at', 'training_jobs.training_end_at',
                'plan_fees.started_at', 'plan_fees.ended_at'
            ) }}, 0
        ) as double)
        / 3600000 as used_hours
    from plan_fees
    inner join training_jobs
        on lower(plan_fees.training_plan_arn) = lower(training_jobs.training_plan_arn)
    left join job_owners
        on training_jobs.account_id = job_owners.account_id
            and training_jobs.region = job_owners.region
            and training_jobs.training_job_name_lower = job_owners.resource_name_lower
            -- The incarnation of the name the job is (macros/name_reuse_interval.sql).
            and training_jobs.created_at >= coalesce(job_owners.valid_from, training_jobs.created_at)
            and (job_owners.valid_to is null or training_jobs.created_at < job_owners.valid_to)
),

-- Jobs of one model and owner are one allocation target, as the fact's grain wants.
target_use as (
    select
        charge_id,
        model,
        team,
        team_source,
        sum(used_hours) as used_hours
    from job_use
    group by charge_id, model, team, team_source
),

plan_totals as (
    select
        plan_fees.charge_id,
        coalesce(sum(target_use.used_hours), 0) as used_hours,
        greatest(max(plan_fees.reserved_hours), coalesce(sum(target_use.used_hours), 0)) as divisor_hours
    from plan_fees
    left join target_use
        on plan_fees.charge_id = target_use.charge_id
    group by plan_fees.charge_id
),

final as (
    select
        target_use.charge_id,
        target_use.model,
        target_use.team,
        target_use.team_source,
        'training_plan_usage' as allocation_method,
        target_use.used_hours / plan_totals.divisor_hours as allocation_share
    from target_use
    inner join plan_totals
        on target_use.charge_id = plan_totals.charge_id
    where target_use.used_hours > 0

    union all

    select
        charge_id,
        '__idle__' as model,
        cast(null as varchar) as team,
        cast(null as varchar) as team_source,
        'training_plan_unused' as allocation_method,
        case
            when divisor_hours > 0 then 1 - used_hours / divisor_hours
            else cast(1 as double)
        end as allocation_share
    from plan_totals
    where used_hours < divisor_hours or divisor_hours = 0
)

select * from final
