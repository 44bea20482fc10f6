{#- One row per SageMaker charge that carries any attribution tag, with the four dimensions' values
    (rules in macros/normalised_tags.sql). -#}
with

charges as (
    select
        charge_id,
        tags
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker and tags is not null
),

final as (
    {{ normalised_tags('charges', 'charge_id', 'tags') }}
)

select * from final
