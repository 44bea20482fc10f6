{#- Every place SageMaker work keeps bytes outside SageMaker, and the billed resource that uses it:
    one row per (storage location, SageMaker resource, role). Locations are S3 key prefixes (read
    as S3 reads them), ECR image URIs and file-system ids (FSx channels, the Studio home EFS).
    Roles: `output` (the resource wrote it: artifacts, outputs, checkpoints), `input` (it reads it:
    training channels, processing and transform inputs), `serving` (an endpoint or transform job
    runs a model whose data or image it is). A SageMaker Model is not billed, so its references
    are expanded to the endpoints, inference components and transform jobs that run it. -#}
with

training_jobs as (
    select * from {{ ref('stg_sagemaker__training_jobs') }}
),

processing_jobs as (
    select * from {{ ref('stg_sagemaker__processing_jobs') }}
),

transform_jobs as (
    select * from {{ ref('stg_sagemaker__transform_jobs') }}
),

models as (
    select * from {{ ref('stg_sagemaker__models') }}
),

inference_components as (
    select * from {{ ref('stg_sagemaker__inference_components') }}
),

studio_domains as (
    select * from {{ ref('stg_sagemaker__studio_domains') }}
),

resources as (
    select * from {{ ref('int_sagemaker_resources_unioned') }}
),

training_inputs as (
    select
        training_jobs.account_id,
        training_jobs.region,
        training_jobs.training_job_name_lower,
        channel.s3_uri
    from training_jobs
    cross join unnest(training_jobs.input_s3_uris) as channel (s3_uri)
),

training_file_systems as (
    select
        training_jobs.account_id,
        training_jobs.region,
        training_jobs.training_job_name_lower,
        channel.file_system_id
    from training_jobs
    cross join unnest(training_jobs.input_file_system_ids) as channel (file_system_id)
),

processing_inputs as (
    select
        processing_jobs.account_id,
        processing_jobs.region,
        processing_jobs.processing_job_name_lower,
        channel.s3_uri
    from processing_jobs
    cross join unnest(processing_jobs.input_s3_uris) as channel (s3_uri)
),

processing_outputs as (
    select
        processing_jobs.account_id,
        processing_jobs.region,
        processing_jobs.processing_job_name_lower,
        channel.s3_uri
    from processing_jobs
    cross join unnest(processing_jobs.output_s3_uris) as channel (s3_uri)
),

-- The billed resources that run each SageMaker Model (endpoints through their config's variant,
-- inference components through the endpoint they are placed on, transform jobs).
model_runners as (
    select distinct
        account_id,
        region,
        lower(sagemaker_model_name) as model_name_lower,
        resource_type,
        resource_name_lower
    from resources
    -- A component runs on its endpoint's instances: the branch below names the endpoint instead.
    where sagemaker_model_name is not null and resource_type <> 'inference-component'
    union
    select distinct
        account_id,
        region,
        lower(model_name) as model_name_lower,
        'endpoint' as resource_type,
        lower(endpoint_name) as resource_name_lower
    from inference_components
    where model_name is not null and endpoint_name is not null
),

locations as (
    select
        account_id,
        region,
        's3' as location_kind,
        model_artifact_s3_uri as location_uri,
        'output' as reference_role,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower
    from training_jobs
    where model_artifact_s3_uri is not null
    union all
    select
        account_id,
        region,
        's3' as location_kind,
        checkpoint_s3_uri as location_uri,
        'output' as reference_role,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower
    from training_jobs
    where checkpoint_s3_uri is not null
    union all
    -- SageMaker writes everything of a job under <S3OutputPath>/<TrainingJobName>/: that folder is
    -- the job's own (the extractor lists the same prefix: training_output_prefix in extractor/sagemaker.py).
    select
        account_id,
        region,
        's3' as location_kind,
        rtrim(output_s3_uri, '/') || '/' || training_job_name || '/' as location_uri,
        'output' as reference_role,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower
    from training_jobs
    where output_s3_uri is not null
    union all
    select
        account_id,
        region,
        's3' as location_kind,
        s3_uri as location_uri,
        'input' as reference_role,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower
    from training_inputs
    union all
    select
        account_id,
        region,
        'ecr' as location_kind,
        training_image as location_uri,
        'input' as reference_role,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower
    from training_jobs
    where training_image is not null
    union all
    select
        account_id,
        region,
        'file_system' as location_kind,
        file_system_id as location_uri,
        'input' as reference_role,
        'training-job' as resource_type,
        training_job_name_lower as resource_name_lower
    from training_file_systems
    union all
    select
        account_id,
        region,
        's3' as location_kind,
        s3_uri as location_uri,
        'input' as reference_role,
        'processing-job' as resource_type,
        processing_job_name_lower as resource_name_lower
    from processing_inputs
    union all
    select
        account_id,
        region,
        's3' as location_kind,
        s3_uri as location_uri,
        'output' as reference_role,
        'processing-job' as resource_type,
        processing_job_name_lower as resource_name_lower
    from processing_outputs
    union all
    select
        account_id,
        region,
        'ecr' as location_kind,
        image_uri as location_uri,
        'input' as reference_role,
        'processing-job' as resource_type,
        processing_job_name_lower as resource_name_lower
    from processing_jobs
    where image_uri is not null
    union all
    select
        account_id,
        region,
        's3' as location_kind,
        input_s3_uri as location_uri,
        'input' as reference_role,
        'transform-job' as resource_type,
        transform_job_name_lower as resource_name_lower
    from transform_jobs
    where input_s3_uri is not null
    union all
    select
        account_id,
        region,
        's3' as location_kind,
        output_s3_uri as location_uri,
        'output' as reference_role,
        'transform-job' as resource_type,
        transform_job_name_lower as resource_name_lower
    from transform_jobs
    where output_s3_uri is not null
    union all
    select
        models.account_id,
        models.region,
        's3' as location_kind,
        models.model_data_url as location_uri,
        'serving' as reference_role,
        model_runners.resource_type,
        model_runners.resource_name_lower
    from models
    inner join model_runners
        on models.account_id = model_runners.account_id
            and models.region = model_runners.region
            and models.model_name_lower = model_runners.model_name_lower
    where models.model_data_url is not null
    union all
    select
        models.account_id,
        models.region,
        'ecr' as location_kind,
        models.image_uri as location_uri,
        'serving' as reference_role,
        model_runners.resource_type,
        model_runners.resource_name_lower
    from models
    inner join model_runners
        on models.account_id = model_runners.account_id
            and models.region = model_runners.region
            and models.model_name_lower = model_runners.model_name_lower
    where models.image_uri is not null
    union all
    -- The Studio home volume serves every app of its domain.
    select
        studio_domains.account_id,
        studio_domains.region,
        'file_system' as location_kind,
        studio_domains.home_efs_file_system_id as location_uri,
        'input' as reference_role,
        resources.resource_type,
        resources.resource_name_lower
    from studio_domains
    inner join resources
        on studio_domains.account_id = resources.account_id
            and studio_domains.region = resources.region
            and resources.resource_type = 'app'
            and split_part(resources.resource_name_lower, '/', 1) = lower(studio_domains.domain_id)
    where studio_domains.home_efs_file_system_id is not null
),

final as (
    select distinct
        account_id,
        region,
        location_kind,
        location_uri,
        -- s3://bucket/key: bucket and key prefix; ECR and file systems keep the location_uri whole.
        case when location_kind = 's3' then nullif(regexp_extract(location_uri, '^s3://([^/]+)', 1), '') end as s3_bucket,
        case when location_kind = 's3' then regexp_extract(location_uri, '^s3://[^/]+/?(.*)$', 1) end as s3_key_prefix,
        case when location_kind = 'file_system' then lower(location_uri) end as file_system_id,
        reference_role,
        resource_type,
        resource_name_lower
    from locations
)

select * from final
