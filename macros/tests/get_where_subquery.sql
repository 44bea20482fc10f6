{#- What a generic test reads (dbt's own get_where_subquery, which this overrides): the relation,
    restricted by the test's `config: where:`, and — on a model rebuilt per billing period
    (billing_period_incremental_config) in a run that is not --full-refresh — to the billing periods
    this run rebuilt, the ones stg_focus__charges holds. The periods an incremental run keeps were
    tested by the run that built them; re-reading a year of history made an incremental run cost as
    much as a full one (issue 15). `--vars '{test_every_period: true}'` tests every period.
    A semi-join, not a literal: on the first run (no marts yet) staging holds every period, and
    Athena prunes the partitions through it (dynamic filtering). Singular tests read what they read. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set conditions = [where] if where else [] -%}
    {%- if smcost_test_reads_rebuilt_periods_only() -%}
        {%- do conditions.append(in_rebuilt_billing_periods()) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Whether this generic test may read only the periods this run rebuilt (see get_where_subquery). -#}
{% macro smcost_test_reads_rebuilt_periods_only() -%}
    {%- if not execute or flags.FULL_REFRESH or var('test_every_period', false) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node or '') -%}
    {#- Every incremental model here is rebuilt per billing period (billing_period_incremental_config). -#}
    {{ return(
        flags.WHICH in ('build', 'test') and tested is not none and tested.config.materialized == 'incremental'
    ) }}
{%- endmacro %}

{#- The predicate "billing_period is one this run rebuilt": one of the periods stg_focus__charges holds. -#}
{% macro in_rebuilt_billing_periods(column='billing_period') -%}
    {%- set staged = graph.nodes.get('model.' ~ project_name ~ '.stg_focus__charges') -%}
    {%- set staged_relation = api.Relation.create(database=staged.database, schema=staged.schema, identifier=staged.alias) -%}
    {{ column }} in (select distinct billing_period from {{ staged_relation }})
{%- endmacro %}
