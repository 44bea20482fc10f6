{#- dbt_utils.unique_combination_of_columns, with its name, signature and SQL (dbt-labs/dbt-utils,
    macros/generic_tests/unique_combination_of_columns.sql, Apache-2.0), dispatched in this project's
    namespace because the dbt Hub is out of reach here. Installing dbt_utils later is one line in
    packages.yml plus deleting this file: every use in the YAML keeps its name and arguments.
    NULLs compare equal (group by), so it checks a grain whose key columns may be null. -#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
    {{ return(adapter.dispatch('test_unique_combination_of_columns', 'smcost')(model, combination_of_columns, quote_columns)) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
    {%- if quote_columns is sameas false -%}
        {%- set column_list = combination_of_columns -%}
    {%- elif quote_columns is sameas true -%}
        {%- set column_list = [] -%}
        {%- for column in combination_of_columns -%}
            {%- do column_list.append(adapter.quote(column)) -%}
        {%- endfor -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "`quote_columns` argument for unique_combination_of_columns test must be one of [True, False] Got: '"
            ~ quote_columns ~ "'."
        ) }}
    {%- endif -%}
    {%- set columns_csv = column_list | join(', ') %}

    with validation_errors as (
        select {{ columns_csv }}
        from {{ model }}
        group by {{ columns_csv }}
        having count(*) > 1
    )

    select * from validation_errors
{% endmacro %}
