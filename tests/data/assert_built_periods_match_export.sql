{#- A restatement outside the lookback window is reported. A normal run rebuilds only the last
    var('lookback_billing_periods') periods; if AWS re-delivers an older one (a late correction, a
    refund), the marts still hold the old numbers. This compares, for every billing period the fact
    holds, the SageMaker charges and effective total of the export as it is now with what was built,
    and lists each period that differs: rebuild it with `dbt build --full-refresh` (or raise
    lookback_billing_periods). A warning, not an error: the built numbers were right when built.
    On Athena it reads three columns of the whole export. -#}
{{ config(severity='warn') }}

with

export_periods as (
    select
        {{ year_month('cast(billingperiodstart as timestamp)') }} as billing_period,
        count(*) as export_charges,
        sum(cast({{ dbt.safe_cast('effectivecost', 'double') }} as {{ money_decimal() }})) as export_effective_cost
    from {{ focus_source() }}
    where {{ is_sagemaker_service('x_servicecode') }}
    group by 1
),

built_periods as (
    select
        billing_period,
        count(distinct charge_id) as built_charges,
        sum(cast(effective_cost as {{ money_decimal() }})) as built_effective_cost
    from {{ ref('fct_sagemaker_cost_allocations') }}
    group by 1
)

select
    coalesce(built_periods.billing_period, export_periods.billing_period) as billing_period,
    built_periods.built_charges,
    export_periods.export_charges,
    built_periods.built_effective_cost,
    export_periods.export_effective_cost,
    'restated since it was built: run dbt build --full-refresh' as action
from built_periods
left join export_periods
    on built_periods.billing_period = export_periods.billing_period
where export_periods.billing_period is null
    or built_periods.built_charges <> export_periods.export_charges
    or abs(built_periods.built_effective_cost - export_periods.export_effective_cost)
        >= {{ money_tolerance('export_periods.export_effective_cost') }}
