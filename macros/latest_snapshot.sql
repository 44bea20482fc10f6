{#- The newest landed version of each row: the extractor lands a full snapshot per run
    (extract_date partition) and a rerun replaces its partition, so the latest extraction wins. -#}
{% macro latest_snapshot(relation, key_columns) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by extracted_at desc, extract_date desc
            ) as snapshot_rank
        from {{ relation }}
    ) as ranked
    where snapshot_rank = 1
{% endmacro %}
