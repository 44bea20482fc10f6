{#- The S3 and ECR charges of int_neighbour_charges linked to the prefixes and images SageMaker work
    uses, and through them to the resources using those, one row per charge and target (link_share
    sums to 1 per charge). The rules (docs/fully-loaded.md):
      S3 storage     a bucket-day of one storage class: each listed SageMaker prefix by its bytes
                     that day (objects modified on or before it); the bucket's other bytes — the
                     billed bytes minus the listed ones — stay unattributed;
      S3 requests    the SageMaker share of the bucket that day (listed bytes / billed bytes), then
                     across its prefixes by object count; S3 data transfer likewise by bytes;
      ECR storage    a repository-day across the images pushed by then, by image bytes;
      a location     (prefix or image) across the resources referencing it by their usage hours in
                     the period; evenly when none ran in it (an artifact keeps costing after its job
                     is gone); unreferenced images stay unattributed (the stale list's saving).
    Bytes are recovered from the bill: a day's GB-Mo quantity is the GB stored x the day's share of
    the month, and AWS's GB is 2^30 bytes. -#}
with

charges as (
    select * from {{ ref('int_neighbour_charges') }}
    where link_method in ('s3_prefix_bytes', 's3_prefix_objects', 'ecr_image_bytes')
),

storage_references as (
    select * from {{ ref('int_sagemaker_storage_references') }}
),

s3_artifacts as (
    select * from {{ ref('stg_sagemaker__s3_artifacts') }}
),

ecr_images as (
    select * from {{ ref('stg_sagemaker__ecr_images') }}
),

owners as (
    select * from {{ ref('int_sagemaker_resource_owners') }}
),

-- Usage hours of each billed resource in each period (0 for a resource billed only for storage).
resource_hours as (
    select distinct
        billing_period,
        account_id,
        region,
        resource_type,
        resource_name_lower,
        resource_usage_hours
    from owners
),

-- ---------------------------------------------------------------- S3 ------------------------
-- Bytes the bill says a bucket held on a day, per storage class: a day's GB-Mo quantity is the GB
-- stored x the day's share of the month (AWS's GB is 2^30 bytes).
s3_charges as (
    select
        *,
        consumed_quantity * {{ hours_between('billing_period_start_at', 'billing_period_end_at') }}
        / nullif({{ hours_between('charge_period_start_at', 'charge_period_end_at') }}, 0)
        * 1073741824.0 as billed_bytes
    from charges
    where link_method in ('s3_prefix_bytes', 's3_prefix_objects')
),

s3_bucket_days as (
    select
        link_key as s3_bucket,
        charge_period_start_at,
        sum(billed_bytes) as bucket_billed_bytes
    from s3_charges
    where cost_component = 's3_storage'
    group by link_key, charge_period_start_at
),

listed_buckets as (
    select distinct bucket from s3_artifacts
),

-- What each listed prefix held, per storage class, from each day objects were modified on until the
-- next: a running total, so a day reads one row per prefix and class however long the history
-- (joining every charge to every earlier day instead grows with days x charges per bucket).
s3_prefix_history as (
    select
        bucket,
        key_or_prefix,
        storage_class,
        last_modified_day as held_from,
        lead(last_modified_day) over (
            partition by bucket, key_or_prefix, storage_class order by last_modified_day
        ) as held_until,
        sum(size_bytes) over (
            partition by bucket, key_or_prefix, storage_class order by last_modified_day
            rows between unbounded preceding and current row
        ) as bytes_held,
        sum(object_count) over (
            partition by bucket, key_or_prefix, storage_class order by last_modified_day
            rows between unbounded preceding and current row
        ) as objects_held
    from (
        select
            bucket,
            key_or_prefix,
            storage_class,
            last_modified_day,
            sum(size_bytes) as size_bytes,
            sum(object_count) as object_count
        from s3_artifacts
        group by bucket, key_or_prefix, storage_class, last_modified_day
    ) as by_day
),

s3_charge_days as (
    select distinct
        link_key as s3_bucket,
        charge_period_start_at,
        billing_period
    from s3_charges
),

s3_prefixes_held as (
    select
        s3_charge_days.s3_bucket,
        s3_charge_days.charge_period_start_at,
        s3_charge_days.billing_period,
        s3_prefix_history.key_or_prefix,
        s3_prefix_history.storage_class,
        s3_prefix_history.bytes_held,
        s3_prefix_history.objects_held
    from s3_charge_days
    inner join s3_prefix_history
        on s3_charge_days.s3_bucket = s3_prefix_history.bucket
            and s3_charge_days.charge_period_start_at >= s3_prefix_history.held_from
            and (
                s3_prefix_history.held_until is null
                or s3_charge_days.charge_period_start_at < s3_prefix_history.held_until
            )
),

-- Each charge x each listed prefix of its bucket, with what the prefix held that day (objects
-- modified on or before it): for storage, bytes of the charge's storage class; for requests and
-- transfer, all classes.
s3_prefix_days as (
    select
        s3_charges.charge_id,
        s3_prefixes_held.s3_bucket,
        s3_prefixes_held.key_or_prefix,
        sum(s3_prefixes_held.bytes_held) as prefix_bytes,
        sum(s3_prefixes_held.objects_held) as prefix_objects
    from s3_charges
    inner join s3_prefixes_held
        on s3_charges.link_key = s3_prefixes_held.s3_bucket
            and s3_charges.charge_period_start_at = s3_prefixes_held.charge_period_start_at
            and (
                s3_charges.cost_component <> 's3_storage'
                or s3_charges.s3_storage_class = s3_prefixes_held.storage_class
            )
    group by s3_charges.charge_id, s3_prefixes_held.s3_bucket, s3_prefixes_held.key_or_prefix
),

s3_charge_totals as (
    select
        s3_charges.charge_id,
        s3_charges.cost_component,
        s3_charges.link_method,
        s3_charges.billed_bytes,
        s3_bucket_days.bucket_billed_bytes,
        coalesce(sum(s3_prefix_days.prefix_bytes), 0) as listed_bytes,
        coalesce(sum(s3_prefix_days.prefix_objects), 0) as listed_objects,
        max(listed_buckets.bucket) is not null as is_listed
    from s3_charges
    left join s3_prefix_days
        on s3_charges.charge_id = s3_prefix_days.charge_id
    left join s3_bucket_days
        on s3_charges.link_key = s3_bucket_days.s3_bucket
            and s3_charges.charge_period_start_at = s3_bucket_days.charge_period_start_at
    left join listed_buckets
        on s3_charges.link_key = listed_buckets.bucket
    group by
        s3_charges.charge_id,
        s3_charges.cost_component,
        s3_charges.link_method,
        s3_charges.billed_bytes,
        s3_bucket_days.bucket_billed_bytes
),

-- The share of each charge that is SageMaker's: storage by this class's bytes, the rest by the
-- bucket's bytes that day (capped at 1: a listing taken after growth can exceed a day's bill).
s3_sagemaker_shares as (
    select
        *,
        case
            when not is_listed or listed_bytes = 0 then 0.0
            when cost_component = 's3_storage' then least(1.0, listed_bytes / nullif(billed_bytes, 0))
            else least(1.0, coalesce(listed_bytes / nullif(bucket_billed_bytes, 0), 0.0))
        end as sagemaker_share
    from s3_charge_totals
),

