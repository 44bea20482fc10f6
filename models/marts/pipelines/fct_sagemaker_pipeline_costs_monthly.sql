{#- The trend: what each SageMaker pipeline cost per billing period (the period the dollars were
    billed in, so the months add up to the bill), how many executions had compute billed in it (their
    neighbours' storage keeps billing later, so it does not count an execution) and how many of those
    failed or retried, and the change against the previous period (null when the pipeline had
    no cost then: a new pipeline is not a +100% change). Grain: pipeline x billing period x currency. -#}
with

costs as (
    select * from {{ ref('int_sagemaker_pipeline_step_costs') }}
),

monthly as (
    select
        costs.pipeline_arn,
        costs.pipeline_name,
        costs.account_id,
        costs.region,
        costs.billing_period,
        costs.billing_currency,
        count(distinct case when costs.cost_component = 'compute' then costs.pipeline_execution_arn end)
            as executions_with_cost,
        count(distinct case when costs.cost_component = 'compute' and costs.is_failed_execution then costs.pipeline_execution_arn end)
            as failed_executions,
        count(
            distinct case when costs.cost_component = 'compute' and costs.is_retried_execution then costs.pipeline_execution_arn end
        ) as retried_executions,
        sum(case when costs.cost_component = 'compute' then costs.effective_cost else 0 end) as compute_effective_cost,
        sum(case when costs.cost_component = 'neighbour' then costs.effective_cost else 0 end)
            as neighbour_effective_cost,
        sum(costs.effective_cost) as fully_loaded_effective_cost,
        sum(case when costs.is_failed_attempt then costs.effective_cost else 0 end)
            as failed_attempt_effective_cost
    from costs
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        {{ hash_key(['monthly.pipeline_arn', 'monthly.billing_period', 'monthly.billing_currency']) }}
            as pipeline_month_id,
        monthly.pipeline_arn,
        monthly.pipeline_name,
        monthly.account_id,
        monthly.region,
        monthly.billing_currency,
        monthly.executions_with_cost,
        monthly.failed_executions,
        monthly.retried_executions,
        monthly.compute_effective_cost,
        monthly.neighbour_effective_cost,
        monthly.fully_loaded_effective_cost,
        monthly.failed_attempt_effective_cost,
        monthly.fully_loaded_effective_cost / nullif(monthly.executions_with_cost, 0) as cost_per_execution,
        previous.fully_loaded_effective_cost as previous_fully_loaded_effective_cost,
        monthly.fully_loaded_effective_cost - previous.fully_loaded_effective_cost as cost_change,
        (monthly.fully_loaded_effective_cost - previous.fully_loaded_effective_cost)
        / nullif(previous.fully_loaded_effective_cost, 0) as cost_change_ratio,
        monthly.billing_period
    from monthly
    left join monthly as previous
        on monthly.pipeline_arn = previous.pipeline_arn
            and monthly.billing_currency = previous.billing_currency
            and {{ previous_billing_period('monthly.billing_period') }} = previous.billing_period
)

select * from final
