{#- The current rows of a landed dataset. Each `smcost extract` run lands a complete snapshot (it
    carries forward what it did not re-read), so snapshot datasets read the newest extract_date
    partition only — resources gone from the API do not resurface from older partitions — and keep
    the newest version of each key within it. Datasets whose partitions each hold only what that
    run read (CloudWatch hours: latest_partition_only=false) take the newest version of each key
    across all partitions; a rerun of a window replaces its partition, so nothing doubles. -#}
{% macro latest_snapshot(relation, key_columns, latest_partition_only=true) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by extracted_at desc, extract_date desc
            ) as snapshot_rank,
            max(extract_date) over () as latest_extract_date
        from {{ relation }}
    ) as ranked
    where snapshot_rank = 1
    {%- if latest_partition_only %}
        and extract_date = latest_extract_date
    {%- endif %}
{% endmacro %}
