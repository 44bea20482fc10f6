{#- The FOCUS columns of each charge that attribution does not read (prices, invoice, SKU details,
    account types, ...), keyed by charge_id: what a FOCUS re-export of the charges carries beside
    stg_focus__charges (models/marts/focus_export). Only the SageMaker services' rows (var
    sagemaker_service_codes), the charges the FOCUS 1.3 export carries: a view every reader re-runs,
    it would otherwise key every service's rows of the export each time (issue 15). Keyed as
    stg_focus__charges keys them (macros/focus_export.sql: focus_charge_key, whose window is per
    service; a test proves both key the same SageMaker charges); columns an older export version
    lacks are typed NULLs. -#}
with

source as (
    select * from {{ focus_source() }}
    where {{ in_billing_period_window('billing_period') }}
        and {{ is_sagemaker_service('x_servicecode') }}
),

renamed as (
    select
        cast(billingaccountid as varchar) as billing_account_id,
        cast(subaccountid as varchar) as sub_account_id,
        cast(x_servicecode as varchar) as service_code,
        cast(resourceid as varchar) as resource_id,
        cast({{ focus_usage_type_column() }} as varchar) as usage_type,
        cast(x_operation as varchar) as aws_operation,
        cast(chargecategory as varchar) as charge_category,
        cast(chargeclass as varchar) as charge_class,
        cast(chargedescription as varchar) as charge_description,
        cast(pricingcategory as varchar) as pricing_category,
        cast(commitmentdiscountstatus as varchar) as commitment_discount_status,
        {{ focus_column_since('billingaccounttype', 'varchar', '1.2') }} as billing_account_type,
        {{ focus_column_since('subaccounttype', 'varchar', '1.2') }} as sub_account_type,
        cast(invoiceissuername as varchar) as invoice_issuer_name,
        {{ focus_column_since('invoiceid', 'varchar', '1.2') }} as invoice_id,
        cast(publishername as varchar) as publisher_name,
        {{ focus_column_since('servicesubcategory', 'varchar', '1.1') }} as service_subcategory,
        cast(skupriceid as varchar) as sku_price_id,
        {{ focus_column_since(json_object_text('skupricedetails'), 'varchar', '1.1') }} as sku_price_details,
        cast(commitmentdiscountname as varchar) as commitment_discount_name,
        {{ focus_column_since('commitmentdiscountunit', 'varchar', '1.1') }} as commitment_discount_unit,
        {{ focus_column_since('capacityreservationid', 'varchar', '1.1') }} as capacity_reservation_id,
        {{ focus_column_since('capacityreservationstatus', 'varchar', '1.1') }} as capacity_reservation_status,
        {{ focus_column_since('pricingcurrency', 'varchar', '1.2') }} as pricing_currency,
        {{ dbt.safe_cast('billedcost', 'double') }} as billed_cost,
        {{ dbt.safe_cast('effectivecost', 'double') }} as effective_cost,
        {{ dbt.safe_cast('listcost', 'double') }} as list_cost,
        {{ dbt.safe_cast('listunitprice', 'double') }} as list_unit_price,
        {{ dbt.safe_cast('contractedunitprice', 'double') }} as contracted_unit_price,
        {{ focus_column_since(dbt.safe_cast('commitmentdiscountquantity', 'double'), 'double', '1.1') }}
            as commitment_discount_quantity,
        {{ focus_column_since(dbt.safe_cast('pricingcurrencylistunitprice', 'double'), 'double', '1.2') }}
            as pricing_currency_list_unit_price,
        {{ focus_column_since(dbt.safe_cast('pricingcurrencycontractedunitprice', 'double'), 'double', '1.2') }}
            as pricing_currency_contracted_unit_price,
        {{ focus_column_since(dbt.safe_cast('pricingcurrencyeffectivecost', 'double'), 'double', '1.2') }}
            as pricing_currency_effective_cost,
        cast(billingperiodstart as timestamp) as billing_period_start_at,
        cast(chargeperiodstart as timestamp) as charge_period_start_at
    from source
),

keyed as (
    select
        {{ focus_charge_key() }} as charge_id,
        *
    from (
        select
            *,
            {{ year_month('billing_period_start_at') }} as billing_period
        from renamed
    ) as periods
),

final as (
    select
        charge_id,
        billing_period,
        billing_account_type,
        sub_account_type,
        invoice_issuer_name,
        invoice_id,
        publisher_name,
        service_subcategory,
        sku_price_id,
        sku_price_details,
        commitment_discount_name,
        commitment_discount_unit,
        capacity_reservation_id,
        capacity_reservation_status,
        pricing_currency,
        list_unit_price,
        contracted_unit_price,
        commitment_discount_quantity,
        pricing_currency_list_unit_price,
        pricing_currency_contracted_unit_price,
        pricing_currency_effective_cost
    from keyed
)

select * from final
