{#- Experiment-tracker evidence for each training job incarnation: the MLflow run it links to, by the
    first key that exists (docs/lineage.md), and the W&B runs grouped under its name.
      1. job_mlflow_config: the job's MlflowDetails.MlflowRunId, or MlflowConfig's experiment + run name;
      2. run_tag: a run tag or param naming the job (macros/tracker_evidence_keys.sql), the run started
         while this incarnation of the name was valid;
      3. time_window: neither, and exactly one unlinked run started between the job's start (less
         var tracker_time_window_minutes) and its end on the job's instance type, by the same user
         where both name one; recorded with confidence 'low'.
    A linked run's tags (ml:team, ml:model, ...; the aliases as for AWS tags), its registered model
    and its experiment are the evidence; W&B runs link only exactly (group = job name), one run per
    host, their project the experiment. -#}
with

resources as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
    where resource_type = 'training-job'
),

training_jobs as (
    select * from {{ ref('stg_sagemaker__training_jobs') }}
),

mlflow_runs as (
    select
        *,
        {{ hash_key(['tracking_server', 'run_id']) }} as run_key
    from {{ ref('stg_sagemaker__mlflow_runs') }}
    where lifecycle_stage is null or lifecycle_stage <> 'deleted'
),

mlflow_experiments as (
    select * from {{ ref('stg_sagemaker__mlflow_experiments') }}
),

mlflow_model_versions as (
    select * from {{ ref('stg_sagemaker__mlflow_model_versions') }}
),

wandb_runs as (
    select
        *,
        {{ hash_key(['entity', 'project', 'run_id']) }} as run_key
    from {{ ref('stg_sagemaker__wandb_runs') }}
),

run_tags as (
    {{ normalised_tags('mlflow_runs', 'run_key', 'tags') }}
),

experiment_tag_owners as (
    {{ normalised_tags('mlflow_experiments', 'experiment_id', 'tags') }}
),

wandb_tags as (
    {{ normalised_tags('wandb_runs', 'run_key', 'config') }}
),

registered_models as (
    select
        tracking_server,
        source_run_id,
        min(registered_model_name) as registered_model_name
    from mlflow_model_versions
    where source_run_id is not null
    group by tracking_server, source_run_id
),

run_entries as (
    {{ unnest_map('mlflow_runs', 'run_key', 'tags') }}
    union all
    {{ unnest_map('mlflow_runs', 'run_key', 'params') }}
),

-- The job a run names, and the instance type it ran on (a tag or a param).
run_keys as (
    select
        run_key,
        min(case when lower(tag_key) in ({{ sql_string_list(tracker_job_name_keys()) }}) then lower(trim(tag_value)) end)
            as job_name_lower,
        min(case when lower(tag_key) in ({{ sql_string_list(tracker_instance_type_keys()) }}) then lower(trim(tag_value)) end)
            as instance_type
    from run_entries
    group by run_key
),

runs as (
    select
        mlflow_runs.run_key,
        mlflow_runs.account_id,
        mlflow_runs.region,
        mlflow_runs.run_id,
        mlflow_runs.run_name,
        lower(mlflow_runs.user_id) as user_lower,
        mlflow_runs.started_at,
        run_keys.job_name_lower,
        run_keys.instance_type,
        mlflow_experiments.experiment_name,
        coalesce(run_tags.tag_model, lower(registered.registered_model_name), experiment_tag_owners.tag_model)
            as tracker_model,
        coalesce(run_tags.tag_team, experiment_tag_owners.tag_team) as tracker_team,
        coalesce(run_tags.tag_experiment, lower(mlflow_experiments.experiment_name)) as tracker_experiment,
        coalesce(run_tags.tag_environment, experiment_tag_owners.tag_environment) as tracker_environment
    from mlflow_runs
    left join run_keys
        on mlflow_runs.run_key = run_keys.run_key
    left join run_tags
        on mlflow_runs.run_key = run_tags.run_key
    left join mlflow_experiments
        on mlflow_runs.account_id = mlflow_experiments.account_id
            and mlflow_runs.region = mlflow_experiments.region
            and mlflow_runs.tracking_server = mlflow_experiments.tracking_server
            and mlflow_runs.experiment_id = mlflow_experiments.experiment_id
    left join experiment_tag_owners
        on mlflow_experiments.experiment_id = experiment_tag_owners.experiment_id
    left join registered_models as registered
        on mlflow_runs.tracking_server = registered.tracking_server
            and mlflow_runs.run_id = registered.source_run_id
),

