{#- The true monthly cost of each endpoint: its SageMaker line (instances, and its own storage and
    data transfer) beside what it causes elsewhere — its CloudWatch logs and metrics, the S3 bytes
    of every variant's model artifacts, the ECR images it runs, data transfer linked to it — with
    the total and hidden_cost_share = neighbour / SageMaker line (effective cost). Neighbour costs
    are those whose link reached this endpoint (fct_sagemaker_fully_loaded_cost.linked_resource_*);
    one row per account, region, endpoint, currency and period. Incremental by billing period. -#}
{{ config(**billing_period_incremental_config()) }}
with

allocations as (
    select * from {{ ref('fct_sagemaker_fully_loaded_cost') }}
    {%- if execute and flags.WHICH in ('run', 'build') and is_incremental() %}
        where {{ in_billing_period_window('billing_period') }}
    {%- endif %}
),

endpoint_allocations as (
    select * from allocations
    where linked_resource_type = 'endpoint'
),

by_endpoint as (
    select
        sub_account_id,
        region_id,
        linked_resource_name as endpoint_name,
        billing_currency,
        {%- for column, condition in [
            ('instance_cost', "cost_component = 'sagemaker_compute'"),
            ('sagemaker_storage_cost', "cost_component = 'sagemaker_ml_storage'"),
            ('data_transfer_cost', "cost_component in ('sagemaker_data_transfer', 'data_transfer', 'network')"),
            ('cloudwatch_cost', "cost_component in ('cloudwatch_logs', 'cloudwatch_metrics')"),
            ('s3_cost', "cost_component in ('s3_storage', 's3_requests')"),
            ('ecr_cost', "cost_component = 'ecr_storage'"),
            ('sagemaker_line_cost', "is_sagemaker_line"),
            ('neighbour_cost', "not is_sagemaker_line"),
        ] %}
            cast(sum(case when {{ condition }} then cast(effective_cost as {{ money_decimal() }}) else 0 end) as double)
                as {{ column }},
        {%- endfor %}
        cast(sum(cast(effective_cost as {{ money_decimal() }})) as double) as total_cost,
        cast(sum(cast(billed_cost as {{ money_decimal() }})) as double) as total_billed_cost,
        billing_period
    from endpoint_allocations
    group by sub_account_id, region_id, linked_resource_name, billing_currency, billing_period
),

final as (
    select
        sub_account_id,
        region_id,
        endpoint_name,
        billing_currency,
        instance_cost,
        sagemaker_storage_cost,
        data_transfer_cost,
        cloudwatch_cost,
        s3_cost,
        ecr_cost,
        sagemaker_line_cost,
        neighbour_cost,
        total_cost,
        total_billed_cost,
        neighbour_cost / nullif(sagemaker_line_cost, 0) as hidden_cost_share,
        billing_period
    from by_endpoint
)

select * from final