s3_prefix_links as (
    select
        s3_prefix_days.charge_id,
        's3://' || s3_prefix_days.s3_bucket || '/' || s3_prefix_days.key_or_prefix as link_detail,
        s3_prefix_days.s3_bucket,
        s3_prefix_days.key_or_prefix,
        s3_sagemaker_shares.sagemaker_share * case
            when s3_sagemaker_shares.link_method = 's3_prefix_objects'
                then cast(s3_prefix_days.prefix_objects as double) / nullif(s3_sagemaker_shares.listed_objects, 0)
            else cast(s3_prefix_days.prefix_bytes as double) / nullif(s3_sagemaker_shares.listed_bytes, 0)
        end as location_share
    from s3_prefix_days
    inner join s3_sagemaker_shares
        on s3_prefix_days.charge_id = s3_sagemaker_shares.charge_id
    where s3_sagemaker_shares.sagemaker_share > 0
),

s3_unattributed as (
    select
        charge_id,
        1.0 - sagemaker_share as link_share,
        case
            when not is_listed then 'bucket_not_in_listing'
            when cost_component = 's3_storage' then 'bytes_outside_sagemaker_prefixes'
            when bucket_billed_bytes is null then 'bucket_size_not_billed'
            else 'requests_outside_sagemaker_prefixes'
        end as unattributed_reason
    from s3_sagemaker_shares
    where sagemaker_share < 1.0
),

-- ---------------------------------------------------------------- ECR -----------------------
ecr_charges as (
    select * from charges
    where link_method = 'ecr_image_bytes'
),

