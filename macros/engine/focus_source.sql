{#- The FOCUS export as a relation, read the way AWS Data Exports defines it, plus `export_file`: the
    path of the data file each row came from.

    Which files count (docs/export.md is the user-facing statement of these rules):
    - Hidden files (a name starting with '.' or '_': in-flight writes, tool markers) never count:
      Athena skips them, and so does DuckDB here.
    - A billing period with a manifest (metadata/BILLING_PERIOD=YYYY-MM/…Manifest.json) counts only
      the data files its latest manifest lists: AWS names the files of the current delivery there,
      so a stray copy, an older delivery or a file dropped in by hand is not read (it is reported by
      stg_focus__export_files). Without a manifest, every data file of the period counts, and the
      duplicate and partition tests guard what was read.
    - Files in sub-folders of a period folder are read (AWS's "create new report" deliveries live
      there) and decided by the same rules.
    read='all' returns every visible data file regardless of manifests (for the file inventory).

    On Athena the Glue table is the relation; it has no manifest filter, so the export must be set
    to overwrite each delivery (docs/export.md); `export_file` is Athena's "$path". On DuckDB the
    Parquet files are read as they are, so columns that one export version or tool does not write
    (x_ServiceCode in a plain FOCUS file, SkuMeter in the 1.0 export, ...) are added as typed NULLs by
    a UNION ALL BY NAME with an empty template: staging then reads the same columns either way. -#}
{% macro focus_source(read='delivered') %}{{ return(adapter.dispatch('focus_source', 'smcost')(read)) }}{% endmacro %}

{% macro default__focus_source(read='delivered') %}
    (select *, "$path" as export_file from {{ source('focus', 'focus_export') }})
{% endmacro %}

{% macro duckdb__focus_source(read='delivered') %}
    (
        select * rename (filename as export_file)
        from (
            select
                {%- for name, type in focus_optional_columns().items() %}
                cast(null as {{ type }}) as {{ name }},
                {%- endfor %}
                cast(null as varchar) as filename
            where false
            union all by name
            select * from {{ duckdb_focus_export_files() }}
        )
        {%- if read == 'delivered' %}
        -- The rule is decided once per file (a few per period), then rows are kept by file: a hash
        -- semi-join, not the path patterns evaluated on every row. A row without a file name comes
        -- from a dbt unit test's fixture.
        where filename is null or filename in (
            select file from glob('{{ focus_export_location() }}/data/**/*.parquet')
            where {{ focus_file_is_delivered('file') }}
        )
        {%- endif %}
    )
{% endmacro %}

{#- The export's data files as one relation (DuckDB): the source, read as its external_location says.
    One exception: a lake whose files type SkuPriceDetails differently (JSON text in files written
    before the schema followed AWS's Glue definition, map<string,string> since; both can sit in one
    billing period). read_parquet(union_by_name) settles on the map there and fails on the first text
    value, so the two kinds are read apart, the maps as JSON object text, and stacked by name. Decided
    at run time from the files' footers (parquet_schema; the pre-hook reads them too); a lake of one
    kind reads as before. On Athena the Glue table declares one type for every file. -#}
{% macro duckdb_focus_export_files() %}
    {%- set relation = source('focus', 'focus_export') -%}
    {#- A dbt unit test reads its fixture in place of the source, never the files. -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}{{ return(relation) }}{%- endif -%}
    {%- set pattern = focus_export_location() ~ '/data/**/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- if found.columns[0].values()[0] == 0 -%}{{ return(relation) }}{%- endif -%}
    {%- set kinds = run_query(
        "select file_name, bool_or(lower(name) = 'skupricedetails' and converted_type = 'MAP') as is_map"
        ~ " from parquet_schema('" ~ pattern ~ "') group by file_name order by file_name"
    ) -%}
    {%- set map_files, other_files = [], [] -%}
    {%- for row in kinds.rows -%}
        {%- do (map_files if row[1] else other_files).append("'" ~ row[0] | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- if not map_files or not other_files -%}{{ return(relation) }}{%- endif -%}
    {%- set options = 'hive_partitioning = true, union_by_name = true, filename = true' -%}
    (
        select * from read_parquet([{{ other_files | join(', ') }}], {{ options }})
        union all by name
        select * replace (cast(to_json(skupricedetails) as varchar) as skupricedetails)
        from read_parquet([{{ map_files | join(', ') }}], {{ options }})
    )
{%- endmacro %}

{#- The rule above as a predicate on a data file's path (DuckDB): not hidden, and listed by its
    period's latest manifest when the period has one. -#}
{% macro focus_file_is_delivered(path) -%}
    not {{ focus_file_is_hidden(path) }}
    {%- if focus_export_has_manifests() %}
    and (
        {{ focus_file_key(path) }} in (select data_file_key from {{ focus_manifest_files() }})
        or coalesce({{ focus_file_period(path) }} not in (select billing_period from {{ focus_manifest_files() }}), true)
    )
    {%- endif %}
{%- endmacro %}

{#- Where the export lives in the local lake (DuckDB target): the same vars as the source's
    external_location in models/staging/focus/_focus__sources.yml (YAML cannot call a macro). -#}
{% macro focus_export_location() -%}
    {%- set lake_root = var('lake_root', env_var('SMCOST_LAKE_ROOT', 'data/lake')) | string -%}
    {%- set export_name = var('focus_export_name') | string -%}
    {#- Both become part of a SQL string literal and a path: refuse what could break out of either. -#}
    {%- if "'" in lake_root or "\\" in lake_root -%}
        {{ exceptions.raise_compiler_error("lake_root / SMCOST_LAKE_ROOT must not contain a quote or backslash: " ~ lake_root) }}
    {%- endif -%}
    {%- if not modules.re.match('^[A-Za-z0-9][A-Za-z0-9._-]*$', export_name) or '..' in export_name -%}
        {{ exceptions.raise_compiler_error("var focus_export_name must be a folder name (letters, digits, '.', '_', '-'), got: " ~ export_name) }}
    {%- endif -%}
    {{ lake_root }}/billing/{{ export_name }}
{%- endmacro %}

{#- Whether the local export has any manifest. Asked at run time (DuckDB's glob() is empty, not an
    error, when nothing matches, while read_text() of an empty glob fails). -#}
{% macro focus_export_has_manifests() %}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ focus_export_location() ~ "/metadata/**/*Manifest.json')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}

{#- (billing_period, data_file_key, manifest_file) of the latest manifest of each billing period:
    the newest by modification time (a re-delivery overwrites it; "create new report" adds one per
    execution), ties broken by path. No rows where there are no manifests, and on Athena. -#}
{% macro focus_manifest_files() %}
    {%- if target.type != 'duckdb' or not focus_export_has_manifests() %}
    (
        select
            cast(null as varchar) as billing_period,
            cast(null as varchar) as data_file_key,
            cast(null as varchar) as manifest_file
        where false
    )
    {%- else %}
    (
        select
            manifests.billing_period,
            {{ focus_file_key('data_files.data_file') }} as data_file_key,
            manifests.manifest_file
        from (
            select
                filename as manifest_file,
                regexp_extract(filename, 'BILLING_PERIOD=([0-9]{4}-[0-9]{2})', 1) as billing_period,
                json_extract_string(content, '$.dataFiles[*]') as data_files
            from read_text('{{ focus_export_location() }}/metadata/**/*Manifest.json')
            qualify row_number() over (
                partition by regexp_extract(filename, 'BILLING_PERIOD=([0-9]{4}-[0-9]{2})', 1)
                order by last_modified desc, filename desc
            ) = 1
        ) as manifests,
        unnest(manifests.data_files) as data_files (data_file)
    )
    {%- endif %}
{% endmacro %}

{#- A data file's identity across copies of the export: its path from `BILLING_PERIOD=` on. The
    manifest names files as s3:// URIs, the local lake (or an `aws s3 sync` of the bucket) holds
    them under another root; this part of the path is the same in both. -#}
{% macro focus_file_key(path) -%}
    regexp_extract({{ path }}, '(BILLING_PERIOD=[^/]+/.*)$', 1)
{%- endmacro %}

{#- The billing period a data file's folder names ('YYYY-MM'), NULL outside a BILLING_PERIOD= folder. -#}
{% macro focus_file_period(path) -%}
    nullif(regexp_extract({{ path }}, 'BILLING_PERIOD=([0-9]{4}-[0-9]{2})', 1), '')
{%- endmacro %}

{#- A file Athena would skip: its name starts with '.' or '_'. -#}
{% macro focus_file_is_hidden(path) -%}
    coalesce(regexp_extract({{ path }}, '/([._])[^/]*$', 1), '') <> ''
{%- endmacro %}

{#- Columns staging reads that an export may lack: AWS's x_ columns in other tools' files, the usage
    type of the other export version, and the provider columns FOCUS 1.3 renamed (ProviderName is
    deprecated there and gone in 1.4; ServiceProviderName replaces it) and the Allocated* columns it
    added. -#}
{% macro focus_optional_columns() %}
    {{ return({
        'x_ServiceCode': 'varchar',
        'x_Operation': 'varchar',
        'x_UsageType': 'varchar',
        'SkuMeter': 'varchar',
        'ProviderName': 'varchar',
        'ServiceProviderName': 'varchar',
        'AllocatedMethodId': 'varchar',
        'AllocatedResourceId': 'varchar',
    }) }}
{% endmacro %}

{#- The usage-type column of the configured export version, as AWS names it. AWS exports FOCUS 1.2 and
    1.0; '1.3' reads a FOCUS 1.3 file (AWS's, once it exists, or another tool's) with 1.2's SkuMeter. -#}
{% macro focus_usage_type_column_name() -%}
    {%- if var('focus_version') | string == '1.0' -%}x_UsageType
    {%- elif var('focus_version') | string in ('1.2', '1.3') -%}SkuMeter
    {%- else -%}{{ exceptions.raise_compiler_error("var focus_version must be '1.0', '1.2' or '1.3', got '" ~ var('focus_version') ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- Who provides the service: ServiceProviderName from FOCUS 1.3 on (ProviderName where a 1.3 file still
    fills only the deprecated column), ProviderName before. Only a 1.3 export's table has the new
    column, so the expression depends on var focus_version (on DuckDB a missing column reads as NULL). -#}
{% macro focus_provider_name() -%}
    {%- if var('focus_version') | string == '1.3' -%}coalesce(serviceprovidername, providername)
    {%- else -%}providername
    {%- endif -%}
{%- endmacro %}

{% macro focus_usage_type_column() -%}{{ focus_usage_type_column_name() | lower }}{%- endmacro %}

{#- Columns every data file must carry. A file without one would read as NULLs for it (a whole month's
    cost NULL, or every charge outside the SageMaker scope), so the build stops instead. The FOCUS
    columns staging cannot do without, plus AWS's service code and usage type unless var
    focus_aws_columns is false (FOCUS files from other tools, e.g. the FinOps Foundation sample). -#}
{% macro focus_required_columns() %}
    {%- set columns = [
        'BilledCost', 'EffectiveCost', 'ListCost', 'ContractedCost', 'ChargeCategory',
        'BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd',
        'BillingAccountId', 'BillingCurrency',
    ] -%}
    {%- if var('focus_aws_columns', true) -%}
        {%- do columns.extend(['x_ServiceCode', focus_usage_type_column_name() | trim]) -%}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}

{#- Stops the build, naming the file and what to do, when a data file that counts lacks a required
    column, or carries Tags in the other shape than var focus_tags_format says (a pre-hook of
    stg_focus__charges). DuckDB reads each file's own schema; on Athena the Glue table declares the
    columns for every file, and the reconciliation tests find a file whose values are missing. -#}
{% macro assert_focus_files_have_required_columns() %}
    {{- return(adapter.dispatch('assert_focus_files_have_required_columns', 'smcost')()) -}}
{% endmacro %}

{% macro default__assert_focus_files_have_required_columns() %}{% endmacro %}

{% macro duckdb__assert_focus_files_have_required_columns() %}
    {%- set files = "parquet_schema('" ~ focus_export_location() ~ "/data/**/*.parquet')" -%}
    {%- set usage_type = focus_usage_type_column_name() | trim -%}
    {%- set tags_format = var('focus_tags_format') -%}
    with

    delivered as (
        select distinct file_name from {{ files }} where {{ focus_file_is_delivered('file_name') }}
    ),

    missing_columns as (
        select delivered.file_name, string_agg(required.column_name, ', ' order by required.column_name) as missing
        from delivered
        cross join (values {% for c in focus_required_columns() %}('{{ c }}'){% if not loop.last %}, {% endif %}{% endfor %}) as required (column_name)
        left join {{ files }} as present
            on present.file_name = delivered.file_name and lower(present.name) = lower(required.column_name)
        where present.name is null
        group by delivered.file_name
    ),

    problems as (
        select
            'FOCUS export file ' || file_name || ' lacks required column(s) ' || missing || '. '
            || case
                when missing like '%{{ usage_type }}%'
                    then 'FOCUS 1.2 exports carry the usage type in SkuMeter, 1.0 exports in x_UsageType: '
                        || 'is var focus_version (now {{ var("focus_version") }}) right?'
                else 'Re-deliver the billing period from AWS Data Exports, or move the file out of the export folder.'
            end as problem
        from missing_columns
        union all
        select
            'FOCUS export file ' || schema.file_name || ' carries Tags as '
            || {% if tags_format == 'map' %}'text'{% else %}'a map'{% endif %}
            || ', but var focus_tags_format is {{ tags_format }}: set it to '
            || {% if tags_format == 'map' %}'json'{% else %}'map'{% endif %} || '.' as problem
        from {{ files }} as schema
        inner join delivered on schema.file_name = delivered.file_name
        where lower(schema.name) = 'tags'
            and coalesce(schema.converted_type, '') {% if tags_format == 'map' %}<>{% else %}={% endif %} 'MAP'
    )

    select error(problem) from problems
{% endmacro %}
