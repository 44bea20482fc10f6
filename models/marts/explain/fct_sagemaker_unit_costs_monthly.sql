{#- What a unit of work costs, per billing period: the cost and, beside it, the usage quantity it is
    divided by, so a reader can check every figure.
      per_1000_invocations  endpoint variants and endpoints (instance cost of fct_sagemaker_endpoint_hours
                            over the variant's Invocations), and models: on single-model endpoints the
                            endpoint's invocations in the hours the model was deployed, on multi-model
                            endpoints the model's own target-model invocations over its split of the
                            cost. Inference-component endpoints' models are left out until components
                            are resources of their own (their invocations are per component).
      per_training_hour,    training compute (on-demand and spot) over instance hours and over GPU
      per_gpu_hour,         hours, and the job's whole cost over its jobs, per experiment and per model;
      per_training_job
      per_processing_job    processing cost over the processing jobs billed, per model and team.
    unit_cost is null where the quantity is zero or unknown. Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

endpoint_hours as (
    select * from {{ ref('fct_sagemaker_endpoint_hours') }}
    {{ where_in_billing_period_window() }}
),

training_jobs as (
    select * from {{ ref('fct_sagemaker_training_job_costs') }}
    {{ where_in_billing_period_window() }}
),

all_allocations as (
    select * from {{ ref('fct_sagemaker_cost_allocations') }}
    {{ where_in_billing_period_window() }}
),

allocations as (
    select * from all_allocations
    where resource_type in ('endpoint', 'processing-job')
),

invocations as (
    select * from {{ ref('stg_sagemaker__endpoint_invocations') }}
    where metric_dimension = 'target_model'
),

variant_units as (
    select
        billing_period,
        billing_currency,
        'per_1000_invocations' as unit_kind,
        'endpoint_variant' as subject_type,
        endpoint_name,
        variant_name,
        cast(null as varchar) as model,
        cast(null as varchar) as experiment,
        min(team) as team,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        sum(invocations) as usage_quantity,
        'invocations' as usage_unit
    from endpoint_hours
    group by billing_period, billing_currency, endpoint_name, variant_name
),

endpoint_units as (
    select
        billing_period,
        billing_currency,
        'per_1000_invocations' as unit_kind,
        'endpoint' as subject_type,
        endpoint_name,
        cast(null as varchar) as variant_name,
        cast(null as varchar) as model,
        cast(null as varchar) as experiment,
        min(team) as team,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        sum(invocations) as usage_quantity,
        'invocations' as usage_unit
    from endpoint_hours
    group by billing_period, billing_currency, endpoint_name
),

single_model_units as (
    select
        billing_period,
        billing_currency,
        endpoint_name,
        model,
        min(team) as team,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        sum(invocations) as invocations
    from endpoint_hours
    where endpoint_mode = 'single_model'
    group by billing_period, billing_currency, endpoint_name, model
),

multi_model_costs as (
    select
        billing_period,
        billing_currency,
        sub_account_id,
        region_id,
        resource_name as endpoint_name,
        model,
        min(team) as team,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost
    from allocations
    where endpoint_mode = 'multi_model'
        and sagemaker_category = 'endpoint_instance'
        and model <> '__idle__'
    group by billing_period, billing_currency, sub_account_id, region_id, resource_name, model
),

multi_model_invocations as (
    select
        {{ year_month('metric_hour_at') }} as billing_period,
        account_id,
        region,
        lower(endpoint_name) as endpoint_name,
        {{ target_model_name('target_model') }} as model,
        sum(invocations) as invocations
    from invocations
    group by {{ year_month('metric_hour_at') }}, account_id, region, lower(endpoint_name), {{ target_model_name('target_model') }}
),

multi_model_units as (
    select
        multi_model_costs.billing_period,
        multi_model_costs.billing_currency,
        multi_model_costs.endpoint_name,
        multi_model_costs.model,
        multi_model_costs.team,
        multi_model_costs.effective_cost,
        multi_model_invocations.invocations
    from multi_model_costs
    left join multi_model_invocations
        on multi_model_costs.billing_period = multi_model_invocations.billing_period
            and multi_model_costs.sub_account_id = multi_model_invocations.account_id
            and multi_model_costs.region_id = multi_model_invocations.region
            and multi_model_costs.endpoint_name = multi_model_invocations.endpoint_name
            and multi_model_costs.model = multi_model_invocations.model
),

model_units as (
    select
        billing_period,
        billing_currency,
        'per_1000_invocations' as unit_kind,
        'model' as subject_type,
        cast(null as varchar) as endpoint_name,
        cast(null as varchar) as variant_name,
        model,
        cast(null as varchar) as experiment,
        min(team) as team,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        sum(invocations) as usage_quantity,
        'invocations' as usage_unit
    from (
        select * from single_model_units
        union all
        select * from multi_model_units
    ) as by_endpoint
    group by billing_period, billing_currency, model
),

{%- for subject, keys in [('experiment', ['experiment', 'model', 'team']), ('model', ['model', 'team'])] %}

    training_by_{{ subject }} as (
        select
            billing_period,
            billing_currency,
            {{ "experiment" if subject == 'experiment' else "cast(null as varchar) as experiment" }},
            model,
            team,
            cast(sum(cast(compute_cost as {{ money_decimal() }})) as double) as compute_cost,
            cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
            sum(instance_hours) as instance_hours,
            sum(coalesce(gpu_hours, 0)) as gpu_hours,
            count(distinct training_job_arn) as jobs
        from training_jobs
        group by billing_period, billing_currency, {{ keys | join(', ') }}
    ),

    training_units_by_{{ subject }} as (
    {%- for kind, cost, quantity, unit in [
        ('per_training_hour', 'compute_cost', 'instance_hours', 'instance_hours'),
        ('per_gpu_hour', 'compute_cost', 'gpu_hours', 'gpu_hours'),
        ('per_training_job', 'effective_cost', 'jobs', 'jobs'),
    ] %}
            select
                billing_period,
                billing_currency,
                '{{ kind }}' as unit_kind,
                '{{ subject }}' as subject_type,
                cast(null as varchar) as endpoint_name,
                cast(null as varchar) as variant_name,
                model,
                experiment,
                team,
                {{ cost }},
                cast({{ quantity }} as double) as usage_quantity,
                '{{ unit }}' as usage_unit
            from training_by_{{ subject }}
            {%- if kind == 'per_gpu_hour' %}
                where gpu_hours > 0
            {%- endif %}
            {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ),
{%- endfor %}

processing_units as (
    select
        billing_period,
        billing_currency,
        'per_processing_job' as unit_kind,
        'model' as subject_type,
        cast(null as varchar) as endpoint_name,
        cast(null as varchar) as variant_name,
        model,
        cast(null as varchar) as experiment,
        team,
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as effective_cost,
        cast(count(distinct resource_arn) as double) as usage_quantity,
        'jobs' as usage_unit
    from allocations
    where resource_type = 'processing-job'
    group by billing_period, billing_currency, model, team
),

unioned as (
    select * from variant_units
    union all
    select * from endpoint_units
    union all
    select * from model_units
    union all
    select * from training_units_by_experiment
    union all
    select * from training_units_by_model
    union all
    select * from processing_units
),

final as (
    select
        {{ hash_key(['billing_period', 'billing_currency', 'unit_kind', 'subject_type', 'endpoint_name',
            'variant_name', 'model', 'experiment', 'team']) }} as unit_cost_id,
        billing_currency,
        unit_kind,
        subject_type,
        endpoint_name,
        variant_name,
        model,
        experiment,
        team,
        effective_cost,
        usage_quantity,
        usage_unit,
        effective_cost / nullif(usage_quantity, 0)
        * case when unit_kind = 'per_1000_invocations' then 1000 else 1 end as unit_cost,
        billing_period
    from unioned
)

select * from final
