{#- The remediation list: per billing period and currency, every taggable resource with a
    canonical tag key the bill did not carry — missing, only inferred, or tagged in the API but
    never activated for billing — or a value outside seeds/tag_allowed_values.csv, ranked by its
    effective cost in the period (cost_rank 1 = the most expensive). Per key: the value the project
    attributed, the evidence (*_source, as in the allocation fact) and, for an inferred value, the
    confidence of seeds/tag_inference_confidence.csv. When a resource's charges disagree (tags
    activated mid-month, a shared endpoint's split), a key counts as its weakest class (missing,
    then inferred, then api_only, then bill), with the value of that class's largest cost. The team
    that owns the fix: the resource's team (tagged or inferred), else the account's
    (seeds/tag_account_owners.csv). Age and last-seen status come from the SageMaker metadata.
    Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
{%- set dimensions = ['team', 'model', 'experiment', 'environment'] %}
{%- set tag_keys = var('tag_keys') %}
{%- set class_rank = {'missing': 4, 'inferred': 3, 'api_only': 2, 'bill': 1} %}
with

tag_keys as (
    select * from {{ ref('int_sagemaker_allocation_tag_keys') }}
    where coverage_class <> 'untaggable'
),

lifecycle as (
    select * from {{ ref('int_sagemaker_resource_lifecycle') }}
),

account_owners as (
    select * from {{ ref('tag_account_owners') }}
),

-- One row per resource, key and (class, tag_source, value) with its cost.
key_evidence as (
    select
        billing_period,
        billing_currency,
        resource_arn,
        dimension,
        tag_key,
        coverage_class,
        tag_source,
        tag_value,
        confidence,
        case coverage_class
            {%- for class, rank in class_rank.items() %}
                when '{{ class }}' then {{ rank }}
            {%- endfor %}
        end as class_rank,
        sum(cast(effective_cost as {{ money_decimal() }})) as effective_cost,
        max(case when is_disallowed_value then 1 else 0 end) as has_disallowed_value
    from tag_keys
    group by billing_period, billing_currency, resource_arn, dimension, tag_key, coverage_class, tag_source, tag_value, confidence
),

key_status as (
    select
        billing_period,
        billing_currency,
        resource_arn,
        dimension,
        tag_key,
        coverage_class,
        tag_source,
        tag_value,
        confidence,
        max(has_disallowed_value) over (
            partition by billing_period, billing_currency, resource_arn, dimension
        ) as has_disallowed_value,
        row_number() over (
            partition by billing_period, billing_currency, resource_arn, dimension
            order by class_rank desc, effective_cost desc, tag_source asc, tag_value asc nulls last
        ) as evidence_rank
    from key_evidence
),

resources as (
    select
        billing_period,
        billing_currency,
        resource_arn,
        max(resource_type) as resource_type,
        max(resource_name) as resource_name,
        max(sub_account_id) as sub_account_id,
        max(region_id) as region_id,
        min(charge_period_start) as first_charge_at,
        max(charge_period_end) as last_charge_at,
        -- Each allocation appears once per key: count one key's rows only.
        cast(sum(case when dimension = 'team' then cast(effective_cost as {{ money_decimal() }}) end) as double)
            as effective_cost,
        cast(sum(case when dimension = 'team' then cast(billed_cost as {{ money_decimal() }}) end) as double)
            as billed_cost,
        cast(coalesce(sum(
            case when dimension = 'team' and has_all_bill_tags then cast(effective_cost as {{ money_decimal() }}) end
        ), 0) as double) as all_bill_tags_cost
    from tag_keys
    group by billing_period, billing_currency, resource_arn
),

pivoted as (
    select
        billing_period,
        billing_currency,
        resource_arn,
        {%- for dimension in dimensions %}
            max(case when dimension = '{{ dimension }}' then tag_value end) as {{ dimension }}_value,
            max(case when dimension = '{{ dimension }}' then tag_source end) as {{ dimension }}_source,
            max(case when dimension = '{{ dimension }}' then coverage_class end) as {{ dimension }}_class,
            max(case when dimension = '{{ dimension }}' then confidence end) as {{ dimension }}_confidence,
            max(case when dimension = '{{ dimension }}' then has_disallowed_value end) as {{ dimension }}_disallowed,
        {%- endfor %}
        count(case when coverage_class <> 'bill' then 1 end) as keys_not_in_bill
    from key_status
    where evidence_rank = 1
    group by billing_period, billing_currency, resource_arn
),

