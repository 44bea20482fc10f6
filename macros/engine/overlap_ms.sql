{#- Milliseconds two intervals overlap (negative: the gap between them). An open bound (NULL)
    extends to the other interval's edge. -#}
{% macro overlap_ms(start_a, end_a, start_b, end_b) -%}
    date_diff(
        'millisecond',
        greatest({{ start_a }}, coalesce({{ start_b }}, {{ start_a }})),
        least({{ end_a }}, coalesce({{ end_b }}, {{ end_a }}))
    )
{%- endmacro %}