ecr_image_days as (
    select
        ecr_charges.charge_id,
        ecr_images.image_digest,
        coalesce(ecr_images.image_uri, ecr_images.repository_name || '@' || ecr_images.image_digest) as link_detail,
        ecr_images.image_uri,
        cast(ecr_images.size_bytes as double)
        / nullif(sum(ecr_images.size_bytes) over (partition by ecr_charges.charge_id), 0) as location_share
    from ecr_charges
    inner join ecr_images
        on ecr_charges.sub_account_id = ecr_images.account_id
            and ecr_charges.region_id = ecr_images.region
            and ecr_charges.link_key = lower(ecr_images.repository_name)
            and coalesce(ecr_images.pushed_at, ecr_charges.charge_period_start_at) < ecr_charges.charge_period_end_at
),

ecr_unlisted as (
    select
        ecr_charges.charge_id,
        1.0 as link_share,
        'repository_not_in_listing' as unattributed_reason
    from ecr_charges
    where not exists (
            select 1 from ecr_image_days
            where ecr_image_days.charge_id = ecr_charges.charge_id
        )
),

-- ---------------------------------------------------- locations -> resources -----------------
-- A location's period: the charge's billing period. Referencing resources weigh by their usage
-- hours in it; when none used it this period, evenly (the cost stays with whoever made it).
-- Who shares a location, and how, depends on the location and the period only: it is decided once
-- per (location, period) and then joined to each charge's share of the location. Deciding it per
-- charge (a window over charge x location x resource rows) held a year of daily bucket charges x
-- prefixes in memory at once and ran out of 2 GB on twelve demo months (issue 15).
located as (
    select
        s3_prefix_links.charge_id,
        charges.billing_period,
        s3_prefix_links.link_detail,
        s3_prefix_links.location_share,
        's3' as location_kind,
        s3_prefix_links.link_detail as location_key
    from s3_prefix_links
    inner join charges
        on s3_prefix_links.charge_id = charges.charge_id
    union all
    select
        ecr_image_days.charge_id,
        charges.billing_period,
        ecr_image_days.link_detail,
        ecr_image_days.location_share,
        'ecr' as location_kind,
        ecr_image_days.image_uri as location_key
    from ecr_image_days
    inner join charges
        on ecr_image_days.charge_id = charges.charge_id
),

-- Every (location, period) a charge of this run can link to: an S3 prefix held on a billed day of
-- its bucket, an image pushed by a billed day of its repository. Read from these small relations,
-- not from `located` (charge x location rows), so that DuckDB streams `located` once instead of
-- holding it whole for a second reader (it ran out of 2 GB on an incremental run at ~1 M bill rows).
location_periods as (
    select distinct
        's3' as location_kind,
        's3://' || s3_bucket || '/' || key_or_prefix as location_key,
        billing_period
    from s3_prefixes_held
    union
    select distinct
        'ecr' as location_kind,
        ecr_image_days.image_uri as location_key,
        charges.billing_period
    from ecr_image_days
    inner join charges
        on ecr_image_days.charge_id = charges.charge_id
    where ecr_image_days.image_uri is not null
),

-- The resources referencing each location, once each (a resource referencing it in two roles
-- counts once), keyed like located: an S3 location by its s3://bucket/prefix, an image by its URI.
location_resources as (
    select distinct
        location_kind,
        case
            when location_kind = 's3' then 's3://' || s3_bucket || '/' || s3_key_prefix
            else location_uri
        end as location_key,
        account_id,
        region,
        resource_type,
        resource_name_lower
    from storage_references
    where location_kind in ('s3', 'ecr')
),

-- A bad link: a prefix that resources of two or more models each claim as their own output (one
-- job's checkpoints written where another model's job writes) has no single owner, and is not
-- split either: it stays unattributed, counted by its reason, until the paths are fixed. Claims
-- count up to the charge's period, never later: a name reused by another model next month must not
-- change a month already built (an incremental run keeps it; tests/python/test_incremental.py).
output_claims as (
    select distinct
        's3://' || storage_references.s3_bucket || '/' || storage_references.s3_key_prefix as location_key,
        owners.billing_period,
        owners.model
    from storage_references
    inner join owners
        on storage_references.account_id = owners.account_id
            and storage_references.region = owners.region
            and storage_references.resource_type = owners.resource_type
            and storage_references.resource_name_lower = owners.resource_name_lower
    where storage_references.location_kind = 's3'
        and storage_references.reference_role = 'output'
        and owners.model <> 'unattributed'
),

