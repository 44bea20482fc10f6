{{ cost_rollup(['team'], 'monthly') }}
