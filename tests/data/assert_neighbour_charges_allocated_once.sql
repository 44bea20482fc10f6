{#- Every in-scope neighbour charge is allocated exactly once: its shares in
    fct_sagemaker_fully_loaded_cost sum to 1, no share is negative, no charge is missing, and no
    charge is on both the SageMaker line and a neighbour allocation (a neighbour service counted as
    SageMaker, or a SageMaker charge linked again as a neighbour, would double its dollars).
    Checked on the billing periods this run rebuilt. -#}
with

allocations as (
    select
        charge_id,
        sum(allocation_share) as total_share,
        min(allocation_share) as smallest_share,
        count(distinct is_sagemaker_line) as lines
    from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    where {{ in_billing_period_window('billing_period') }}
    group by charge_id
),

in_scope as (
    select charge_id
    from {{ ref('int_neighbour_charges') }}
    where {{ in_billing_period_window('billing_period') }}
    union all
    select charge_id
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker and {{ in_billing_period_window('billing_period') }}
)

select
    coalesce(in_scope.charge_id, allocations.charge_id) as charge_id,
    allocations.total_share,
    allocations.smallest_share,
    allocations.lines
from in_scope
full outer join allocations
    on in_scope.charge_id = allocations.charge_id
where in_scope.charge_id is null
    or allocations.charge_id is null
    or abs(allocations.total_share - 1) > 0.000001
    or allocations.smallest_share < 0
    or allocations.lines > 1
