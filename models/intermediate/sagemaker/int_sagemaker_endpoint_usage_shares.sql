{#- How each charge of a shared endpoint divides among models, one row per charge and model, shares
    summing to 1 per charge:
      multi-model endpoints  by each target model's invocations in the charge period (weighting:
                             var multi_model_weighting), each metric value's model as
                             int_sagemaker_multi_model_targets_mapped maps it (an unmapped value's
                             traffic to `unmapped:<value>`); no traffic at all -> `__idle__`;
                             traffic but no per-model metric -> an even split over the endpoint's
                             known models, marked as such;
      inference components   by each component's reservation (copies x accelerators, or x CPU
                             cores on CPU instances) of the instance capacity; the unreserved rest
                             -> `__idle__`.
    Each component's model and team are its owner as int_sagemaker_resources_attributed decides it
    (the component's tags, its SageMaker model's tags, name rules); this model only splits.
    `__idle__` (and every multi-model share) belongs to the endpoint's owning team (resolved in the
    allocation). -#}
with

charges as (
    select * from {{ ref('int_sagemaker_charges_joined_to_resources') }}
    where endpoint_mode in ('multi_model', 'inference_components')
),

-- Each metric point with its clock hour: the equi-join key to the charges' hours (clock_hours_covered).
invocations as (
    select
        *,
        date_trunc('hour', metric_hour_at) as metric_clock_hour
    from {{ ref('stg_sagemaker__endpoint_invocations') }}
),

-- The model each value of a multi-model endpoint's per-model metric names (exact key, stripped
-- name, alias seed, or an explicit `unmapped:<value>`).
multi_model_targets as (
    select * from {{ ref('int_sagemaker_multi_model_targets_mapped') }}
),

components as (
    select * from {{ ref('stg_sagemaker__inference_components') }}
),

capacity as (
    select * from {{ ref('instance_type_capacity') }}
),

-- MIG partition -> its fraction of one GPU, per instance family (the GPU model).
partitions as (
    select * from {{ ref('accelerator_partition_fractions') }}
),

