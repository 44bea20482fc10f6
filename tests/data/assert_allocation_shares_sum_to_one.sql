{#- Each charge's allocation shares sum to exactly 1 (to floating-point precision), and every
    SageMaker charge of the staged bill is allocated: a share that does not sum to 1 or a charge
    that never reached the fact fails the build. Checked on the billing periods this run rebuilt. -#}
with

shares as (
    select
        charge_id,
        sum(allocation_share) as total_share,
        min(allocation_share) as smallest_share
    from {{ ref('fct_sagemaker_cost_allocations') }}
    where {{ in_billing_period_window('billing_period') }}
    group by charge_id
),

staged as (
    select charge_id
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker and {{ in_billing_period_window('billing_period') }}
)

select
    coalesce(staged.charge_id, shares.charge_id) as charge_id,
    shares.total_share,
    shares.smallest_share
from staged
full outer join shares
    on staged.charge_id = shares.charge_id
where shares.charge_id is null
    or staged.charge_id is null
    or abs(shares.total_share - 1) > 0.000000001
    or shares.smallest_share < 0
