{#- The exact type money is summed in: decimal(38, 18). Costs are doubles; a sum of millions of
    doubles depends on the order they are added in, so every total that is compared or published
    casts each row to this decimal first. The scale is 18, not 10: the cast cuts each row to the
    scale, and a fan-out mart cuts every row — at 10 digits, 710 k ECR allocation rows of one month
    summed $0.0000020 under their charges (demo --scale 43, 3 months: make bench-growth), past
    money_tolerance. At 18 digits the cut is ~1e-18 a row; 20 integer digits remain. -#}
{% macro money_decimal() -%}
    decimal(38, 18)
{%- endmacro %}
