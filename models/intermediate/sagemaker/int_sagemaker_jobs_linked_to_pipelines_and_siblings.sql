{#- Metadata evidence for training, processing and transform jobs from the work they ran with:
      pipeline_*  the tags of the SageMaker pipeline whose execution launched the job (a step
                  records the job's ARN; the incarnation in force while the step ran);
      sibling_*   the API tags of a sibling job: another job launched by the same pipeline
                  execution, else one run in the same experiment and trial (ExperimentConfig, or
                  the trial component naming the job). The data-prep step of a run is often
                  untagged and under another role; the run's tagged training job says whose it is.
    int_sagemaker_resources_attributed takes these below the job's own tags and its direct links
    (experiment, tuning job, served training job, model), pipeline before sibling: the pipeline
    launched the job, a sibling only ran beside it.
    One sibling per job, the first by: same execution before same trial; a training job before
    other jobs (the run's main job); the earliest created; the ARN. A trial named
    Default-Run-Group-* is not evidence: SageMaker Experiments puts every run of an experiment in
    it, so its members are not one run. Grain: one job (resource_key) with any such evidence. -#}
with

resources as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
    where resource_type in ('training-job', 'processing-job', 'transform-job')
),

trial_components as (
    select * from {{ ref('stg_sagemaker__trial_components') }}
),

step_jobs as (
    select * from {{ ref('int_sagemaker_pipeline_step_jobs') }}
),

executions as (
    select * from {{ ref('stg_sagemaker__pipeline_executions') }}
),

pipelines as (
    select * from {{ ref('stg_sagemaker__pipelines') }}
),

resource_tags as (
    {{ normalised_tags('resources', 'resource_key', 'tags') }}
),

pipeline_tags as (
    {{ normalised_tags('pipelines', 'pipeline_arn', 'tags') }}
),

-- The trial a job ran in: its ExperimentConfig, else a trial component that names it.
component_trials as (
    select
        source_arn,
        min(experiment_name) as experiment_name,
        min(trial_name) as trial_name
    from trial_components
    where source_arn is not null
    group by source_arn
),

-- Which execution launched each job: the incarnation valid while the step ran, and for a job
-- several executions name, the first (int_sagemaker_pipeline_step_jobs, the rule the cost marts use).
job_executions as (
    select
        resource_key,
        pipeline_execution_arn
    from step_jobs
    where is_cost_owner
),

jobs as (
    select
        resources.resource_key,
        resources.account_id,
        resources.region,
        resources.resource_type,
        resources.resource_arn,
        resources.created_at,
        job_executions.pipeline_execution_arn,
        nullif(coalesce(resources.experiment_name, component_trials.experiment_name), '') as experiment_name,
        case
            when coalesce(resources.trial_name, component_trials.trial_name) not like 'Default-Run-Group-%'
                then nullif(coalesce(resources.trial_name, component_trials.trial_name), '')
        end as trial_name,
        resource_tags.tag_model,
        resource_tags.tag_team,
        resource_tags.tag_environment
    from resources
    left join component_trials
        on resources.resource_arn = component_trials.source_arn
    left join job_executions
        on resources.resource_key = job_executions.resource_key
    left join resource_tags
        on resources.resource_key = resource_tags.resource_key
),

pipeline_owners as (
    select
        jobs.resource_key,
        jobs.pipeline_execution_arn,
        executions.pipeline_name,
        pipeline_tags.tag_model,
        pipeline_tags.tag_team,
        pipeline_tags.tag_experiment,
        pipeline_tags.tag_environment
    from jobs
    inner join executions
        on jobs.pipeline_execution_arn = executions.pipeline_execution_arn
    left join pipeline_tags
        on executions.pipeline_arn = pipeline_tags.pipeline_arn
),

sibling_candidates as (
    select
        jobs.resource_key,
        case
            when jobs.pipeline_execution_arn = siblings.pipeline_execution_arn then 'pipeline_execution'
            else 'experiment_trial'
        end as sibling_relation,
        siblings.resource_arn as sibling_arn,
        siblings.resource_type as sibling_type,
        siblings.created_at as sibling_created_at,
        siblings.tag_model,
        siblings.tag_team,
        siblings.tag_environment
    from jobs
    inner join jobs as siblings
        on jobs.account_id = siblings.account_id
            and jobs.region = siblings.region
            and jobs.resource_arn <> siblings.resource_arn
            and (
                jobs.pipeline_execution_arn = siblings.pipeline_execution_arn
                or (jobs.experiment_name = siblings.experiment_name and jobs.trial_name = siblings.trial_name)
            )
    where siblings.tag_model is not null or siblings.tag_team is not null
),

best_siblings as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by resource_key
                order by
                    case when sibling_relation = 'pipeline_execution' then 0 else 1 end,
                    case when sibling_type = 'training-job' then 0 else 1 end,
                    sibling_created_at,
                    sibling_arn
            ) as sibling_rank
        from sibling_candidates
    ) as ranked
    where sibling_rank = 1
),

final as (
    select
        jobs.resource_key,
        pipeline_owners.pipeline_execution_arn,
        pipeline_owners.pipeline_name,
        pipeline_owners.tag_model as pipeline_model,
        pipeline_owners.tag_team as pipeline_team,
        pipeline_owners.tag_experiment as pipeline_experiment,
        pipeline_owners.tag_environment as pipeline_environment,
        best_siblings.sibling_arn,
        best_siblings.sibling_relation,
        best_siblings.tag_model as sibling_model,
        best_siblings.tag_team as sibling_team,
        best_siblings.tag_environment as sibling_environment
    from jobs
    left join pipeline_owners
        on jobs.resource_key = pipeline_owners.resource_key
    left join best_siblings
        on jobs.resource_key = best_siblings.resource_key
    where pipeline_owners.resource_key is not null or best_siblings.resource_key is not null
)

select * from final
