{{ cost_rollup(
    ['experiment', 'trial', 'model', 'team', 'resource_type', 'sagemaker_category'],
    'monthly',
    daily=ref('fct_sagemaker_cost_by_experiment_daily'),
) }}
