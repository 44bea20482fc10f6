{#- The FOCUS export as a relation. On Athena the Glue table declares its columns. On DuckDB the
    Parquet files are read as they are, so columns that one export version or tool does not write
    (x_ServiceCode in a plain FOCUS file, SkuMeter in the 1.0 export, ...) are added as typed NULLs
    by a UNION ALL BY NAME with an empty template: staging then reads the same columns either way. -#}
{% macro focus_source() %}{{ return(adapter.dispatch('focus_source', 'smcost')()) }}{% endmacro %}

{% macro default__focus_source() %}{{ source('focus', 'focus_export') }}{% endmacro %}

{% macro duckdb__focus_source() %}
    (
        select *
        from (
            select
                {%- for name, type in focus_optional_columns().items() %}
                cast(null as {{ type }}) as {{ name }}{% if not loop.last %},{% endif %}
                {%- endfor %}
            where false
        )
        union all by name
        select * from {{ source('focus', 'focus_export') }}
    )
{% endmacro %}

{#- Columns staging reads that an export may lack. -#}
{% macro focus_optional_columns() %}
    {{ return({
        'x_ServiceCode': 'varchar',
        'x_Operation': 'varchar',
        'x_UsageType': 'varchar',
        'SkuMeter': 'varchar',
    }) }}
{% endmacro %}

{#- The usage-type column of the configured export version. -#}
{% macro focus_usage_type_column() %}
    {%- if var('focus_version') | string == '1.0' -%}x_usagetype
    {%- elif var('focus_version') | string == '1.2' -%}skumeter
    {%- else -%}{{ exceptions.raise_compiler_error("var focus_version must be '1.0' or '1.2', got '" ~ var('focus_version') ~ "'") }}
    {%- endif -%}
{% endmacro %}
