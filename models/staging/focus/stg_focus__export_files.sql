{#- One row per data file of the FOCUS export, and per file a manifest lists: whether it was read,
    and if not, why. This is where a stray copy, an older delivery, an in-flight write or a file the
    manifest promised but S3 does not hold is reported instead of silently skipped (the rules are in
    macros/engine/focus_source.sql). Every billing period, not only the ones this run rebuilds: it
    is the export's inventory. On Athena the Glue table lists only what it reads ("$path") and
    manifests are not consulted (docs/export.md), so every file there is 'read'. -#}
{{ config(materialized='table') }}

with

export_rows as (
    select * from {{ focus_source(read='all') }}
),

manifest_files as (
    select * from {{ focus_manifest_files() }}
),

files as (
    select
        cast(export_file as varchar) as export_file,
        {{ focus_file_key('export_file') }} as export_file_key,
        {{ focus_file_period('export_file') }} as export_billing_period,
        min({{ year_month('cast(billingperiodstart as timestamp)') }}) as first_billing_period,
        max({{ year_month('cast(billingperiodstart as timestamp)') }}) as last_billing_period,
        count(*) as file_rows
    from export_rows
    group by 1, 2, 3
),

periods_with_manifest as (
    select distinct
        billing_period,
        manifest_file
    from manifest_files
),

found_or_listed as (
    select
        coalesce(files.export_file, manifest_files.data_file_key) as export_file,
        coalesce(files.export_billing_period, manifest_files.billing_period) as export_billing_period,
        files.first_billing_period,
        files.last_billing_period,
        coalesce(files.file_rows, 0) as file_rows,
        files.export_file is not null as is_found,
        manifest_files.data_file_key is not null as is_listed_in_manifest
    from files
    full outer join manifest_files
        on files.export_file_key = manifest_files.data_file_key
),

final as (
    select
        found_or_listed.export_file,
        found_or_listed.export_billing_period,
        found_or_listed.first_billing_period,
        found_or_listed.last_billing_period,
        periods_with_manifest.manifest_file,
        case
            when not found_or_listed.is_found then 'missing'
            when {{ focus_file_is_hidden('found_or_listed.export_file') }} then 'hidden'
            when periods_with_manifest.manifest_file is not null and not found_or_listed.is_listed_in_manifest
                then 'not_in_latest_manifest'
            else 'read'
        end as read_status,
        found_or_listed.file_rows,
        found_or_listed.is_found,
        found_or_listed.is_listed_in_manifest,
        periods_with_manifest.manifest_file is not null as has_manifest
    from found_or_listed
    left join periods_with_manifest
        on found_or_listed.export_billing_period = periods_with_manifest.billing_period
)

select * from final