ambiguous_locations as (
    select
        location_periods.location_kind,
        location_periods.location_key,
        location_periods.billing_period
    from location_periods
    inner join output_claims
        on location_periods.location_key = output_claims.location_key
            and location_periods.billing_period >= output_claims.billing_period
    where location_periods.location_kind = 's3'
    group by location_periods.location_kind, location_periods.location_key, location_periods.billing_period
    having count(distinct output_claims.model) > 1
),

location_resource_shares as (
    select
        location_periods.location_kind,
        location_periods.location_key,
        location_periods.billing_period,
        location_resources.account_id,
        location_resources.region,
        location_resources.resource_type,
        location_resources.resource_name_lower,
        coalesce(resource_hours.resource_usage_hours, 0) as usage_hours
    from location_periods
    inner join location_resources
        on location_periods.location_kind = location_resources.location_kind
            and location_periods.location_key = location_resources.location_key
    left join ambiguous_locations
        on location_periods.location_kind = ambiguous_locations.location_kind
            and location_periods.location_key = ambiguous_locations.location_key
            and location_periods.billing_period = ambiguous_locations.billing_period
    left join resource_hours
        on location_periods.billing_period = resource_hours.billing_period
            and location_resources.account_id = resource_hours.account_id
            and location_resources.region = resource_hours.region
            and location_resources.resource_type = resource_hours.resource_type
            and location_resources.resource_name_lower = resource_hours.resource_name_lower
    where ambiguous_locations.location_key is null
),

location_resource_weights as (
    select
        *,
        case
            when sum(usage_hours) over (partition by location_kind, location_key, billing_period) > 0
                then usage_hours / sum(usage_hours) over (partition by location_kind, location_key, billing_period)
            -- A double: Trino keeps 1.0 / 3 as a decimal of scale 1 (0.3), and link shares must sum to 1.
            else cast(1 as double) / count(*) over (partition by location_kind, location_key, billing_period)
        end as resource_share
    from location_resource_shares
),

-- Each located charge share, once: across the location's resources by their weights, or, where
-- no resource takes the location (nobody references it, or several models claim the prefix),
-- unattributed with the reason.
location_links as (
    select
        located.charge_id,
        case
            when located.location_kind = 's3' then 's3_prefix'
            else 'ecr_image'
        end as link_method,
        located.link_detail,
        location_resource_weights.account_id,
        location_resource_weights.region,
        location_resource_weights.resource_type,
        location_resource_weights.resource_name_lower,
        case
            when location_resource_weights.location_key is not null then null
            when ambiguous_locations.location_key is not null then 'prefix_claimed_by_several_models'
            when located.location_kind = 's3' then 'prefix_not_referenced'
            else 'image_not_referenced'
        end as unattributed_reason,
        located.location_share * coalesce(location_resource_weights.resource_share, 1.0) as link_share
    from located
    left join location_resource_weights
        on located.location_kind = location_resource_weights.location_kind
            and located.location_key = location_resource_weights.location_key
            and located.billing_period = location_resource_weights.billing_period
    left join ambiguous_locations
        on located.location_kind = ambiguous_locations.location_kind
            and located.location_key = ambiguous_locations.location_key
            and located.billing_period = ambiguous_locations.billing_period
),

unattributed as (
    select
        charge_id,
        's3_bucket' as link_method,
        cast(null as varchar) as link_detail,
        link_share,
        unattributed_reason
    from s3_unattributed
    union all
    select
        charge_id,
        'ecr_repository' as link_method,
        cast(null as varchar) as link_detail,
        link_share,
        unattributed_reason
    from ecr_unlisted
),

final as (
    select
        charge_id,
        link_method,
        link_detail,
        account_id as linked_account_id,
        region as linked_region,
        resource_type as linked_resource_type,
        resource_name_lower as linked_resource_name,
        unattributed_reason,
        link_share
    from location_links
    -- An unattributed share of nothing is no row (a resource link of share 0 still is one).
    where unattributed_reason is null or link_share > 0
    union all
    select
        charge_id,
        link_method,
        link_detail,
        cast(null as varchar) as linked_account_id,
        cast(null as varchar) as linked_region,
        cast(null as varchar) as linked_resource_type,
        cast(null as varchar) as linked_resource_name,
        unattributed_reason,
        link_share
    from unattributed
    where link_share > 0
)

select * from final
