{#- The Machine Learning Savings Plan, per billing period and currency:
      covered_usage_cost             what the plan charged for the usage it covered (effective);
      covered_usage_on_demand_cost   the same usage at on-demand (list) prices;
      unused_commitment_cost         commitment no usage consumed;
      eligible_on_demand_cost        usage the plan could have covered but paid on demand (SageMaker
                                     instance usage the ML Savings Plan applies to: training, hosting,
                                     async and serverless inference, processing, batch transform,
                                     notebook instances and Studio; not spot, storage or data);
      coverage_share                 covered / (covered + eligible), both at on-demand prices;
      utilisation_share              used commitment / (used + unused).
    Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {{ where_in_billing_period_window() }}
),

classified as (
    select
        *,
        charge_category = 'Usage'
        and (
            sagemaker_category in (
                'training', 'endpoint_instance', 'async_inference', 'serverless_inference',
                'processing', 'batch_transform', 'notebook_instance'
            )
            or substr(sagemaker_category, 1, 7) = 'studio_'
        ) as is_eligible_usage
    from allocations
),

monthly as (
    select
        billing_period,
        billing_currency,
        cast(sum(case when is_commitment_covered then cast(effective_cost as {{ money_decimal() }}) else 0 end) as double)
            as covered_usage_cost,
        cast(sum(case when is_commitment_covered then cast(list_cost as {{ money_decimal() }}) else 0 end) as double)
            as covered_usage_on_demand_cost,
        cast(sum(
            case when sagemaker_category = 'savings_plan_unused' then cast(effective_cost as {{ money_decimal() }}) else 0 end
        ) as double) as unused_commitment_cost,
        cast(sum(
            case
                when is_eligible_usage and not is_commitment_covered then cast(effective_cost as {{ money_decimal() }})
                else 0
            end
        ) as double) as eligible_on_demand_cost,
        cast(sum(
            case
                when is_eligible_usage and not is_commitment_covered then cast(list_cost as {{ money_decimal() }})
                else 0
            end
        ) as double) as eligible_on_demand_list_cost
    from classified
    group by billing_period, billing_currency
),

final as (
    select
        billing_currency,
        covered_usage_cost,
        covered_usage_on_demand_cost,
        covered_usage_on_demand_cost - covered_usage_cost as savings_vs_on_demand,
        unused_commitment_cost,
        covered_usage_cost + unused_commitment_cost as commitment_cost,
        eligible_on_demand_cost,
        covered_usage_on_demand_cost
        / nullif(covered_usage_on_demand_cost + eligible_on_demand_list_cost, 0) as coverage_share,
        covered_usage_cost / nullif(covered_usage_cost + unused_commitment_cost, 0) as utilisation_share,
        billing_period
    from monthly
)

select * from final
