{#- The fully-loaded total per billing period and currency is the SageMaker-scope total of the raw
    export (read again here, not through staging) plus the in-scope neighbour charges: nothing lost,
    nothing twice. Effective, billed and list cost, on the periods this run rebuilt. -#}
with

export_sagemaker as (
    select
        {{ year_month('cast(billingperiodstart as timestamp)') }} as billing_period,
        cast(billingcurrency as varchar) as billing_currency,
        sum(cast({{ dbt.safe_cast('billedcost', 'double') }} as {{ money_decimal() }})) as billed_cost,
        sum(cast({{ dbt.safe_cast('effectivecost', 'double') }} as {{ money_decimal() }})) as effective_cost,
        sum(cast({{ dbt.safe_cast('listcost', 'double') }} as {{ money_decimal() }})) as list_cost
    from {{ focus_source() }}
    where {{ is_sagemaker_service('x_servicecode') }}
        and {{ in_billing_period_window('billing_period') }}
    group by 1, 2
),

neighbours as (
    select
        billing_period,
        billing_currency,
        sum(cast(billed_cost as {{ money_decimal() }})) as billed_cost,
        sum(cast(effective_cost as {{ money_decimal() }})) as effective_cost,
        sum(cast(list_cost as {{ money_decimal() }})) as list_cost
    from {{ ref('int_neighbour_charges') }}
    where {{ in_billing_period_window('billing_period') }}
    group by 1, 2
),

expected as (
    select
        coalesce(export_sagemaker.billing_period, neighbours.billing_period) as billing_period,
        coalesce(export_sagemaker.billing_currency, neighbours.billing_currency) as billing_currency,
        coalesce(export_sagemaker.billed_cost, 0) + coalesce(neighbours.billed_cost, 0) as billed_cost,
        coalesce(export_sagemaker.effective_cost, 0) + coalesce(neighbours.effective_cost, 0) as effective_cost,
        coalesce(export_sagemaker.list_cost, 0) + coalesce(neighbours.list_cost, 0) as list_cost
    from export_sagemaker
    full outer join neighbours
        on export_sagemaker.billing_period = neighbours.billing_period
            and export_sagemaker.billing_currency = neighbours.billing_currency
),

fully_loaded as (
    select
        billing_period,
        billing_currency,
        sum(cast(billed_cost as {{ money_decimal() }})) as billed_cost,
        sum(cast(effective_cost as {{ money_decimal() }})) as effective_cost,
        sum(cast(list_cost as {{ money_decimal() }})) as list_cost
    from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    where {{ in_billing_period_window('billing_period') }}
    group by 1, 2
)

select
    coalesce(expected.billing_period, fully_loaded.billing_period) as billing_period,
    coalesce(expected.billing_currency, fully_loaded.billing_currency) as billing_currency,
    expected.effective_cost as expected_effective_cost,
    fully_loaded.effective_cost as fully_loaded_effective_cost
from expected
full outer join fully_loaded
    on expected.billing_period = fully_loaded.billing_period
        and expected.billing_currency is not distinct from fully_loaded.billing_currency
where abs(coalesce(expected.billed_cost, 0) - coalesce(fully_loaded.billed_cost, 0))
    >= {{ money_tolerance('coalesce(expected.billed_cost, fully_loaded.billed_cost)') }}
    or abs(coalesce(expected.effective_cost, 0) - coalesce(fully_loaded.effective_cost, 0))
    >= {{ money_tolerance('coalesce(expected.effective_cost, fully_loaded.effective_cost)') }}
    or abs(coalesce(expected.list_cost, 0) - coalesce(fully_loaded.list_cost, 0))
    >= {{ money_tolerance('coalesce(expected.list_cost, fully_loaded.list_cost)') }}
