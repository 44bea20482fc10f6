{{ cost_rollup(['environment'], 'daily') }}
