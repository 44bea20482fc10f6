{#- A monthly rollup is added up from its daily twin (macros/cost_rollup.sql), not read from the
    fact: this checks it against the fact itself. Per rollup row, the distinct charges and the
    effective cost equal the fact's for that period, currency and dimensions, and no group is on one
    side only (a charge counted on two days, or a day lost, would show here). Checked on the billing
    periods this run rebuilt. Fails with each differing row, named by its rollup. -#}
{%- set rollups = {
    'fct_sagemaker_cost_by_model_monthly': ['model', 'team'],
    'fct_sagemaker_cost_by_team_monthly': ['team'],
    'fct_sagemaker_cost_by_environment_monthly': ['environment'],
    'fct_sagemaker_cost_by_experiment_monthly':
        ['experiment', 'trial', 'model', 'team', 'resource_type', 'sagemaker_category'],
} %}
{%- for rollup, dimensions in rollups.items() %}
    {%- set keys = ['billing_period', 'billing_currency'] + dimensions %}
    {%- if not loop.first %}
        union all
    {%- endif %}
    select
        '{{ rollup }}' as rollup,
        coalesce(rollup_rows.billing_period, fact_rows.billing_period) as billing_period,
        rollup_rows.charge_count,
        fact_rows.charge_count as fact_charge_count,
        rollup_rows.effective_cost,
        fact_rows.effective_cost as fact_effective_cost
    from (
        select
            {{ keys | join(', ') }},
            charge_count,
            cast(effective_cost as {{ money_decimal() }}) as effective_cost
        from {{ ref(rollup) }}
        where {{ in_billing_period_window('billing_period') }}
    ) as rollup_rows
    full outer join (
        select
            {{ keys | join(', ') }},
            count(distinct charge_id) as charge_count,
            sum(cast(effective_cost as {{ money_decimal() }})) as effective_cost
        from {{ ref('fct_sagemaker_cost_allocations') }}
        where {{ in_billing_period_window('billing_period') }}
        group by {{ keys | join(', ') }}
    ) as fact_rows
        on {% for key in keys %}rollup_rows.{{ key }} is not distinct from fact_rows.{{ key }}{% if not loop.last %}
            and {% endif %}{% endfor %}
    where rollup_rows.charge_count is distinct from fact_rows.charge_count
        or abs(coalesce(rollup_rows.effective_cost, 0) - coalesce(fact_rows.effective_cost, 0))
        >= {{ money_tolerance('coalesce(fact_rows.effective_cost, rollup_rows.effective_cost)') }}
{%- endfor %}
