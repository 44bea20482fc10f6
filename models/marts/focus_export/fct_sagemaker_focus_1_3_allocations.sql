{#- The SageMaker charges with our allocations as FOCUS 1.3 split-cost rows (docs/focus-export.md):
    one row per origin charge x allocation target of fct_sagemaker_cost_allocations, every FOCUS
    column carried from the origin charge (stg_focus__charges, stg_focus__charge_details), costs and
    quantities scaled by the allocation ratio (unit prices kept), and the five Allocated* columns:
      AllocatedMethodId       how the charge was split (our allocation_method; direct = whole);
      AllocatedMethodDetails  {"Elements":[{"AllocatedRatio":r,"UsageUnit":u}]}, ratios summing to 1
                              per origin charge (x_ChargeId);
      AllocatedResourceId/Name the model the share went to; NULL on the unallocated portion (idle
                              capacity, __idle__, and what we could not attribute);
      AllocatedTags           the model, team, experiment and environment we resolved, under the
                              configured tag keys (var tag_keys), minus pairs already in Tags.
    Column names are FOCUS's, not snake_case: the table is the dataset FOCUS tools load (Athena
    lowercases them, as it does AWS's export). Incremental by billing period like the fact. -#}
{{ config(**billing_period_incremental_config()) }}
{%- set tag_keys = var('tag_keys') -%}
{%- set dimensions = ['environment', 'experiment', 'model', 'team'] -%}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {{ where_in_billing_period_window() }}
),

charges as (
    select * from {{ ref('stg_focus__charges') }}
),

charge_details as (
    select * from {{ ref('stg_focus__charge_details') }}
),

joined as (
    select
        allocations.allocation_id,
        allocations.allocation_method,
        allocations.allocation_share,
        allocations.model,
        allocations.team,
        allocations.experiment,
        allocations.environment,
        charges.*,
        charge_details.billing_account_type,
        charge_details.sub_account_type,
        charge_details.invoice_issuer_name,
        charge_details.invoice_id,
        charge_details.publisher_name,
        charge_details.service_subcategory,
        charge_details.sku_price_id,
        charge_details.sku_price_details,
        charge_details.commitment_discount_name,
        charge_details.commitment_discount_unit,
        charge_details.capacity_reservation_id,
        charge_details.capacity_reservation_status,
        charge_details.pricing_currency,
        charge_details.list_unit_price,
        charge_details.contracted_unit_price,
        charge_details.commitment_discount_quantity,
        charge_details.pricing_currency_list_unit_price,
        charge_details.pricing_currency_contracted_unit_price,
        charge_details.pricing_currency_effective_cost
    from allocations
    inner join charges
        on allocations.charge_id = charges.charge_id
    left join charge_details
        on allocations.charge_id = charge_details.charge_id
),

-- The allocation as FOCUS describes it. A share is a double; its JSON text goes through a decimal of
-- scale 15, which both engines print alike (Trino prints a double as 2.5E-1).
allocated as (
    select
        *,
        {%- for dimension in dimensions %}
            case
                when {{ dimension }} not in ('unattributed', '__idle__')
                    and coalesce(
                        {{ normalise_tag_value(map_get('tags', "'" ~ tag_keys[dimension] ~ "'")) }} <> {{ dimension }},
                        true
                    )
                    then {{ json_string("'" ~ tag_keys[dimension] ~ "'") }} || ':' || {{ json_string(dimension) }}
            end as allocated_tag_{{ dimension }},
        {%- endfor %}
        case
            when allocation_method = 'multi_model_invocations' and '{{ var("multi_model_weighting") }}' = 'invocations_x_latency'
                then 'multi_model_invocations_x_latency'
            else allocation_method
        end as allocated_method_id,
        case allocation_method
            when 'multi_model_invocations' then 'Invocations'
            when 'idle_no_traffic' then 'Invocations'
            when 'even_split_missing_metrics' then 'Models'
            when 'inference_component_reservation' then 'Reserved Units'
            when 'inference_component_invocations' then 'Invocations'
            when 'inference_component_even_split' then 'Inference Components'
            when 'inference_component_unreserved' then 'Reserved Units'
            when 'training_plan_usage' then 'Instance Hours'
            when 'training_plan_unused' then 'Instance Hours'
            else 'Charges'
        end as usage_unit,
        cast(cast(allocation_share as decimal(18, 15)) as varchar) as allocated_ratio_text,
        case when model not in ('__idle__', 'unattributed') then model end as allocated_resource_id
    from joined
),

