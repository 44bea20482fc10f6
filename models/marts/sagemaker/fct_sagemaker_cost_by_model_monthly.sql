{{ cost_rollup(['model', 'team'], 'monthly') }}
