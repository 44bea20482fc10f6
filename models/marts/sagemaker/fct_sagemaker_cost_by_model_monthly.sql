{{ cost_rollup(['model', 'team'], 'monthly', daily=ref('fct_sagemaker_cost_by_model_daily')) }}
