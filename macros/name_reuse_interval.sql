{#- valid_from, valid_to for one incarnation of a resource whose name (and so ARN) can be reused after
    deletion (DeleteTrainingJob and friends): each incarnation is valid from its creation until the
    next one of the same name was created. The first is open towards the past and the last towards
    the future, so a resource never reused matches its charges at any time, as before (warm pools
    and corrections bill after the job ends). Two columns, for a select list; typed explicitly, so
    keys hashing them render the same text on both engines. -#}
{% macro name_reuse_interval(created_at, partition_columns) %}
    cast(case
        when lag({{ created_at }}) over (
            partition by {{ partition_columns | join(', ') }} order by {{ created_at }}
        ) is not null then {{ created_at }}
    end as timestamp) as valid_from,
    cast(lead({{ created_at }}) over (
        partition by {{ partition_columns | join(', ') }} order by {{ created_at }}
    ) as timestamp) as valid_to
{%- endmacro %}
