{#- The SageMaker bill as the last build staged it: per billing period, payer and currency, the
    totals fct_sagemaker_cost_allocations must add up to. A table rebuilt on every run from what
    staging read, so it holds exactly the billing periods that run rebuilt (the lookback window, or
    all of them on a full refresh) while the fact keeps older ones; `smcost summary` compares the two
    for these periods. A staged period without SageMaker charges keeps its row, at zero, so it is
    compared too. Sums are exact decimals, as in the reconciliation tests. -#}
with

charges as (
    select * from {{ ref('stg_focus__charges') }}
),

final as (
    select
        billing_account_id,
        billing_currency,
        count(case when is_sagemaker then charge_id end) as sagemaker_charge_count,
        cast(coalesce(sum(case when is_sagemaker then cast(billed_cost as {{ money_decimal() }}) end), 0) as double)
            as billed_cost,
        cast(coalesce(sum(case when is_sagemaker then cast(effective_cost as {{ money_decimal() }}) end), 0) as double)
            as effective_cost,
        cast(coalesce(sum(case when is_sagemaker then cast(list_cost as {{ money_decimal() }}) end), 0) as double)
            as list_cost,
        billing_period
    from charges
    group by billing_period, billing_account_id, billing_currency
)

select * from final