flagged as (
    select
        resources.*,
        {%- for dimension in dimensions %}
            pivoted.{{ dimension }}_value,
            pivoted.{{ dimension }}_source,
            pivoted.{{ dimension }}_class,
            pivoted.{{ dimension }}_confidence,
            pivoted.{{ dimension }}_disallowed,
        {%- endfor %}
        pivoted.keys_not_in_bill,
        nullif(concat_ws(
            ', ',
            case when pivoted.team_class = 'missing' then '{{ tag_keys.team }}' end,
            case when pivoted.model_class = 'missing' then '{{ tag_keys.model }}' end,
            case when pivoted.experiment_class = 'missing' then '{{ tag_keys.experiment }}' end,
            case when pivoted.environment_class = 'missing' then '{{ tag_keys.environment }}' end
        ), '') as missing_keys,
        nullif(concat_ws(
            ', ',
            case when pivoted.team_class = 'inferred' then '{{ tag_keys.team }}' end,
            case when pivoted.model_class = 'inferred' then '{{ tag_keys.model }}' end,
            case when pivoted.experiment_class = 'inferred' then '{{ tag_keys.experiment }}' end,
            case when pivoted.environment_class = 'inferred' then '{{ tag_keys.environment }}' end
        ), '') as inferred_keys,
        nullif(concat_ws(
            ', ',
            case when pivoted.team_class = 'api_only' then '{{ tag_keys.team }}' end,
            case when pivoted.model_class = 'api_only' then '{{ tag_keys.model }}' end,
            case when pivoted.experiment_class = 'api_only' then '{{ tag_keys.experiment }}' end,
            case when pivoted.environment_class = 'api_only' then '{{ tag_keys.environment }}' end
        ), '') as api_only_keys,
        nullif(concat_ws(
            ', ',
            case when pivoted.team_disallowed = 1 then '{{ tag_keys.team }}' end,
            case when pivoted.model_disallowed = 1 then '{{ tag_keys.model }}' end,
            case when pivoted.experiment_disallowed = 1 then '{{ tag_keys.experiment }}' end,
            case when pivoted.environment_disallowed = 1 then '{{ tag_keys.environment }}' end
        ), '') as disallowed_keys
    from resources
    inner join pivoted
        on resources.billing_period = pivoted.billing_period
            and resources.billing_currency is not distinct from pivoted.billing_currency
            and resources.resource_arn = pivoted.resource_arn
),

final as (
    select
        row_number() over (
            partition by flagged.billing_period, flagged.billing_currency
            order by flagged.effective_cost desc, flagged.resource_arn asc
        ) as cost_rank,
        flagged.billing_currency,
        flagged.resource_arn,
        flagged.resource_type,
        flagged.resource_name,
        flagged.sub_account_id,
        flagged.region_id,
        flagged.effective_cost,
        flagged.billed_cost,
        flagged.all_bill_tags_cost,
        flagged.first_charge_at,
        flagged.last_charge_at,
        lifecycle.created_at,
        -- A name reused after deletion: the lifecycle's current incarnation may postdate this
        -- period's charges, and then the age counts from the first charge instead.
        {{ hours_between(
            'coalesce(case when lifecycle.created_at <= flagged.last_charge_at then lifecycle.created_at end, '
            ~ 'flagged.first_charge_at)',
            'flagged.last_charge_at'
        ) }} / 24 as age_days,
        coalesce(lifecycle.last_seen_status, 'not_in_metadata') as last_seen_status,
        lifecycle.status_seen_at,
        lifecycle.api_tag_count,
        flagged.missing_keys,
        flagged.inferred_keys,
        flagged.api_only_keys,
        flagged.disallowed_keys,
        flagged.keys_not_in_bill,
        {%- for dimension in dimensions %}
            flagged.{{ dimension }}_value,
            flagged.{{ dimension }}_source,
            flagged.{{ dimension }}_confidence,
        {%- endfor %}
        case
            when flagged.missing_keys is not null or flagged.inferred_keys is not null then 'add_tags'
            when flagged.api_only_keys is not null then 'activate_cost_allocation_tags'
            else 'fix_values'
        end as fix_action,
        coalesce(flagged.team_value, account_owners.owner_team, 'unassigned') as fix_owner_team,
        case
            when flagged.team_value is not null and flagged.team_class = 'inferred' then 'inferred_team'
            when flagged.team_value is not null then 'tagged_team'
            when account_owners.owner_team is not null then 'account_owner'
            else 'unassigned'
        end as fix_owner_source,
        flagged.billing_period
    from flagged
    left join lifecycle
        on lower(flagged.resource_arn) = lifecycle.resource_arn
    left join account_owners
        on flagged.sub_account_id = account_owners.account_id
    where flagged.keys_not_in_bill > 0 or flagged.disallowed_keys is not null
)

select * from final
