{#- Each resource's candidate owner from three kinds of evidence, kept apart so the allocation can
    apply the precedence and record which one decided:
      api_*   its own tags from the SageMaker API (activated for billing or not);
      link_*  metadata links: training/processing job -> experiment (ExperimentConfig, or the trial
              component that names the job) -> the experiment's tags; HPO child -> tuning job tags;
              processing job -> the training job it served; transform job / endpoint -> its model's tags;
              then the tags of the pipeline whose execution launched the job, then a sibling job's
              tags (int_sagemaker_jobs_linked_to_pipelines_and_siblings), recorded in link_sibling_*.
              So a job's own tags beat its pipeline's (api_* before link_* in the precedence
              macro), a direct link beats the pipeline (it names this job's work), and the pipeline
              beats a sibling (it launched the job; a sibling only ran beside it);
      rule_*  seeds: name pattern -> model/team, IAM role -> team, Studio user profile -> team. -#}
with

resources as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
),

experiments as (
    select * from {{ ref('stg_sagemaker__experiments') }}
),

trial_components as (
    select * from {{ ref('stg_sagemaker__trial_components') }}
),

tuning_jobs as (
    select * from {{ ref('stg_sagemaker__tuning_jobs') }}
),

pipelines_and_siblings as (
    select * from {{ ref('int_sagemaker_jobs_linked_to_pipelines_and_siblings') }}
),

-- One row per incarnation (a reused name shares the ARN): keyed apart, so tags stay apart.
training_jobs as (
    select
        *,
        {{ hash_key(['training_job_arn', 'created_at']) }} as training_job_key
    from {{ ref('stg_sagemaker__training_jobs') }}
),

models as (
    select * from {{ ref('stg_sagemaker__models') }}
),

-- Experiment-tracker runs linked to training jobs (MLflow, W&B): docs/lineage.md.
tracker_evidence as (
    select * from {{ ref('int_sagemaker_training_job_tracker_evidence') }}
),

name_rules as (
    select * from {{ ref('attribution_rules_name_pattern') }}
),

role_rules as (
    select * from {{ ref('attribution_rules_role_team') }}
),

user_profile_rules as (
    select * from {{ ref('attribution_rules_user_profile_team') }}
),

resource_tags as (
    {{ normalised_tags('resources', 'resource_key', 'tags') }}
),

experiment_tags as (
    {{ normalised_tags('experiments', 'experiment_arn', 'tags') }}
),

tuning_job_tags as (
    {{ normalised_tags('tuning_jobs', 'tuning_job_arn', 'tags') }}
),

training_job_tags as (
    {{ normalised_tags('training_jobs', 'training_job_key', 'tags') }}
),

model_tags as (
    {{ normalised_tags('models', 'model_arn', 'tags') }}
),

experiment_owners as (
    select
        experiments.account_id,
        experiments.region,
        experiments.experiment_name,
        experiment_tags.tag_team,
        experiment_tags.tag_model,
        experiment_tags.tag_environment
    from experiments
    inner join experiment_tags
        on experiments.experiment_arn = experiment_tags.experiment_arn
),

-- A job without ExperimentConfig can still be a trial component's source.
component_experiments as (
    select
        source_arn,
        min(experiment_name) as experiment_name,
        min(trial_name) as trial_name
    from trial_components
    where source_arn is not null
    group by source_arn
),

-- The training job a processing job served (Debugger/Profiler rules), with its own experiment.
-- A reused name means several incarnations behind one ARN: the one created last before the
-- processing job was (they start together), so an old job's owner never leaks to a new one.
training_job_owners as (
    select
        resource_key,
        experiment_name,
        tag_team,
        tag_model,
        tag_environment
    from (
        select
            resources.resource_key,
            training_jobs.experiment_name,
            training_job_tags.tag_team,
            training_job_tags.tag_model,
            training_job_tags.tag_environment,
            row_number() over (
                partition by resources.resource_key
                order by
                    case when training_jobs.created_at <= resources.created_at then 0 else 1 end,
                    training_jobs.created_at desc
            ) as incarnation_rank
        from resources
        inner join training_jobs
            on resources.linked_training_job_arn = training_jobs.training_job_arn
        left join training_job_tags
            on training_jobs.training_job_key = training_job_tags.training_job_key
    ) as incarnations
    where incarnation_rank = 1
),

model_owners as (
    select
        models.account_id,
        models.region,
        models.model_name_lower,
        model_tags.tag_team,
        model_tags.tag_model,
        model_tags.tag_experiment,
        model_tags.tag_environment
    from models
    inner join model_tags
        on models.model_arn = model_tags.model_arn
),

linked as (
    select
        resources.resource_key,
        coalesce(resources.experiment_name, component_experiments.experiment_name, training_job_owners.experiment_name)
            as linked_experiment_name,
        coalesce(resources.trial_name, component_experiments.trial_name) as linked_trial_name,
        coalesce(
            experiment_owners.tag_model, tuning_job_tags.tag_model, training_job_owners.tag_model, model_owners.tag_model,
            pipelines_and_siblings.pipeline_model, pipelines_and_siblings.sibling_model
        ) as link_model,
        coalesce(
            experiment_owners.tag_team, tuning_job_tags.tag_team, training_job_owners.tag_team, model_owners.tag_team,
            pipelines_and_siblings.pipeline_team, pipelines_and_siblings.sibling_team
        ) as link_team,
        coalesce(
            tuning_job_tags.tag_experiment, model_owners.tag_experiment, pipelines_and_siblings.pipeline_experiment
        ) as link_experiment_tag,
        coalesce(
            experiment_owners.tag_environment, tuning_job_tags.tag_environment,
            training_job_owners.tag_environment, model_owners.tag_environment,
            pipelines_and_siblings.pipeline_environment, pipelines_and_siblings.sibling_environment
        ) as link_environment,
        -- The sibling is recorded where its tags decided the model or the team.
        case
            when
                (
                    pipelines_and_siblings.sibling_model is not null
                    and coalesce(
                        experiment_owners.tag_model, tuning_job_tags.tag_model, training_job_owners.tag_model,
                        model_owners.tag_model, pipelines_and_siblings.pipeline_model
                    ) is null
                )
                or (
                    pipelines_and_siblings.sibling_team is not null
                    and coalesce(
                        experiment_owners.tag_team, tuning_job_tags.tag_team, training_job_owners.tag_team,
                        model_owners.tag_team, pipelines_and_siblings.pipeline_team
                    ) is null
                )
                then pipelines_and_siblings.sibling_arn
        end as link_sibling_arn,
        pipelines_and_siblings.sibling_relation as link_sibling_relation,
        pipelines_and_siblings.pipeline_execution_arn as link_pipeline_execution_arn
    from resources
    left join component_experiments
        on resources.resource_arn = component_experiments.source_arn
    left join training_job_owners
        on resources.resource_key = training_job_owners.resource_key
    left join experiment_owners
        on resources.account_id = experiment_owners.account_id
            and resources.region = experiment_owners.region
            and coalesce(resources.experiment_name, component_experiments.experiment_name, training_job_owners.experiment_name)
            = experiment_owners.experiment_name
    left join tuning_job_tags
        on resources.tuning_job_arn = tuning_job_tags.tuning_job_arn
    left join model_owners
        on resources.account_id = model_owners.account_id
            and resources.region = model_owners.region
            and lower(resources.sagemaker_model_name) = model_owners.model_name_lower
    left join pipelines_and_siblings
        on resources.resource_key = pipelines_and_siblings.resource_key
),

-- Rules (seeds): the best match per resource, by the one tie-break in macros/best_rule_match.sql.
name_rule_matches as (
    {{ best_rule_match(
        'resources', 'resource_key', 'resource_name_lower', 'name_rules', 'name_pattern', ['model', 'team'],
        type_column='resource_type'
    ) }}
),

role_rule_matches as (
    {{ best_rule_match('resources', 'resource_key', 'role_name', 'role_rules', 'role_name_pattern', ['team']) }}
),

user_profile_rule_matches as (
    {{ best_rule_match(
        'resources', 'resource_key', 'owner_user_profile_name', 'user_profile_rules', 'user_profile_pattern', ['team']
    ) }}
),

final as (
    select
        resources.resource_key,
        resources.account_id,
        resources.region,
        resources.resource_type,
        resources.resource_name_lower,
        resources.resource_arn,
        resources.endpoint_config_name,
        resources.endpoint_mode,
        resources.instance_type,
        resources.instance_count,
        resources.valid_from,
        resources.valid_to,
        linked.linked_trial_name as trial_name,
        resource_tags.tag_model as api_model,
        resource_tags.tag_team as api_team,
        resource_tags.tag_experiment as api_experiment,
        resource_tags.tag_environment as api_environment,
        linked.link_model,
        linked.link_team,
        coalesce(lower(linked.linked_experiment_name), linked.link_experiment_tag) as link_experiment,
        linked.link_environment,
        linked.link_pipeline_execution_arn,
        linked.link_sibling_arn,
        case when linked.link_sibling_arn is not null then linked.link_sibling_relation end as link_sibling_relation,
        name_rule_matches.model as rule_model,
        coalesce(name_rule_matches.team, role_rule_matches.team, user_profile_rule_matches.team) as rule_team,
        tracker_evidence.mlflow_model,
        tracker_evidence.mlflow_team,
        tracker_evidence.mlflow_experiment,
        tracker_evidence.mlflow_environment,
        tracker_evidence.wandb_model,
        tracker_evidence.wandb_team,
        tracker_evidence.wandb_experiment,
        tracker_evidence.wandb_environment,
        tracker_evidence.mlflow_link_method
    from resources
    left join resource_tags
        on resources.resource_key = resource_tags.resource_key
    left join linked
        on resources.resource_key = linked.resource_key
    left join name_rule_matches
        on resources.resource_key = name_rule_matches.resource_key
    left join role_rule_matches
        on resources.resource_key = role_rule_matches.resource_key
    left join user_profile_rule_matches
        on resources.resource_key = user_profile_rule_matches.resource_key
    left join tracker_evidence
        on resources.resource_key = tracker_evidence.resource_key
)

select * from final
