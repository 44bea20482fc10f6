{#- Materialisation of the marts that are rebuilt per billing period, one definition for every engine:
    Athena — Parquet, partitioned by billing_period (the last column, as Hive partitioning needs):
             insert_overwrite of the partitions a run writes (Hive, the default), or for an Iceberg
             table (var athena_table_type = 'iceberg', which allows only append/merge) a DELETE of
             the rebuilt periods before the append;
    DuckDB — delete+insert keyed on billing_period: the same replace-whole-periods semantics, so
             the tests on DuckDB cover what Athena does. -#}
{% macro billing_period_incremental_config() %}
    {%- if target.type == 'athena' and var('athena_table_type', 'hive') == 'iceberg' -%}
        {{ return({
            'materialized': 'incremental', 'table_type': 'iceberg', 'format': 'parquet',
            'incremental_strategy': 'append', 'partitioned_by': ['billing_period'], 'on_schema_change': 'fail',
            'pre_hook': "{% if is_incremental() %}delete from {{ this }} where "
                ~ "{{ in_billing_period_window('billing_period') }}{% endif %}",
        }) }}
    {%- elif target.type == 'athena' -%}
        {{ return({
            'materialized': 'incremental', 'table_type': 'hive', 'format': 'parquet',
            'incremental_strategy': 'insert_overwrite', 'partitioned_by': ['billing_period'],
            'on_schema_change': 'fail',
        }) }}
    {%- else -%}
        {{ return({
            'materialized': 'incremental', 'incremental_strategy': 'delete+insert',
            'unique_key': 'billing_period', 'on_schema_change': 'fail',
        }) }}
    {%- endif -%}
{% endmacro %}
