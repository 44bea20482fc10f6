{#- A query of (<subject_key>, <rule columns...>) with the one rule each subject row matches best,
    from a seed of SQL LIKE patterns. The one tie-break every attribution rule follows:
      1. a rule for the subject's own resource type before a '*' rule (when the seed has a type);
      2. the longer pattern (more literal characters: `fraud-xgb-%` before `fraud-%`);
      3. the pattern, then the rule's values, in byte order — so equal candidates still give one
         answer, the same on every run and engine.
    Matching ignores case on both sides. Rows that match no rule are absent (left join the result).
    `subjects`/`rules` are CTE names; `type_column` names the seed's resource-type column, if any;
    `equal_columns` are (subject column, rule column) pairs a rule must also equal, ignoring case
    (a multi-model alias names one metric value on the endpoints its pattern matches). -#}
{% macro best_rule_match(subjects, subject_key, subject_value, rules, pattern_column, rule_columns, type_column=none, equal_columns=[]) %}
    select
        {{ subject_key }},
        {{ rule_columns | join(',\n        ') }}
    from (
        select
            {{ subjects }}.{{ subject_key }},
            {%- for column in rule_columns %}
            {{ rules }}.{{ column }},
            {%- endfor %}
            row_number() over (
                partition by {{ subjects }}.{{ subject_key }}
                order by
                    {%- if type_column %}
                    case when {{ rules }}.{{ type_column }} = '*' then 1 else 0 end,
                    {%- endif %}
                    length({{ rules }}.{{ pattern_column }}) desc,
                    {{ rules }}.{{ pattern_column }}
                    {%- for column in rule_columns %},
                    {{ rules }}.{{ column }}
                    {%- endfor %}
            ) as match_rank
        from {{ subjects }}
        inner join {{ rules }}
            on lower({{ subjects }}.{{ subject_value }}) like lower({{ rules }}.{{ pattern_column }})
            {%- if type_column %}
                and ({{ rules }}.{{ type_column }} = '*' or {{ subjects }}.resource_type = {{ rules }}.{{ type_column }})
            {%- endif %}
            {%- for subject_column, rule_column in equal_columns %}
                and lower({{ subjects }}.{{ subject_column }}) = lower({{ rules }}.{{ rule_column }})
            {%- endfor %}
    ) as ranked
    where match_rank = 1
{% endmacro %}
