{{ cost_rollup(['environment'], 'monthly') }}
