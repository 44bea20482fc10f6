{{ cost_rollup(['model', 'team'], 'daily') }}
