{#- One row per charge that carries any attribution tag, with the four dimensions' values.
    Keys match the canonical keys (var tag_keys) or an alias (seeds/tag_key_aliases.csv), ignoring
    case, spaces and a `user:` prefix. A canonical key beats an alias when both are present. -#}
with

charges as (
    select
        charge_id,
        tags
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker and tags is not null
),

aliases as (
    select
        dimension,
        {{ normalise_tag_key('tag_key') }} as tag_key,
        1 as preference
    from {{ ref('tag_key_aliases') }}
    {%- for dimension in ['team', 'model', 'experiment', 'environment'] %}
        union all
        select
            '{{ dimension }}' as dimension,
            {{ normalise_tag_key("'" ~ var('tag_keys')[dimension] ~ "'") }} as tag_key,
            0 as preference
    {%- endfor %}
),

entries as (
    {{ unnest_map('charges', 'charge_id', 'tags') }}
),

matched as (
    select
        entries.charge_id,
        aliases.dimension,
        {{ normalise_tag_value('entries.tag_value') }} as tag_value,
        row_number() over (
            partition by entries.charge_id, aliases.dimension
            order by aliases.preference, entries.tag_key
        ) as preference_rank
    from entries
    inner join aliases
        on {{ normalise_tag_key('entries.tag_key') }} = aliases.tag_key
    where {{ normalise_tag_value('entries.tag_value') }} is not null
),

final as (
    select
        charge_id,
        max(case when dimension = 'team' then tag_value end) as tag_team,
        max(case when dimension = 'model' then tag_value end) as tag_model,
        max(case when dimension = 'experiment' then tag_value end) as tag_experiment,
        max(case when dimension = 'environment' then tag_value end) as tag_environment
    from matched
    where preference_rank = 1
    group by charge_id
)

select * from final
