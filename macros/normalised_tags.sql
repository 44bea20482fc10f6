{#- A query returning (<id_column>, tag_team, tag_model, tag_experiment, tag_environment) for every
    row of `relation` whose map `tags_column` holds an attribution tag. Keys match the canonical keys
    (var tag_keys) or an alias (seeds/tag_key_aliases.csv) ignoring case, spaces and a `user:`
    prefix; values are trimmed and lowercased, empty ones ignored. When several keys of one charge
    name the same dimension (ml:team and ML:Team, or ml:team and the alias team), the first of them
    decides: a canonical key before an alias, a key spelled exactly as configured before a variant
    (ml:team before ML:Team), then the keys in byte order. tag_conflicts counts the other values they
    carried (ml:team=fraud with ML:Team=search is 1), for the warn test that lists such charges.
    Used for bill tags and API tags alike, so both follow one rule. -#}
{% macro normalised_tags(relation, id_column, tags_column) %}
    with

    tag_aliases as (
        select
            dimension,
            {{ normalise_tag_key('tag_key') }} as tag_key,
            tag_key as spelled_key,
            1 as preference
        from {{ ref('tag_key_aliases') }}
        {%- for dimension in ['team', 'model', 'experiment', 'environment'] %}
            union all
            select
                '{{ dimension }}' as dimension,
                {{ normalise_tag_key("'" ~ var('tag_keys')[dimension] ~ "'") }} as tag_key,
                '{{ var('tag_keys')[dimension] }}' as spelled_key,
                0 as preference
        {%- endfor %}
    ),

    tag_entries as (
        {{ unnest_map(relation, id_column, tags_column) }}
    ),

    tag_matches as (
        select
            tag_entries.{{ id_column }},
            tag_aliases.dimension,
            {{ normalise_tag_value('tag_entries.tag_value') }} as tag_value,
            row_number() over (
                partition by tag_entries.{{ id_column }}, tag_aliases.dimension
                order by
                    tag_aliases.preference,
                    case when tag_entries.tag_key = tag_aliases.spelled_key then 0 else 1 end,
                    tag_entries.tag_key
            ) as preference_rank
        from tag_entries
        inner join tag_aliases
            on {{ normalise_tag_key('tag_entries.tag_key') }} = tag_aliases.tag_key
        where {{ normalise_tag_value('tag_entries.tag_value') }} is not null
    )

    select
        {{ id_column }},
        max(case when dimension = 'team' and preference_rank = 1 then tag_value end) as tag_team,
        max(case when dimension = 'model' and preference_rank = 1 then tag_value end) as tag_model,
        max(case when dimension = 'experiment' and preference_rank = 1 then tag_value end) as tag_experiment,
        max(case when dimension = 'environment' and preference_rank = 1 then tag_value end) as tag_environment,
        count(distinct dimension || '=' || tag_value) - count(distinct dimension) as tag_conflicts
    from tag_matches
    group by {{ id_column }}
{% endmacro %}
