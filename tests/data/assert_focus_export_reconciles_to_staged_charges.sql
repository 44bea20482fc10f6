{#- Nothing lost, nothing doubled: per origin charge of the staged SageMaker bill, the FOCUS 1.3
    export's rows add up to the charge's billed, effective and list cost, their AllocatedRatios to 1,
    and every SageMaker charge is there. Compared with stg_focus__charges, not with the fact the export
    is built from. Incremental builds keep older periods: only the periods staging holds are compared. -#}
{%- set tolerance = 1e-6 -%}
with

staged as (
    select * from {{ ref('stg_focus__charges') }}
    where is_sagemaker
),

exported as (
    select
        x_ChargeId as charge_id,
        count(*) as allocated_rows,
        sum(BilledCost) as billed_cost,
        sum(EffectiveCost) as effective_cost,
        sum(ListCost) as list_cost,
        -- Each row's one Element's ratio (a JSON number; read by pattern, the same on both engines).
        sum(cast(regexp_extract(AllocatedMethodDetails, '"AllocatedRatio":([0-9.]+)', 1) as double)) as allocated_ratio
    from {{ ref('fct_sagemaker_focus_1_3_allocations') }}
    where billing_period in (select distinct billing_period from {{ ref('stg_focus__charges') }})
    group by x_ChargeId
),

compared as (
    select
        coalesce(staged.charge_id, exported.charge_id) as charge_id,
        staged.billed_cost as staged_billed_cost,
        exported.billed_cost as exported_billed_cost,
        staged.effective_cost as staged_effective_cost,
        exported.effective_cost as exported_effective_cost,
        staged.list_cost as staged_list_cost,
        exported.list_cost as exported_list_cost,
        exported.allocated_ratio
    from staged
    full outer join exported
        on staged.charge_id = exported.charge_id
)

select * from compared
where (staged_billed_cost is null and exported_billed_cost is not null)
    or (exported_billed_cost is null and staged_billed_cost is not null)
    or abs(coalesce(staged_billed_cost, 0) - coalesce(exported_billed_cost, 0)) > {{ tolerance }}
    or abs(coalesce(staged_effective_cost, 0) - coalesce(exported_effective_cost, 0)) > {{ tolerance }}
    or abs(coalesce(staged_list_cost, 0) - coalesce(exported_list_cost, 0)) > {{ tolerance }}
    or abs(coalesce(allocated_ratio, 0) - 1) > {{ tolerance }}
