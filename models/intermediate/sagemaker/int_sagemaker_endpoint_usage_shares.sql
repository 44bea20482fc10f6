{#- How each charge of a shared endpoint divides among models, one row per charge and model, shares
    summing to 1 per charge:
      multi-model endpoints  by each target model's invocations in the charge period (weighting:
                             var multi_model_weighting); no traffic at all -> `__idle__`; traffic
                             but no per-model metric -> an even split over the endpoint's known
                             models, marked as such;
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

invocations as (
    select * from {{ ref('stg_sagemaker__endpoint_invocations') }}
),

components as (
    select * from {{ ref('stg_sagemaker__inference_components') }}
),

capacity as (
    select * from {{ ref('instance_type_capacity') }}
),

-- Each component's owner, decided where every resource's is (tags, its model's tags, rules).
component_owners as (
    select * from {{ ref('int_sagemaker_resources_attributed') }}
    where resource_type = 'inference-component'
),

-- Multi-model endpoints ------------------------------------------------------------------------
-- The endpoint's metric hours inside each charge period: per target model and for the whole variant.
charge_invocations as (
    select
        charges.charge_id,
        invocations.metric_dimension,
        {{ target_model_name('invocations.target_model') }} as model,
        invocations.invocations,
        invocations.model_latency_us
    from charges
    inner join invocations
        on charges.resource_account_id = invocations.account_id
            and charges.resource_region = invocations.region
            and charges.resource_name_lower = lower(invocations.endpoint_name)
            and invocations.metric_dimension in ('target_model', 'variant')
            and charges.charge_period_start_at <= invocations.metric_hour_at
            and charges.charge_period_end_at > invocations.metric_hour_at
    where charges.endpoint_mode = 'multi_model'
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

known_models as (
    select distinct
        account_id,
        region,
        lower(endpoint_name) as endpoint_name_lower,
        {{ target_model_name('target_model') }} as model
    from invocations
    where metric_dimension = 'target_model'
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
component_models as (
    select
        components.account_id,
        components.region,
        lower(components.endpoint_name) as endpoint_name_lower,
        components.inference_component_name,
        components.created_at,
        coalesce(components.current_copy_count, 1) as copies,
        components.accelerator_devices_required,
        components.cpu_cores_required,
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

component_reservations as (
    select
        charges.charge_id,
        component_models.model,
        component_models.team,
        component_models.team_source,
        component_models.copies * case
            when coalesce(capacity.accelerators, 0) > 0 then coalesce(component_models.accelerator_devices_required, 0)
            else coalesce(component_models.cpu_cores_required, 0)
        end as reserved_units,
        coalesce(charges.resource_instance_count, 1) * case
            when coalesce(capacity.accelerators, 0) > 0 then capacity.accelerators
            else capacity.vcpus
        end as capacity_units
    from charges
    inner join component_models
        on charges.resource_account_id = component_models.account_id
            and charges.resource_region = component_models.region
            and charges.resource_name_lower = component_models.endpoint_name_lower
            and charges.charge_period_end_at > component_models.created_at
    left join capacity
        on charges.resource_instance_type = capacity.instance_type
    where charges.endpoint_mode = 'inference_components'
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

component_shares as (
    select
        component_reservations.charge_id,
        component_reservations.model,
        component_reservations.team,
        component_reservations.team_source,
        'inference_component_reservation' as allocation_method,
        component_reservations.reserved_units / component_totals.capacity_units as allocation_share
    from component_reservations
    inner join component_totals
        on component_reservations.charge_id = component_totals.charge_id
    where component_totals.capacity_units > 0
        and component_reservations.reserved_units > 0

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
