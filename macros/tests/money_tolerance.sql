{#- The largest difference between two money totals that is float noise, not lost or doubled money:
    a millionth of a currency unit, plus a ten-billionth of the amount. A charge split into
    thousands of allocations (a daily S3 charge over every prefix of its bucket) is stored as
    double products whose sum drifts from the charge by ~1e-16 of each row; over a year of such
    rows a $29,331 monthly S3 total drifted by $0.0000012 (make bench, twelve months at --scale 7),
    just past a fixed $0.000001. The relative term stays below a cent up to $100 M a group. Every
    reconciliation of split rows uses it; a comparison of unsplit rows (staged against the raw
    export) stays at a fixed $0.000001. -#}
{% macro money_tolerance(amount) -%}
    (0.000001 + 0.0000000001 * abs({{ amount }}))
{%- endmacro %}
