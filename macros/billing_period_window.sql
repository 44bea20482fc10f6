{#- The first billing period (YYYY-MM) a run rebuilds.
    AWS re-delivers the open month whole and may restate older ones, so a normal run rebuilds the
    last var('lookback_billing_periods', 2) periods up to var('as_of_billing_period', the run's
    month); `--full-refresh`, or a run where the allocation fact does not exist yet, rebuilds all
    ('0000-00'). The charge models filter on it, so Athena reads only those BILLING_PERIOD partitions
    and the incremental fact overwrites exactly those periods. -#}
{% macro billing_period_from() %}
    {%- if flags.FULL_REFRESH -%}
        {{ return('0000-00') }}
    {%- endif -%}
    {%- if execute and flags.WHICH in ('run', 'build', 'test') -%}
        {%- set fact = adapter.get_relation(
            database=target.database, schema=target.schema, identifier='fct_sagemaker_cost_allocations'
        ) -%}
        {%- if fact is none -%}
            {{ return('0000-00') }}
        {%- endif -%}
    {%- endif -%}
    {%- set as_of = var('as_of_billing_period', run_started_at.strftime('%Y-%m')) | string -%}
    {%- set lookback = var('lookback_billing_periods', 2) | int -%}
    {%- set year, month = as_of[:4] | int, as_of[5:7] | int -%}
    {%- set index = year * 12 + (month - 1) - (lookback - 1) -%}
    {{ return('%04d-%02d' | format(index // 12, index % 12 + 1)) }}
{% endmacro %}

{#- The predicate that keeps a model to the billing periods this run rebuilds. -#}
{% macro in_billing_period_window(column) -%}
    {{ column }} >= '{{ billing_period_from() }}'
{%- endmacro %}

{#- An import CTE's filter in a model rebuilt per billing period: `where` the window on incremental
    runs, nothing on a full build (which rebuilds every period). -#}
{% macro where_in_billing_period_window(column='billing_period') -%}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window(column) }}
    {%- endif %}
{%- endmacro %}