jobs as (
    select
        resources.resource_key,
        resources.account_id,
        resources.region,
        resources.resource_name_lower,
        -- The instance type it ran on (a flexible job: the one SageMaker selected, as unioned has it).
        coalesce(resources.instance_type, training_jobs.instance_type) as instance_type,
        resources.owner_user_profile_name,
        resources.valid_from,
        resources.valid_to,
        training_jobs.training_start_at,
        training_jobs.training_end_at,
        training_jobs.mlflow_run_id,
        training_jobs.mlflow_experiment_name,
        training_jobs.mlflow_run_name
    from resources
    inner join training_jobs
        on resources.resource_arn = training_jobs.training_job_arn
            and resources.created_at = training_jobs.created_at
),

exact_links as (
    select
        jobs.resource_key,
        runs.run_key,
        case when jobs.mlflow_run_id = runs.run_id or jobs.mlflow_run_name is not null then 1 else 2 end
            as method_rank
    from jobs
    inner join runs
        on jobs.account_id = runs.account_id
            and jobs.region = runs.region
            and (
                jobs.mlflow_run_id = runs.run_id
                or (jobs.mlflow_run_name = runs.run_name and jobs.mlflow_experiment_name = runs.experiment_name)
                or (
                    jobs.resource_name_lower = runs.job_name_lower
                    and (jobs.valid_from is null or jobs.valid_from <= runs.started_at)
                    and (jobs.valid_to is null or jobs.valid_to > runs.started_at)
                )
            )
),

window_candidates as (
    select
        jobs.resource_key,
        runs.run_key
    from jobs
    inner join runs
        on jobs.account_id = runs.account_id
            and jobs.region = runs.region
            and runs.job_name_lower is null
            and lower(jobs.instance_type) = runs.instance_type
            and jobs.training_start_at - interval '{{ var('tracker_time_window_minutes', 10) }}' minute <= runs.started_at
            and jobs.training_end_at >= runs.started_at
            and (
                jobs.owner_user_profile_name is null
                or runs.user_lower is null
                or lower(jobs.owner_user_profile_name) = runs.user_lower
            )
    where jobs.resource_key not in (select exact_links.resource_key from exact_links)
        and runs.run_key not in (select exact_links.run_key from exact_links)
),

runs_with_one_candidate as (
    select run_key
    from window_candidates
    group by run_key
    having count(*) = 1
),

-- Unambiguous only: one candidate run for the job, and the job the only candidate for the run.
window_links as (
    select
        resource_key,
        min(run_key) as run_key,
        3 as method_rank
    from window_candidates
    where run_key in (select runs_with_one_candidate.run_key from runs_with_one_candidate)
    group by resource_key
    having count(*) = 1
),

mlflow_links as (
    select
        resource_key,
        run_key,
        method_rank
    from (
        select
            *,
            row_number() over (partition by resource_key order by method_rank, run_key) as link_rank
        from (
            select * from exact_links
            union all
            select * from window_links
        ) as links
    ) as ranked
    where link_rank = 1
),

wandb_links as (
    select
        jobs.resource_key,
        min(wandb_tags.tag_model) as wandb_model,
        min(wandb_tags.tag_team) as wandb_team,
        lower(min(wandb_runs.project)) as wandb_experiment,
        min(wandb_tags.tag_environment) as wandb_environment,
        count(*) as wandb_run_count
    from jobs
    inner join wandb_runs
        on jobs.account_id = wandb_runs.account_id
            and jobs.region = wandb_runs.region
            and jobs.resource_name_lower = lower(wandb_runs.run_group)
            and (jobs.valid_from is null or jobs.valid_from <= wandb_runs.started_at)
            and (jobs.valid_to is null or jobs.valid_to > wandb_runs.started_at)
    left join wandb_tags
        on wandb_runs.run_key = wandb_tags.run_key
    group by jobs.resource_key
),

final as (
    select
        jobs.resource_key,
        runs.run_id as mlflow_run_id,
        case mlflow_links.method_rank
            when 1 then 'job_mlflow_config' when 2 then 'run_tag' when 3 then 'time_window'
        end as mlflow_link_method,
        case when mlflow_links.method_rank = 3 then 'low' when mlflow_links.method_rank is not null then 'exact' end
            as mlflow_link_confidence,
        runs.tracker_model as mlflow_model,
        runs.tracker_team as mlflow_team,
        runs.tracker_experiment as mlflow_experiment,
        runs.tracker_environment as mlflow_environment,
        wandb_links.wandb_model,
        wandb_links.wandb_team,
        wandb_links.wandb_experiment,
        wandb_links.wandb_environment,
        coalesce(wandb_links.wandb_run_count, 0) as wandb_run_count
    from jobs
    left join mlflow_links
        on jobs.resource_key = mlflow_links.resource_key
    left join runs
        on mlflow_links.run_key = runs.run_key
    left join wandb_links
        on jobs.resource_key = wandb_links.resource_key
    where mlflow_links.resource_key is not null or wandb_links.resource_key is not null
)

select * from final
