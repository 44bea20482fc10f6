{{ cost_rollup(['team'], 'monthly', daily=ref('fct_sagemaker_cost_by_team_daily')) }}
