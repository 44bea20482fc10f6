{#- Reconciliation: per group, sum(column) in the model equals sum(compare_column) in compare_model
    (restricted by where / compare_where), within tolerance. Every group present on either side is
    checked, within money_tolerance unless a tolerance is given. Sums are exact decimals: double sums of millions of rows differ in the last digits
    with the order they are added in, which is noise, not lost money. windowed=true compares only the billing periods this run rebuilt (an incremental fact
    keeps older periods that staging no longer reads). When the model side reads only the periods
    this run rebuilt (get_where_subquery, on an incremental model), the compare side is read over the
    same periods, so both sides sum the same months. -#}
{% test sums_match(model, column_name, compare_model, compare_column, group_by, where=None, compare_where=None, tolerance=None, windowed=false) %}
    with model_totals as (
        select {{ group_by | join(', ') }}, sum(cast({{ column_name }} as {{ money_decimal() }})) as total
        from {{ model }}
        where {{ where or 'true' }}
        {% if windowed %}and {{ in_billing_period_window('billing_period') }}{% endif %}
        group by {{ group_by | join(', ') }}
    ),

    compare_totals as (
        select {{ group_by | join(', ') }}, sum(cast({{ compare_column }} as {{ money_decimal() }})) as total
        from {{ compare_model }}
        where {{ compare_where or 'true' }}
        {% if windowed %}and {{ in_billing_period_window('billing_period') }}{% endif %}
        {% if smcost_test_reads_rebuilt_periods_only() %}and {{ in_rebuilt_billing_periods() }}{% endif %}
        group by {{ group_by | join(', ') }}
    )

    select
        {% for g in group_by %}coalesce(m.{{ g }}, c.{{ g }}) as {{ g }},{% endfor %}
        m.total as model_total,
        c.total as compare_total
    from model_totals as m
    full outer join compare_totals as c
        on {% for g in group_by %}m.{{ g }} is not distinct from c.{{ g }}{% if not loop.last %} and {% endif %}{% endfor %}
    where abs(coalesce(m.total, 0) - coalesce(c.total, 0))
        >= {{ tolerance if tolerance is not none else money_tolerance('coalesce(c.total, m.total)') }}
{% endtest %}
