{#- Every row of the FOCUS export in the billing periods this run rebuilds (all of them on a full
    refresh; see macros/billing_period_window.sql), typed and snake_cased, for both export versions.
    The export is read as AWS defines it (macros/engine/focus_source.sql: the files the period's
    manifest lists); a file lacking a required column stops the build (the pre-hook). No other row is
    filtered: reconciliation compares the marts against this model.
    FOCUS 1.3 (var focus_version '1.3'): a split charge arrives as its allocated charges only — the
    origin row is replaced, not repeated (FOCUS 1.3, split cost allocation: the origin charge "can be
    derived from the combination of allocated charges", whose costs sum to it). So every row still
    counts once, allocated rows included; a file that repeats an origin beside its allocated rows
    would count it twice and stops the build (tests/data/assert_focus_split_charges_are_not_repeated.sql).
    A table, not a view (the one exception in staging): its key needs a window over the whole scan,
    and a dozen downstream models and tests would otherwise re-scan the export — on Athena, bytes
    billed each time. -#}
{{ config(materialized='table', pre_hook="{{ assert_focus_files_have_required_columns() }}") }}
{#- ARN parts, instance type
    and usage hours are row-local derivations; classification (a seed lookup) happens in
    int_sagemaker_charges_classified. -#}
with

source as (
    select * from {{ focus_source() }}
    -- On the export's BILLING_PERIOD partition column, so Athena prunes to the periods this run rebuilds.
    where {{ in_billing_period_window('billing_period') }}
),

renamed as (
    select
        cast(export_file as varchar) as export_file,
        cast(billing_period as varchar) as export_billing_period,
        cast(billingaccountid as varchar) as billing_account_id,
        cast(billingaccountname as varchar) as billing_account_name,
        cast(subaccountid as varchar) as sub_account_id,
        cast(subaccountname as varchar) as sub_account_name,
        cast(resourceid as varchar) as resource_id,
        cast(resourcename as varchar) as resource_name,
        cast(resourcetype as varchar) as focus_resource_type,
        cast(skuid as varchar) as sku_id,
        cast(commitmentdiscountid as varchar) as commitment_discount_id,
        cast(billingcurrency as varchar) as billing_currency,
        cast({{ focus_provider_name() }} as varchar) as provider_name,
        cast(x_servicecode as varchar) as service_code,
        cast(servicename as varchar) as service_name,
        cast(servicecategory as varchar) as service_category,
        cast(chargecategory as varchar) as charge_category,
        cast(chargeclass as varchar) as charge_class,
        cast(chargefrequency as varchar) as charge_frequency,
        cast(chargedescription as varchar) as charge_description,
        cast(pricingcategory as varchar) as pricing_category,
        cast(pricingunit as varchar) as pricing_unit,
        cast(consumedunit as varchar) as consumed_unit,
        cast({{ focus_usage_type_column() }} as varchar) as usage_type,
        cast(x_operation as varchar) as aws_operation,
        cast(regionid as varchar) as region_id,
        cast(regionname as varchar) as region_name,
        cast(availabilityzone as varchar) as availability_zone,
        cast(commitmentdiscountcategory as varchar) as commitment_discount_category,
        cast(commitmentdiscountstatus as varchar) as commitment_discount_status,
        cast(commitmentdiscounttype as varchar) as commitment_discount_type,
        {{ tags_as_map('tags') }} as tags,  -- noqa: AL09 (a parsed expression when Tags is JSON text)
        -- Tags that arrived but could not be read as a key/value map: counted by a warn test, and the
        -- charge stays (untagged), never dropped.
        coalesce(tags is not null and {{ tags_as_map('tags') }} is null, false) as has_malformed_tags,
        -- A cost that arrived but is not a number ('N/A', '1,234.50' in text exports) is quarantined:
        -- the row stays, flagged and counted, its cost NULL; reconciliation then fails the build.
        coalesce(
            (billedcost is not null and {{ dbt.safe_cast('billedcost', 'double') }} is null)
            or (effectivecost is not null and {{ dbt.safe_cast('effectivecost', 'double') }} is null)
            or (listcost is not null and {{ dbt.safe_cast('listcost', 'double') }} is null)
            or (contractedcost is not null and {{ dbt.safe_cast('contractedcost', 'double') }} is null),
            false
        ) as has_unparseable_cost,
        {{ dbt.safe_cast('billedcost', 'double') }} as billed_cost,
        {{ dbt.safe_cast('effectivecost', 'double') }} as effective_cost,
        {{ dbt.safe_cast('listcost', 'double') }} as list_cost,
        {{ dbt.safe_cast('contractedcost', 'double') }} as contracted_cost,
        {{ dbt.safe_cast('consumedquantity', 'double') }} as consumed_quantity,
        {{ dbt.safe_cast('pricingquantity', 'double') }} as pricing_quantity,
        cast(billingperiodstart as timestamp) as billing_period_start_at,
        cast(billingperiodend as timestamp) as billing_period_end_at,
        cast(chargeperiodstart as timestamp) as charge_period_start_at,
        cast(chargeperiodend as timestamp) as charge_period_end_at
    from source
),

derived as (
    select
        *,
        {{ year_month('billing_period_start_at') }} as billing_period,
        {{ arn_service('resource_id') }} as arn_service,
        coalesce({{ arn_region('resource_id') }}, region_id) as resource_region,
        coalesce({{ arn_account_id('resource_id') }}, sub_account_id) as resource_account_id,
        {{ arn_resource_type('resource_id') }} as resource_type,
        {{ arn_resource_name('resource_id') }} as resource_name_lower,
        nullif(regexp_extract(usage_type, 'ml\.[a-z0-9-]+\.[a-z0-9]+'), '') as instance_type,
        case
            when lower(consumed_unit) in ('hrs', 'hr', 'hour', 'hours') then consumed_quantity
            when lower(consumed_unit) in ('second', 'seconds', 'sec', 's') then consumed_quantity / 3600.0
        end as usage_hours,
        coalesce(
            {{ is_sagemaker_service('service_code') }},
            false
        ) as is_sagemaker,
        coalesce(pricing_category = 'Committed' and commitment_discount_status = 'Used', false) as is_commitment_covered,
        billed_cost is null or effective_cost is null as has_null_cost
    from renamed
),

keyed as (
    select
        -- One definition, shared with stg_focus__charge_details (macros/focus_export.sql).
        {{ focus_charge_key() }} as charge_id,
        *
    from derived
),

final as (
    select
        charge_id,
        billing_period,
        billing_account_id,
        billing_account_name,
        sub_account_id,
        sub_account_name,
        resource_id,
        resource_name,
        focus_resource_type,
        resource_account_id,
        resource_region,
        arn_service,
        resource_type,
        resource_name_lower,
        sku_id,
        commitment_discount_id,
        billing_currency,
        provider_name,
        service_code,
        service_name,
        service_category,
        charge_category,
        charge_class,
        charge_frequency,
        charge_description,
        pricing_category,
        pricing_unit,
        consumed_unit,
        usage_type,
        aws_operation,
        instance_type,
        region_id,
        region_name,
        availability_zone,
        commitment_discount_category,
        commitment_discount_status,
        commitment_discount_type,
        tags,
        billed_cost,
        effective_cost,
        list_cost,
        contracted_cost,
        consumed_quantity,
        pricing_quantity,
        usage_hours,
        is_sagemaker,
        is_commitment_covered,
        has_null_cost,
        has_unparseable_cost,
        has_malformed_tags,
        billing_period_start_at,
        billing_period_end_at,
        charge_period_start_at,
        charge_period_end_at,
        export_file,
        export_billing_period
    from keyed
)

select * from final
