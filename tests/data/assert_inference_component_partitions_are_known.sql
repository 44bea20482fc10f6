{#- Every MIG partition an inference component occupies (its Specification's AcceleratorPartitionType)
    is in seeds/accelerator_partition_fractions.csv for its endpoint's GPU. The usage split reserves a whole accelerator for a partition the seed lacks (it
    cannot know the fraction): that over-states the component's share and hides idle capacity. A
    warning listing each unknown (instance family, partition): add its row to the seed. -#}
{{ config(severity='warn') }}

with

components as (
    select * from {{ ref('stg_sagemaker__inference_components') }}
),

endpoints as (
    select * from {{ ref('stg_sagemaker__endpoints') }}
),

configs as (
    select * from {{ ref('stg_sagemaker__endpoint_configs') }}
),

partitions as (
    select * from {{ ref('accelerator_partition_fractions') }}
),

-- The partition and instance type of each component: its one Specification on its endpoint's
-- config's instance type.
placed as (
    select distinct
        components.inference_component_name,
        components.accelerator_partition_type,
        configs.instance_type
    from components
    inner join endpoints
        on components.account_id = endpoints.account_id
            and components.region = endpoints.region
            and components.endpoint_name = endpoints.endpoint_name
    inner join configs
        on endpoints.account_id = configs.account_id
            and endpoints.region = configs.region
            and endpoints.endpoint_config_name = configs.endpoint_config_name
            and components.variant_name = configs.variant_name
    where components.accelerator_partition_type is not null
),

final as (
    select
        placed.inference_component_name,
        placed.accelerator_partition_type,
        placed.instance_type
    from placed
    left join partitions
        on regexp_extract(placed.instance_type, '^ml\.[a-z0-9-]+') = partitions.instance_family
            and placed.accelerator_partition_type = partitions.partition_type
    where partitions.partition_type is null
)

select * from final
