{#- The FOCUS Tags column as map<varchar, varchar>, whatever shape the export delivered:
    AWS Data Exports writes a map; the FOCUS spec, CSV exports and other tools write JSON text
    (var focus_tags_format = 'json'). -#}
{% macro tags_as_map(column) %}
    {%- if var('focus_tags_format') == 'json' -%}
        {{ return(adapter.dispatch('json_tags_as_map', 'smcost')(column)) }}
    {%- else -%}
        {{ return(column) }}
    {%- endif -%}
{% endmacro %}

{#- Text that is not a JSON object becomes NULL (flagged by staging's has_malformed_tags), never an error:
    Trino's try() catches json_parse failures, DuckDB's try_cast to json does the same. -#}
{% macro default__json_tags_as_map(column) %}try_cast(try(json_parse({{ column }})) as map(varchar, varchar)){% endmacro %}

{% macro duckdb__json_tags_as_map(column) %}try_cast(try_cast({{ column }} as json) as map(varchar, varchar)){% endmacro %}

{#- Rows of (<id column>, tag_key, tag_value) from a relation with a map column: one per entry. -#}
{% macro unnest_map(relation, id_column, map_column) %}
    {{- return(adapter.dispatch('unnest_map', 'smcost')(relation, id_column, map_column)) -}}
{% endmacro %}

{#- Trino: unnest the map's keys and look each value up, rather than `unnest(map) as t (k, v)`:
    the same rows, and a form that sqlglot transpiles faithfully (tests/python/test_engine_parity.py
    runs this Athena SQL on DuckDB). element_at cannot miss here: every key comes from the map. -#}
{% macro default__unnest_map(relation, id_column, map_column) %}
    select
        src.{{ id_column }},
        entry.tag_key,
        element_at(src.{{ map_column }}, entry.tag_key) as tag_value
    from {{ relation }} as src
    cross join unnest(map_keys(src.{{ map_column }})) as entry (tag_key)
{% endmacro %}

{% macro duckdb__unnest_map(relation, id_column, map_column) %}
    select
        {{ id_column }},
        entry.key as tag_key,
        entry.value as tag_value
    from (
        select
            {{ id_column }},
            unnest(map_entries({{ map_column }})) as entry
        from {{ relation }}
    )
{% endmacro %}

{#- A tag key as matched against canonical keys and aliases: case, spaces and a `user:` prefix ignored. -#}
{% macro normalise_tag_key(key) -%}
    regexp_replace(lower(trim({{ key }})), '^user:', '')
{%- endmacro %}

{#- A tag value as attributed: trimmed and lowercased; empty means absent. -#}
{% macro normalise_tag_value(value) -%}
    nullif(lower(trim({{ value }})), '')
{%- endmacro %}
