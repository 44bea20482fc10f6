{#- "What does this model really cost?": per billing period, model, team and cost component, the
    billed, effective and list cost of fct_sagemaker_fully_loaded_cost; and per model and period
    the SageMaker line, the neighbour cost it caused and hidden_cost_share = neighbour / SageMaker
    line (effective cost, what was paid). Incremental by billing period like the fact. -#}
{{ config(**billing_period_incremental_config()) }}
with

allocations as (
    select * from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window('billing_period') }}
    {%- endif %}
),

by_component as (
    select
        billing_currency,
        model,
        team,
        cost_component,
        is_sagemaker_line,
        cast(sum(cast(billed_cost as {{ money_decimal() }})) as double) as billed_cost,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        cast(sum(cast(list_cost as {{ money_decimal() }})) as double) as list_cost,
        billing_period
    from allocations
    group by billing_currency, model, team, cost_component, is_sagemaker_line, billing_period
),

with_model_totals as (
    select
        *,
        -- Exact decimals, as in the sums above: the same total whatever order the rows arrive in.
        cast(sum(case when is_sagemaker_line then cast(effective_cost as {{ money_decimal() }}) else 0 end) over (
            partition by billing_period, billing_currency, model
        ) as double) as model_sagemaker_line_cost,
        cast(sum(case when is_sagemaker_line then 0 else cast(effective_cost as {{ money_decimal() }}) end) over (
            partition by billing_period, billing_currency, model
        ) as double) as model_neighbour_cost
    from by_component
),

final as (
    select
        billing_currency,
        model,
        team,
        cost_component,
        is_sagemaker_line,
        billed_cost,
        effective_cost,
        list_cost,
        model_sagemaker_line_cost,
        model_neighbour_cost,
        model_neighbour_cost / nullif(model_sagemaker_line_cost, 0) as hidden_cost_share,
        billing_period
    from with_model_totals
)

select * from final
