{#- Staging keeps every SageMaker dollar of the export: per billing period and account, the staged
    SageMaker billed, effective and list totals equal the raw export's, and as many cost values were
    cast as arrived. The second check is what catches a cost that is not a number ('N/A',
    '1,234.50'): both sides would lose it from their sums, but not from the count of values that
    arrived. Fails on any difference. -#}
{%- set costs = ['billedcost', 'effectivecost', 'listcost'] -%}
with

source_totals as (
    select
        {{ year_month('cast(billingperiodstart as timestamp)') }} as billing_period,
        cast(subaccountid as varchar) as sub_account_id,
        sum(cast({{ dbt.safe_cast('billedcost', 'double') }} as {{ money_decimal() }})) as billed_cost,
        sum(cast({{ dbt.safe_cast('effectivecost', 'double') }} as {{ money_decimal() }})) as effective_cost,
        sum(cast({{ dbt.safe_cast('listcost', 'double') }} as {{ money_decimal() }})) as list_cost,
        {% for c in costs %}count({{ c }}){% if not loop.last %} + {% endif %}{% endfor %} as cost_values
    from {{ focus_source() }}
    where {{ is_sagemaker_service('x_servicecode') }}
        and {{ in_billing_period_window('billing_period') }}
    group by 1, 2
),

staged_totals as (
    select
        billing_period,
        sub_account_id,
        sum(cast(billed_cost as {{ money_decimal() }})) as billed_cost,
        sum(cast(effective_cost as {{ money_decimal() }})) as effective_cost,
        sum(cast(list_cost as {{ money_decimal() }})) as list_cost,
        count(billed_cost) + count(effective_cost) + count(list_cost) as cost_values
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker and {{ in_billing_period_window('billing_period') }}
    group by 1, 2
)

select
    coalesce(s.billing_period, t.billing_period) as billing_period,
    coalesce(s.sub_account_id, t.sub_account_id) as sub_account_id,
    s.billed_cost as source_billed_cost,
    t.billed_cost as staged_billed_cost,
    s.cost_values as source_cost_values,
    t.cost_values as staged_cost_values
from source_totals as s
full outer join staged_totals as t
    on s.billing_period = t.billing_period
    and s.sub_account_id is not distinct from t.sub_account_id
where abs(coalesce(s.billed_cost, 0) - coalesce(t.billed_cost, 0)) >= 0.000001
    or abs(coalesce(s.effective_cost, 0) - coalesce(t.effective_cost, 0)) >= 0.000001
    or abs(coalesce(s.list_cost, 0) - coalesce(t.list_cost, 0)) >= 0.000001
    or coalesce(s.cost_values, 0) <> coalesce(t.cost_values, 0)
