{{ cost_rollup(['experiment', 'trial', 'model', 'team', 'resource_type', 'sagemaker_category'], 'daily') }}
