{#- The allocation fact seen by tag governance: one row per allocation x canonical tag key (var
    tag_keys), with how that key counts (seeds/tag_inference_confidence.csv: bill | api_only |
    inferred | missing, the evidence and a confidence), whether its value is outside
    seeds/tag_allowed_values.csv, and whether the charge can carry tags at all. Untaggable charges —
    tax, credits, Savings Plan fees and unused commitment, anything without a resource id — are
    coverage_class `untaggable`: the coverage marts count them apart, outside the denominator.
    Reads only the billing periods this run rebuilds once the governance marts exist (they are
    incremental and keep older periods); before that, and on --full-refresh, every period. -#}
{%- set downstream = namespace(built=true) %}
{%- if execute and flags.WHICH in ('run', 'build') %}
    {%- for mart in ['fct_sagemaker_tag_coverage_monthly', 'fct_sagemaker_untagged_resources'] %}
        {%- if adapter.get_relation(database=target.database, schema=target.schema, identifier=mart) is none %}
            {%- set downstream.built = false %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {%- if downstream.built %}
        where {{ in_billing_period_window('billing_period') }}
    {%- endif %}
),

confidence as (
    select * from {{ ref('tag_inference_confidence') }}
),

allowed_values as (
    select * from {{ ref('tag_allowed_values') }}
),

listed_dimensions as (
    select distinct dimension from allowed_values
),

-- The four canonical keys, one row each: every allocation is crossed with them in one pass (not
-- four reads of the fact joined back on allocation_id, which probed 4 x the fact's rows into a hash
-- of its keys: issue 15).
{%- set dimensions = ['team', 'model', 'experiment', 'environment'] %}
tag_dimensions as (
    {%- for dimension in dimensions %}
        select
            '{{ dimension }}' as dimension,
            '{{ var("tag_keys")[dimension] }}' as tag_key
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

classified as (
    select
        allocations.*,
        tag_dimensions.dimension,
        tag_dimensions.tag_key,
        case tag_dimensions.dimension
            {%- for dimension in dimensions %}
                when '{{ dimension }}'
                    then case when allocations.{{ dimension }} not in ('unattributed', '__idle__') then allocations.{{ dimension }} end
            {%- endfor %}
        end as tag_value,
        case tag_dimensions.dimension
            {%- for dimension in dimensions %}
                when '{{ dimension }}' then allocations.{{ dimension }}_source
            {%- endfor %}
        end as tag_source,
        allocations.resource_arn is null
        or allocations.sagemaker_category in ('savings_plan_fee', 'savings_plan_unused', 'credit', 'tax')
        or coalesce(allocations.charge_category, '') in ('Tax', 'Credit') as is_untaggable
    from allocations
    cross join tag_dimensions
),

final as (
    select
        classified.allocation_id,
        classified.dimension,
        classified.tag_key,
        classified.charge_id,
        classified.billing_currency,
        classified.sub_account_id,
        classified.region_id,
        classified.sagemaker_category,
        classified.resource_type,
        classified.resource_arn,
        classified.resource_name,
        classified.team,
        classified.tag_value,
        classified.tag_source,
        case when classified.is_untaggable then 'untaggable' else confidence.coverage_class end as coverage_class,
        confidence.evidence,
        case
            when not classified.is_untaggable and confidence.coverage_class = 'inferred' then confidence.confidence
        end as confidence,
        not classified.is_untaggable
        and listed_dimensions.dimension is not null
        and classified.tag_value is not null
        and allowed_values.value is null as is_disallowed_value,
        classified.has_all_bill_tags,
        classified.effective_cost,
        classified.billed_cost,
        classified.charge_period_start,
        classified.charge_period_end,
        classified.billing_period
    from classified
    left join confidence
        on classified.dimension = confidence.dimension
            and classified.tag_source = confidence.source
    left join listed_dimensions
        on classified.dimension = listed_dimensions.dimension
    left join allowed_values
        on classified.dimension = allowed_values.dimension
            and classified.tag_value = lower(trim(allowed_values.value))
)

select * from final
