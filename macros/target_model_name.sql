{#- The model a multi-model endpoint's target model path names: the file name without its path and
    archive extension, lowercased ("s3://b/mme/churn-predictor.tar.gz" -> "churn-predictor"). -#}
{% macro target_model_name(target_model) -%}
    nullif(lower(regexp_replace(regexp_extract({{ target_model }}, '[^/]+$'), '(\.tar\.gz|\.tgz|\.zip)$', '')), '')
{%- endmacro %}
