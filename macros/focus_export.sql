{#- Helpers of the FOCUS 1.3 allocation export (models/marts/focus_export, docs/focus-export.md). -#}

{#- A charge's key (charge_id), over a relation with stg_focus__charges' renamed columns
    (billing_period, billing_account_id, ..., billed_cost): the one definition, used by
    stg_focus__charges and by stg_focus__charge_details, which keys the FOCUS columns staging does not
    carry by it (tests/data/assert_focus_charge_details_key_the_staged_charges.sql proves both key the
    same charges). The row number tells apart charges equal in every keyed column. The service is a
    keyed column and its window is per service, so a model that keys one service's rows alone
    (stg_focus__charge_details keys SageMaker's) numbers them exactly as staging numbers the whole
    export (tests/python/hostile_inputs/test_export_files.py plants the case). -#}
{% macro focus_charge_key() -%}
    {{ hash_key([
        'billing_period', 'billing_account_id', 'sub_account_id', 'service_code', 'resource_id', 'usage_type', 'aws_operation',
        'charge_period_start_at', 'charge_category', 'charge_class', 'pricing_category',
        'commitment_discount_status', 'charge_description', 'row_number() over (
            partition by billing_period, service_code, sub_account_id, resource_id, usage_type, charge_period_start_at,
            charge_category, charge_class, pricing_category, commitment_discount_status
            order by billed_cost, effective_cost, list_cost, charge_description
        )'
    ]) }}
{%- endmacro %}

{#- A FOCUS column the export has from version `since` on: the column, or a typed NULL when the
    configured export (var focus_version) predates it — the 1.0 export has no InvoiceId, SkuMeter, ... -#}
{% macro focus_column_since(column, data_type, since) -%}
    {%- if var('focus_version') | string == '1.0' and since | string != '1.0' -%}
        cast(null as {{ data_type }})
    {%- else -%}
        cast({{ column }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{#- A key/value column as JSON object text, NULL for NULL: FOCUS 1.3 types Tags, SkuPriceDetails and
    the Allocated* columns as JSON objects serialised as strings. Athena: json_format(cast(m as json))
    of a map (the Glue type AWS gives Tags and SkuPriceDetails); DuckDB casts a map or JSON text alike. -#}
{% macro json_object_text(column) %}{{ return(adapter.dispatch('json_object_text', 'smcost')(column)) }}{% endmacro %}

{% macro default__json_object_text(column) %}json_format(cast({{ column }} as json)){% endmacro %}

{% macro duckdb__json_object_text(column) %}cast(cast({{ column }} as json) as varchar){% endmacro %}

{#- A text value as a JSON string literal (quotes included), NULL for NULL: backslash and double quote
    escaped (AWS tag values and SageMaker names admit no control characters). Portable SQL; chr(92) is
    the backslash, which a literal would spell differently per engine and lexer. -#}
{% macro json_string(value) -%}
    '"' || replace(replace({{ value }}, chr(92), chr(92) || chr(92)), '"', chr(92) || '"') || '"'
{%- endmacro %}
