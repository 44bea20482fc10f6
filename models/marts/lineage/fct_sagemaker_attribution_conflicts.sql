{#- Where the evidence disagrees, as data a platform team fixes from: per billing period, currency,
    resource and dimension whose evidence holds more than one value (the bill tag says team a, the
    job's API tag team b; an MLflow run tagged team a on a job tagged team b), one row per evidence
    source and value, with the value the precedence chose (macros/attribution_precedence.sql, the
    same order the fact applies) and the resource's dollars in the period: what moves if the
    losing evidence were right. Bill tags are per charge, so a value carries the cost of the
    charges that had it. Levels with no column for a dimension (rules for experiment and
    environment: those come from the account) are left out. Shared endpoints split by use still
    list their endpoint-level evidence. -#}
{%- set dimensions = {
    'model': ['tag', 'api', 'link', 'mlflow', 'wandb', 'rule'],
    'team': ['tag', 'api', 'link', 'mlflow', 'wandb', 'rule'],
    'experiment': ['tag', 'api', 'link', 'mlflow', 'wandb'],
    'environment': ['tag', 'api', 'link', 'mlflow', 'wandb'],
} %}
with

charges as (
    select * from {{ ref('int_sagemaker_charges_joined_to_resources') }}
    where resource_key is not null
),

evidence as (
    {%- for dimension, levels in dimensions.items() %}
        {%- set outer_loop = loop %}
        {%- for level, source in attribution_evidence_levels() if level in levels %}
            select
                billing_period,
                billing_currency,
                resource_key,
                charge_id,
                '{{ dimension }}' as dimension,
                '{{ source }}' as evidence_source,
                {{ loop.index }} as precedence_rank,
                {{ level }}_{{ dimension }} as evidence_value,
                effective_cost
            from charges
            where {{ level }}_{{ dimension }} is not null
            {%- if not loop.last or not outer_loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
),

resources as (
    select
        billing_period,
        billing_currency,
        resource_key,
        min(sub_account_id) as sub_account_id,
        min(resource_id) as resource_arn,
        min(resource_type) as resource_type,
        min(resource_name_lower) as resource_name,
        sum(effective_cost) as resource_effective_cost,
        sum(billed_cost) as resource_billed_cost
    from charges
    group by billing_period, billing_currency, resource_key
),

values_per_source as (
    select
        billing_period,
        billing_currency,
        resource_key,
        dimension,
        evidence_source,
        evidence_value,
        min(precedence_rank) as precedence_rank,
        sum(effective_cost) as evidence_effective_cost
    from evidence
    group by billing_period, billing_currency, resource_key, dimension, evidence_source, evidence_value
),

disagreements as (
    select
        billing_period,
        billing_currency,
        resource_key,
        dimension,
        count(distinct evidence_value) as distinct_values
    from values_per_source
    group by billing_period, billing_currency, resource_key, dimension
    having count(distinct evidence_value) > 1
),

-- The precedence's choice: the highest level's value (the largest cost among a level's values,
-- then byte order, when a resource's charges carried several bill tags).
decided as (
    select
        billing_period,
        billing_currency,
        resource_key,
        dimension,
        evidence_source as decided_source,
        evidence_value as decided_value
    from (
        select
            *,
            row_number() over (
                partition by billing_period, billing_currency, resource_key, dimension
                order by precedence_rank asc, evidence_effective_cost desc, evidence_value asc
            ) as decision_rank
        from values_per_source
    ) as ranked
    where decision_rank = 1
),

final as (
    select
        {{ hash_key([
            'values_per_source.billing_period', 'values_per_source.billing_currency', 'values_per_source.resource_key',
            'values_per_source.dimension', 'values_per_source.evidence_source', 'values_per_source.evidence_value'
        ]) }} as conflict_id,
        values_per_source.billing_period,
        values_per_source.billing_currency,
        resources.sub_account_id,
        resources.resource_arn,
        resources.resource_type,
        resources.resource_name,
        values_per_source.dimension,
        values_per_source.evidence_source,
        values_per_source.evidence_value,
        decided.decided_source,
        decided.decided_value,
        disagreements.distinct_values,
        values_per_source.evidence_effective_cost,
        resources.resource_effective_cost,
        resources.resource_billed_cost,
        values_per_source.evidence_value = decided.decided_value as is_decided_value
    from values_per_source
    inner join disagreements
        on values_per_source.billing_period = disagreements.billing_period
            and values_per_source.billing_currency = disagreements.billing_currency
            and values_per_source.resource_key = disagreements.resource_key
            and values_per_source.dimension = disagreements.dimension
    inner join decided
        on values_per_source.billing_period = decided.billing_period
            and values_per_source.billing_currency = decided.billing_currency
            and values_per_source.resource_key = decided.resource_key
            and values_per_source.dimension = decided.dimension
    inner join resources
        on values_per_source.billing_period = resources.billing_period
            and values_per_source.billing_currency = resources.billing_currency
            and values_per_source.resource_key = resources.resource_key
)

select * from final
