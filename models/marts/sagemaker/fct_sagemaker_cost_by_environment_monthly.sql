{{ cost_rollup(['environment'], 'monthly', daily=ref('fct_sagemaker_cost_by_environment_daily')) }}
