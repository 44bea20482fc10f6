{#- Every SageMaker-scope charge (var sagemaker_service_codes), classified by the first matching
    row of seeds/usage_type_taxonomy.csv and carrying its normalised tags. A charge that no row
    matches is kept with category `other` (a warn test lists them) — never dropped. -#}
with

charges as (
    select * from {{ ref('stg_focus__charges') }}
    where is_sagemaker
),

taxonomy as (
    select * from {{ ref('usage_type_taxonomy') }}
),

tags as (
    select * from {{ ref('int_focus_charge_tags_normalised') }}
),

matches as (
    select
        charges.charge_id,
        taxonomy.sagemaker_category,
        row_number() over (partition by charges.charge_id order by taxonomy.priority) as match_rank
    from charges
    inner join taxonomy
        on (taxonomy.service_code = '*' or charges.service_code = taxonomy.service_code)
            and (taxonomy.charge_category = '*' or charges.charge_category = taxonomy.charge_category)
            and coalesce(charges.usage_type, '') like taxonomy.usage_type_pattern
),

final as (
    select
        charges.*,
        coalesce(matches.sagemaker_category, 'other') as sagemaker_category,
        tags.tag_team,
        tags.tag_model,
        tags.tag_experiment,
        tags.tag_environment
    from charges
    left join matches
        on charges.charge_id = matches.charge_id
            and matches.match_rank = 1
    left join tags
        on charges.charge_id = tags.charge_id
)

select * from final
