{#- A UTC timestamp as wall-clock time in an IANA time zone (var working_hours.time_zone), and the
    ISO weekday (1 = Monday) and hour of such a local time. The zone name becomes SQL, so it is held
    to the characters IANA names use; anything else is a compile error. -#}
{% macro local_time(ts, time_zone) %}
    {%- set allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/' -%}
    {%- set bad = [] -%}
    {%- for ch in (time_zone | string) -%}{%- if ch not in allowed -%}{%- do bad.append(ch) -%}{%- endif -%}{%- endfor -%}
    {%- if bad or not (time_zone | string) -%}
        {{ exceptions.raise_compiler_error("time zone '" ~ time_zone ~ "' is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)") }}
    {%- endif -%}
    {{- return(adapter.dispatch('local_time', 'smcost')(ts, time_zone)) -}}
{% endmacro %}

{% macro default__local_time(ts, time_zone) -%}
    at_timezone(with_timezone({{ ts }}, 'UTC'), '{{ time_zone }}')
{%- endmacro %}

{% macro duckdb__local_time(ts, time_zone) -%}
    timezone('{{ time_zone }}', timezone('UTC', {{ ts }}))
{%- endmacro %}

{% macro iso_weekday(ts) %}{{ return(adapter.dispatch('iso_weekday', 'smcost')(ts)) }}{% endmacro %}

{% macro default__iso_weekday(ts) %}day_of_week({{ ts }}){% endmacro %}

{% macro duckdb__iso_weekday(ts) %}isodow({{ ts }}){% endmacro %}
