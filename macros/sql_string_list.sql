{#- 'a', 'b', 'c' from a list of strings, for IN (...) lists built from vars. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{#- Whether a service code is in SageMaker scope (var sagemaker_service_codes): the one rule staging
    (stg_focus__charges.is_sagemaker, stg_focus__charge_details) and the raw-export reconciliations
    share, so a service added to the scope reaches all of them. -#}
{% macro is_sagemaker_service(service_code) -%}
    {{ service_code }} in ({{ sql_string_list(var('sagemaker_service_codes')) }})
{%- endmacro %}
