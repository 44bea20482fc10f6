{{ cost_rollup(['team'], 'daily') }}
