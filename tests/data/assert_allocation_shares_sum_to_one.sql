{#- Each charge's allocation shares sum to exactly 1 (to floating-point precision), and every
    SageMaker charge of the staged bill is allocated: a share that does not sum to 1 or a charge
    that never reached the fact fails the build. -#}
with

shares as (
    select
        charge_id,
        sum(allocation_share) as total_share,
        min(allocation_share) as smallest_share
    from {{ ref('fct_sagemaker_cost_allocations') }}
    group by charge_id
),

staged as (
    select charge_id
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker
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
