{#- ARN parsing, portable SQL: split_part/strpos/substr behave the same on Athena and DuckDB, except
    that split_part past the last field is NULL on Athena and '' on DuckDB — so a field is read
    through nullif(..., ''), and a too-short ARN has no resource on either engine.
    arn:partition:service:region:account:resource, where resource is "<type>/<name...>" for
    SageMaker (app ARNs carry domain/profile-or-space/type/name after "app/"). -#}
{% macro arn_service(arn) -%}
    case when {{ arn }} like 'arn:%' then nullif(split_part({{ arn }}, ':', 3), '') end
{%- endmacro %}

{% macro arn_region(arn) -%}
    case when {{ arn }} like 'arn:%' then nullif(split_part({{ arn }}, ':', 4), '') end
{%- endmacro %}

{% macro arn_account_id(arn) -%}
    case when {{ arn }} like 'arn:%' then nullif(split_part({{ arn }}, ':', 5), '') end
{%- endmacro %}

{% macro _arn_resource(arn) -%}
    substr({{ arn }}, length(split_part({{ arn }}, ':', 1)) + length(split_part({{ arn }}, ':', 2))
        + length(split_part({{ arn }}, ':', 3)) + length(split_part({{ arn }}, ':', 4))
        + length(split_part({{ arn }}, ':', 5)) + 6)
{%- endmacro %}

{#- The resource part is "<type>/<name>" (SageMaker, ECR, ...) or "<type>:<name>" (CloudWatch Logs). -#}
{% macro arn_resource_type(arn) -%}
    case
        when {{ arn }} like 'arn:%' and (strpos({{ _arn_resource(arn) }}, '/') > 0 or strpos({{ _arn_resource(arn) }}, ':') > 0)
            then lower(split_part(split_part({{ _arn_resource(arn) }}, '/', 1), ':', 1))
    end
{%- endmacro %}

{#- Lowercased: SageMaker lowercases names in ARNs and billing, so joins compare lower() on both sides. -#}
{% macro arn_resource_name(arn) -%}
    case
        when {{ arn }} like 'arn:%' and (strpos({{ _arn_resource(arn) }}, '/') > 0 or strpos({{ _arn_resource(arn) }}, ':') > 0)
            then lower(substr(
                {{ _arn_resource(arn) }},
                length(split_part(split_part({{ _arn_resource(arn) }}, '/', 1), ':', 1)) + 2
            ))
    end
{%- endmacro %}