-- Each component's owner, decided where every resource's is (tags, its model's tags, rules).
component_owners as (
    select * from {{ ref('int_sagemaker_resources_attributed') }}
    where resource_type = 'inference-component'
),

-- Multi-model endpoints ------------------------------------------------------------------------
-- The endpoint's metric hours inside each charge period: per target model and for the whole variant.
multi_model_charge_hours as (
    select
        charges.charge_id,
        charges.resource_account_id,
        charges.resource_region,
        charges.resource_name_lower,
        charges.charge_period_start_at,
        charges.charge_period_end_at,
        covered.clock_hour
    from charges
    cross join
        unnest({{ clock_hours_covered('charges.charge_period_start_at', 'charges.charge_period_end_at') }})
            as covered (clock_hour)
    where charges.endpoint_mode = 'multi_model'
),

charge_invocations as (
    select
        charges.charge_id,
        invocations.metric_dimension,
        multi_model_targets.model,
        invocations.invocations,
        invocations.model_latency_us
    from multi_model_charge_hours as charges
    inner join invocations
        on charges.resource_account_id = invocations.account_id
            and charges.resource_region = invocations.region
            and charges.resource_name_lower = lower(invocations.endpoint_name)
            and charges.clock_hour = invocations.metric_clock_hour
            and invocations.metric_dimension in ('target_model', 'variant')
            and charges.charge_period_start_at <= invocations.metric_hour_at
            and charges.charge_period_end_at > invocations.metric_hour_at
    left join multi_model_targets
        on invocations.metric_dimension = 'target_model'
            and invocations.account_id = multi_model_targets.account_id
            and invocations.region = multi_model_targets.region
            and lower(invocations.endpoint_name) = multi_model_targets.endpoint_name_lower
            and invocations.target_model = multi_model_targets.target_value
),

target_model_traffic as (
    select
        charge_id,
        model,
        sum(
            invocations
            {% if var('multi_model_weighting') == 'invocations_x_latency' %}
                * coalesce(model_latency_us, 1)
            {% endif %}
        ) as weight
    from charge_invocations
    where metric_dimension = 'target_model'
    group by charge_id, model
),

target_model_totals as (
    select
        charge_id,
        sum(weight) as total_weight
    from target_model_traffic
    group by charge_id
),

endpoint_traffic as (
    select
        charge_id,
        sum(invocations) as invocations
    from charge_invocations
    where metric_dimension = 'variant'
    group by charge_id
),

-- The models (mapped or explicitly unmapped) the endpoint's metric ever counted traffic for.
known_models as (
    select distinct
        account_id,
        region,
        endpoint_name_lower,
        model
    from multi_model_targets
    where invocations > 0
),

multi_model_state as (
    select
        charges.charge_id,
        charges.resource_account_id,
        charges.resource_region,
        charges.resource_name_lower,
        case
            when coalesce(target_model_totals.total_weight, 0) > 0 then 'multi_model_invocations'
            when coalesce(endpoint_traffic.invocations, 0) = 0 then 'idle_no_traffic'
            else 'even_split_missing_metrics'
        end as allocation_method,
        target_model_totals.total_weight
    from charges
    left join target_model_totals
        on charges.charge_id = target_model_totals.charge_id
    left join endpoint_traffic
        on charges.charge_id = endpoint_traffic.charge_id
    where charges.endpoint_mode = 'multi_model'
),

even_split as (
    select
        multi_model_state.charge_id,
        known_models.model,
        count(*) over (partition by multi_model_state.charge_id) as model_count
    from multi_model_state
    inner join known_models
        on multi_model_state.resource_account_id = known_models.account_id
            and multi_model_state.resource_region = known_models.region
            and multi_model_state.resource_name_lower = known_models.endpoint_name_lower
    where multi_model_state.allocation_method = 'even_split_missing_metrics'
),

multi_model_shares as (
    select
        target_model_traffic.charge_id,
        target_model_traffic.model,
        'multi_model_invocations' as allocation_method,
        target_model_traffic.weight / multi_model_state.total_weight as allocation_share
    from target_model_traffic
    inner join multi_model_state
        on target_model_traffic.charge_id = multi_model_state.charge_id
    where multi_model_state.allocation_method = 'multi_model_invocations'
        and target_model_traffic.weight > 0

    union all

    select
        charge_id,
        '__idle__' as model,
        allocation_method,
        cast(1 as double) as allocation_share
    from multi_model_state
    where allocation_method = 'idle_no_traffic'

    union all

    select
        charge_id,
        model,
        'even_split_missing_metrics' as allocation_method,
        -- A double: Trino keeps 1.0 / 3 as a decimal of scale 1 (0.3), and shares must sum to 1.
        cast(1 as double) / model_count as allocation_share
    from even_split

    union all

    -- Traffic but neither per-model metrics nor any known model: the whole charge stays unattributed.
    select
        multi_model_state.charge_id,
        cast(null as varchar) as model,
        'missing_metrics' as allocation_method,
        cast(1 as double) as allocation_share
    from multi_model_state
    where multi_model_state.allocation_method = 'even_split_missing_metrics'
        and not exists (
            select 1 from even_split
            where even_split.charge_id = multi_model_state.charge_id
        )
),

-- Inference components -------------------------------------------------------------------------
-- A charge of an inference-component endpoint divides among the components placed on the
-- instances it bills, by what each reserves of their capacity; the unreserved rest is `__idle__`:
--   - a copy reserves its accelerators, or on a GPU partitioned by MIG (AcceleratorPartitionType)
--     its partition's fraction of one GPU (seed accelerator_partition_fractions: compute slices of
--     the GPU's; a type the seed lacks reserves a whole accelerator), or on CPU instances its cores;
--   - on a heterogeneous endpoint (InstancePools) a charge names its instance type and bills that
--     pool's instances (usage hours per hour of the period): only the components with copies on
--     that type share it, with that type's requirements (Specifications); charges naming no type
--     (storage, transfer) go to every component of the endpoint;
--   - an adapter (BaseInferenceComponentName) reserves nothing: its base component's share divides
--     among the base and its adapters by their invocations in the charge period, evenly (marked
--     inference_component_even_split) when none of them was invoked.
component_models as (
    select
        components.account_id,
        components.region,
        lower(components.endpoint_name) as endpoint_name_lower,
        components.inference_component_name_lower,
        lower(components.base_inference_component_name) as base_inference_component_name_lower,
        components.created_at,
        coalesce(components.current_copy_count, 1) as copies,
        components.accelerator_devices_required,
        components.cpu_cores_required,
        components.accelerator_partition_type,
        components.copies_by_instance_type,
        components.accelerator_devices_by_instance_type,
        components.cpu_cores_by_instance_type,
        components.accelerator_partition_by_instance_type,
        coalesce(
            {{ resolved_by_precedence('model', ['api', 'link', 'rule'], 'component_owners.') }},
            lower(components.model_name)
        ) as model,
        {{ resolved_by_precedence('team', ['api', 'link', 'rule'], 'component_owners.') }} as team,
        nullif({{ resolved_source('team', ['api', 'link', 'rule'], 'component_owners.') }}, 'unattributed')
            as team_source
    from components
    left join component_owners
        on components.account_id = component_owners.account_id
            and components.region = component_owners.region
            and components.inference_component_name_lower = component_owners.resource_name_lower
            and components.created_at = component_owners.valid_from
),

-- The instance type a charge bills and how many of its instances: the one its usage type names
-- (Host:ml.g5.xlarge) with its usage hours per hour of the period (a pool's instances, and the
-- instances really running when auto scaling moved them), else the endpoint config's.
component_charges as (
    select
        charge_id,
        resource_account_id,
        resource_region,
        resource_name_lower,
        charge_period_start_at,
        charge_period_end_at,
        instance_type as billed_instance_type,
        coalesce(instance_type, resource_instance_type) as instance_type,
        case
            when instance_type is not null and usage_hours > 0
                then usage_hours / ({{ hours_between('charge_period_start_at', 'charge_period_end_at') }})
            else coalesce(resource_instance_count, 1)
        end as instance_count
    from charges
    where endpoint_mode = 'inference_components'
),

-- Each component that reserves (not an adapter) with its copies on each charge's instances and
-- what one copy requires there (null copies: not placed on this type).
component_placements as (
    select
        component_charges.charge_id,
        component_charges.charge_period_start_at,
        component_charges.charge_period_end_at,
        component_charges.instance_type,
        component_charges.instance_count,
        component_models.account_id,
        component_models.region,
        component_models.endpoint_name_lower,
        component_models.inference_component_name_lower,
        component_models.model,
        component_models.team,
        component_models.team_source,
        case
            when
                component_charges.billed_instance_type is null
                -- map_keys: a map's size both engines (and sqlglot between them) read alike
                or coalesce(cardinality(map_keys(component_models.copies_by_instance_type)), 0) = 0
                then component_models.copies
            else {{ map_get('component_models.copies_by_instance_type', 'component_charges.billed_instance_type') }}
        end as copies,
        coalesce(
            {{ map_get('component_models.accelerator_devices_by_instance_type', 'component_charges.instance_type') }},
            component_models.accelerator_devices_required
        ) as accelerator_devices,
        coalesce(
            {{ map_get('component_models.cpu_cores_by_instance_type', 'component_charges.instance_type') }},
            component_models.cpu_cores_required
        ) as cpu_cores,
        coalesce(
            {{ map_get('component_models.accelerator_partition_by_instance_type', 'component_charges.instance_type') }},
            component_models.accelerator_partition_type
        ) as accelerator_partition_type
    from component_charges
    inner join component_models
        on component_charges.resource_account_id = component_models.account_id
            and component_charges.resource_region = component_models.region
            and component_charges.resource_name_lower = component_models.endpoint_name_lower
            and component_charges.charge_period_end_at > component_models.created_at
    where component_models.base_inference_component_name_lower is null
),

component_reservations as (
    select
        component_placements.charge_id,
        component_placements.charge_period_start_at,
        component_placements.charge_period_end_at,
        component_placements.account_id,
        component_placements.region,
        component_placements.endpoint_name_lower,
        component_placements.inference_component_name_lower,
        component_placements.model,
        component_placements.team,
        component_placements.team_source,
        component_placements.copies * case
            -- An instance type unknown (a charge naming none on an endpoint of several pools): each
            -- copy by what it requires, else as one.
            when capacity.instance_type is null
                then coalesce(component_placements.accelerator_devices, component_placements.cpu_cores, 1)
            when coalesce(capacity.accelerators, 0) = 0 then coalesce(component_placements.cpu_cores, 0)
            when component_placements.accelerator_partition_type is not null
                then coalesce(partitions.compute_slices / partitions.gpu_compute_slices, component_placements.accelerator_devices, 1)
            else coalesce(component_placements.accelerator_devices, 0)
        end as reserved_units,
        component_placements.instance_count * case
            when coalesce(capacity.accelerators, 0) > 0 then capacity.accelerators
            else capacity.vcpus
        end as capacity_units
    from component_placements
    left join capacity
        on component_placements.instance_type = capacity.instance_type
    left join partitions
        on regexp_extract(component_placements.instance_type, '^ml\.[a-z0-9-]+') = partitions.instance_family
            and component_placements.accelerator_partition_type = partitions.partition_type
    where component_placements.copies > 0
),

component_totals as (
    select
        charge_id,
        sum(reserved_units) as reserved_units,
        -- Over-reservation (or unknown capacity) divides among components only: no idle share.
        greatest(coalesce(max(capacity_units), 0), sum(reserved_units)) as capacity_units
    from component_reservations
    group by charge_id
),

reservation_shares as (
    select
        component_reservations.*,
        component_reservations.reserved_units / component_totals.capacity_units as allocation_share
    from component_reservations
    inner join component_totals
        on component_reservations.charge_id = component_totals.charge_id
    where component_totals.capacity_units > 0
        and component_reservations.reserved_units > 0
),

-- A base component's share is its own and its adapters' (those created before the charge ends).
reservation_members as (
    select
        charge_id,
        charge_period_start_at,
        charge_period_end_at,
        account_id,
        region,
        inference_component_name_lower as base_name_lower,
        inference_component_name_lower as member_name_lower,
        model,
        team,
        team_source,
        allocation_share as base_share
    from reservation_shares

    union all

    select
        reservation_shares.charge_id,
        reservation_shares.charge_period_start_at,
        reservation_shares.charge_period_end_at,
        reservation_shares.account_id,
        reservation_shares.region,
        reservation_shares.inference_component_name_lower as base_name_lower,
        adapters.inference_component_name_lower as member_name_lower,
        adapters.model,
        adapters.team,
        adapters.team_source,
        reservation_shares.allocation_share as base_share
    from reservation_shares
    inner join component_models as adapters
        on reservation_shares.account_id = adapters.account_id
            and reservation_shares.region = adapters.region
            and reservation_shares.inference_component_name_lower = adapters.base_inference_component_name_lower
            and reservation_shares.charge_period_end_at > adapters.created_at
),

member_traffic as (
    select
        reservation_members.charge_id,
        reservation_members.base_name_lower,
        reservation_members.member_name_lower,
        reservation_members.model,
        reservation_members.team,
        reservation_members.team_source,
        reservation_members.base_share,
        coalesce(sum(invocations.invocations), 0) as invocations
    from reservation_members
    -- Every hour of the charge, so the invocations join on the hour (a member without traffic keeps
    -- its rows, and sums to 0).
    cross join
        unnest(
            {{ clock_hours_covered('reservation_members.charge_period_start_at', 'reservation_members.charge_period_end_at') }}
        ) as covered (clock_hour)
    left join invocations
        on reservation_members.account_id = invocations.account_id
            and reservation_members.region = invocations.region
            and reservation_members.member_name_lower = lower(invocations.inference_component_name)
            and covered.clock_hour = invocations.metric_clock_hour
            and invocations.metric_dimension = 'inference_component'
            and reservation_members.charge_period_start_at <= invocations.metric_hour_at
            and reservation_members.charge_period_end_at > invocations.metric_hour_at
    group by
        reservation_members.charge_id,
        reservation_members.base_name_lower,
        reservation_members.member_name_lower,
        reservation_members.model,
        reservation_members.team,
        reservation_members.team_source,
        reservation_members.base_share
),

member_groups as (
    select
        *,
        count(*) over (partition by charge_id, base_name_lower) as member_count,
        sum(invocations) over (partition by charge_id, base_name_lower) as group_invocations
    from member_traffic
),

component_shares as (
    select
        charge_id,
        model,
        team,
        team_source,
        case
            when member_count = 1 then 'inference_component_reservation'
            when group_invocations > 0 then 'inference_component_invocations'
            else 'inference_component_even_split'
        end as allocation_method,
        case
            when member_count = 1 then base_share
            when group_invocations > 0 then base_share * invocations / group_invocations
            -- A double: Trino keeps 1.0 / 3 as a decimal of scale 1, and shares must sum to 1.
            else base_share / cast(member_count as double)
        end as allocation_share
    from member_groups
    where member_count = 1 or group_invocations = 0 or invocations > 0

    union all

    select
        charges.charge_id,
        '__idle__' as model,
        cast(null as varchar) as team,
        cast(null as varchar) as team_source,
        'inference_component_unreserved' as allocation_method,
        case
            when coalesce(component_totals.capacity_units, 0) > 0
                then 1 - component_totals.reserved_units / component_totals.capacity_units
            else cast(1 as double)
        end as allocation_share
    from charges
    left join component_totals
        on charges.charge_id = component_totals.charge_id
    where charges.endpoint_mode = 'inference_components'
        and (
            coalesce(component_totals.capacity_units, 0) = 0
            or component_totals.reserved_units < component_totals.capacity_units
        )
),

final as (
    select
        charge_id,
        model,
        cast(null as varchar) as team,
        cast(null as varchar) as team_source,
        allocation_method,
        allocation_share
    from multi_model_shares

    union all

    -- Components of one model and owner (a model deployed twice) are one allocation target.
    select
        charge_id,
        model,
        team,
        team_source,
        allocation_method,
        sum(allocation_share) as allocation_share
    from component_shares
    group by charge_id, model, team, team_source, allocation_method
)

select * from final
