{#- Each pipeline execution's compute cost equals the sum, in fct_sagemaker_cost_allocations, of the
    allocations of the jobs its steps name, summed independently of the marts' chain: the steps' job
    ARNs straight from staging matched to the fact's resource_arn (a job several executions name
    counts for the first, by step start), and the monthly mart adds up to the same executions.
    Returns the executions that disagree by more than a cent. -#}
with

steps as (
    select
        lower(job_arn) as job_arn,
        pipeline_execution_arn,
        row_number() over (partition by lower(job_arn) order by started_at, pipeline_execution_arn) as launch_rank
    from {{ ref('stg_sagemaker__pipeline_execution_steps') }}
    where job_arn is not null
),

-- Jobs the metadata knows: a step naming a job the snapshot lacks has no incarnation to cost (its
-- dollars stay in the fact, attributed or unattributed with their reason).
known_jobs as (
    select lower(training_job_arn) as job_arn from {{ ref('stg_sagemaker__training_jobs') }}
    union
    select lower(processing_job_arn) as job_arn from {{ ref('stg_sagemaker__processing_jobs') }}
    union
    select lower(transform_job_arn) as job_arn from {{ ref('stg_sagemaker__transform_jobs') }}
),

first_launch as (
    select distinct
        steps.job_arn,
        steps.pipeline_execution_arn
    from steps
    inner join known_jobs
        on steps.job_arn = known_jobs.job_arn
    where steps.launch_rank = 1
),

expected as (
    select
        first_launch.pipeline_execution_arn,
        sum(allocations.effective_cost) as effective_cost
    from first_launch
    inner join {{ ref('fct_sagemaker_cost_allocations') }} as allocations
        on first_launch.job_arn = lower(allocations.resource_arn)
    group by 1
),

marts as (
    select
        pipeline_execution_arn,
        compute_effective_cost
    from {{ ref('fct_sagemaker_pipeline_execution_costs') }}
),

monthly as (
    select sum(compute_effective_cost) as effective_cost from {{ ref('fct_sagemaker_pipeline_costs_monthly') }}
),

compared as (
    select
        coalesce(marts.pipeline_execution_arn, expected.pipeline_execution_arn) as pipeline_execution_arn,
        coalesce(marts.compute_effective_cost, 0) as mart_cost,
        coalesce(expected.effective_cost, 0) as fact_cost
    from marts
    full outer join expected
        on marts.pipeline_execution_arn = expected.pipeline_execution_arn
)

select
    pipeline_execution_arn,
    mart_cost,
    fact_cost
from compared
where abs(mart_cost - fact_cost) > 0.01
union all
select
    'all executions, monthly mart' as pipeline_execution_arn,
    (select effective_cost from monthly) as mart_cost,
    (select sum(fact_cost) from compared) as fact_cost
where abs(coalesce((select effective_cost from monthly), 0) - coalesce((select sum(fact_cost) from compared), 0)) > 0.01
