{#- FOCUS 1.3 split cost allocation replaces a charge (the origin) by its allocated charges: rows with
    AllocatedMethodId set, one per AllocatedResourceId plus, where the method says so, one for the
    unallocated portion (AllocatedResourceId null), all with the origin's dimensions and costs that sum
    to the origin's. The origin itself is not in the dataset, so summing every row counts each dollar
    once — which is what staging, the marts and reconciliation do.
    A file that carries the origin row beside its allocated rows (a tool that appends the split instead
    of replacing) would count that charge twice, and reconciliation against the file could not see it:
    both sides would hold the double. This fails the build on such a row: a row without
    AllocatedMethodId whose dimensions match allocated rows whose costs add up to its own.
    Only a FOCUS 1.3 export has the columns (var focus_version '1.3'). -#}
{%- if var('focus_version') | string == '1.3' %}
with

source as (
    select
        cast(billingaccountid as varchar) as billing_account_id,
        cast(subaccountid as varchar) as sub_account_id,
        cast(resourceid as varchar) as resource_id,
        cast({{ focus_usage_type_column() }} as varchar) as usage_type,
        cast(skupriceid as varchar) as sku_price_id,
        cast(chargecategory as varchar) as charge_category,
        cast(chargeclass as varchar) as charge_class,
        cast(pricingcategory as varchar) as pricing_category,
        cast(commitmentdiscountstatus as varchar) as commitment_discount_status,
        cast(chargeperiodstart as timestamp) as charge_period_start_at,
        cast(chargeperiodend as timestamp) as charge_period_end_at,
        cast(allocatedmethodid as varchar) as allocated_method_id,
        {{ dbt.safe_cast('billedcost', 'double') }} as billed_cost,
        {{ dbt.safe_cast('effectivecost', 'double') }} as effective_cost,
        cast(billing_period as varchar) as billing_period
    from {{ focus_source() }}
    where {{ in_billing_period_window('billing_period') }}
),

by_dimensions as (
    select
        billing_period,
        billing_account_id,
        sub_account_id,
        resource_id,
        usage_type,
        sku_price_id,
        charge_category,
        charge_class,
        pricing_category,
        commitment_discount_status,
        charge_period_start_at,
        charge_period_end_at,
        count(case when allocated_method_id is null then 1 end) as unsplit_rows,
        count(allocated_method_id) as allocated_rows,
        sum(case when allocated_method_id is null then billed_cost else 0 end) as unsplit_billed_cost,
        sum(case when allocated_method_id is not null then billed_cost else 0 end) as allocated_billed_cost,
        sum(case when allocated_method_id is null then effective_cost else 0 end) as unsplit_effective_cost,
        sum(case when allocated_method_id is not null then effective_cost else 0 end) as allocated_effective_cost
    from source
    group by
        billing_period, billing_account_id, sub_account_id, resource_id, usage_type, sku_price_id,
        charge_category, charge_class, pricing_category, commitment_discount_status,
        charge_period_start_at, charge_period_end_at
)

select
    *,
    'FOCUS 1.3 charge on ' || coalesce(resource_id, '(no resource)') || ' at '
    || cast(charge_period_start_at as varchar)
    || ' arrives as its origin row and as allocated rows that sum to it: it would be counted twice. '
    || 'Export the split charges only (the origin replaced by its allocated charges).' as problem
from by_dimensions
where unsplit_rows > 0
    and allocated_rows > 0
    and abs(unsplit_billed_cost - allocated_billed_cost) <= 1e-6 * greatest(1, abs(unsplit_billed_cost))
    and abs(unsplit_effective_cost - allocated_effective_cost) <= 1e-6 * greatest(1, abs(unsplit_effective_cost))
{%- else %}
select 1 as not_a_focus_1_3_export
where false
{%- endif %}