-- FOCUS's column names (PascalCase) are the contract here, not a lapse of the lower-case style.
-- noqa: disable=CP02
final as (
    select
        cast(
            '{"Elements":[{"AllocatedRatio":' || allocated_ratio_text || ',"UsageUnit":"' || usage_unit || '"}]}'
            as varchar
        ) as AllocatedMethodDetails,
        cast(allocated_method_id as varchar) as AllocatedMethodId,
        cast(allocated_resource_id as varchar) as AllocatedResourceId,
        cast(allocated_resource_id as varchar) as AllocatedResourceName,
        cast(
            nullif(
                '{' || concat_ws(
                    ',',
                    allocated_tag_environment,
                    allocated_tag_experiment,
                    allocated_tag_model,
                    allocated_tag_team
                ) || '}',
                '{}'
            ) as varchar
        ) as AllocatedTags,
        availability_zone as AvailabilityZone,
        billed_cost * allocation_share as BilledCost,
        billing_account_id as BillingAccountId,
        billing_account_name as BillingAccountName,
        billing_account_type as BillingAccountType,
        billing_currency as BillingCurrency,
        billing_period_end_at as BillingPeriodEnd,
        billing_period_start_at as BillingPeriodStart,
        capacity_reservation_id as CapacityReservationId,
        capacity_reservation_status as CapacityReservationStatus,
        charge_category as ChargeCategory,
        charge_class as ChargeClass,
        charge_description as ChargeDescription,
        charge_frequency as ChargeFrequency,
        charge_period_end_at as ChargePeriodEnd,
        charge_period_start_at as ChargePeriodStart,
        commitment_discount_category as CommitmentDiscountCategory,
        commitment_discount_id as CommitmentDiscountId,
        commitment_discount_name as CommitmentDiscountName,
        commitment_discount_quantity * allocation_share as CommitmentDiscountQuantity,
        commitment_discount_status as CommitmentDiscountStatus,
        commitment_discount_type as CommitmentDiscountType,
        commitment_discount_unit as CommitmentDiscountUnit,
        consumed_quantity * allocation_share as ConsumedQuantity,
        consumed_unit as ConsumedUnit,
        -- AWS reports no contract commitments in FOCUS terms (no ContractId): NULL, as the spec asks.
        cast(null as varchar) as ContractApplied,
        contracted_cost * allocation_share as ContractedCost,
        contracted_unit_price as ContractedUnitPrice,
        effective_cost * allocation_share as EffectiveCost,
        -- First-party AWS services: the provider both sells and hosts them.
        provider_name as HostProviderName,
        invoice_id as InvoiceId,
        invoice_issuer_name as InvoiceIssuerName,
        list_cost * allocation_share as ListCost,
        list_unit_price as ListUnitPrice,
        pricing_category as PricingCategory,
        pricing_currency as PricingCurrency,
        pricing_currency_contracted_unit_price as PricingCurrencyContractedUnitPrice,
        pricing_currency_effective_cost * allocation_share as PricingCurrencyEffectiveCost,
        pricing_currency_list_unit_price as PricingCurrencyListUnitPrice,
        pricing_quantity * allocation_share as PricingQuantity,
        pricing_unit as PricingUnit,
        -- Deprecated in 1.3 (ServiceProviderName / HostProviderName replace them), still defined: kept
        -- for tools that read 1.2.
        provider_name as ProviderName,
        publisher_name as PublisherName,
        region_id as RegionId,
        region_name as RegionName,
        resource_id as ResourceId,
        resource_name as ResourceName,
        focus_resource_type as ResourceType,
        service_category as ServiceCategory,
        service_name as ServiceName,
        provider_name as ServiceProviderName,
        service_subcategory as ServiceSubcategory,
        sku_id as SkuId,
        usage_type as SkuMeter,
        sku_price_details as SkuPriceDetails,
        sku_price_id as SkuPriceId,
        sub_account_id as SubAccountId,
        sub_account_name as SubAccountName,
        sub_account_type as SubAccountType,
        {{ json_object_text('tags') }} as Tags,
        allocation_id as x_AllocationId,
        charge_id as x_ChargeId,
        aws_operation as x_Operation,
        service_code as x_ServiceCode,
        -- Last: the partition column of the Athena table (not a FOCUS column; smcost export drops it).
        billing_period
    from allocated
)

-- noqa: enable=CP02
select * from final
