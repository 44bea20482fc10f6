{#- The one precedence every attribution dimension is resolved in, from the most to the least direct
    evidence: the charge's bill tag -> the resource's API tag -> a metadata link -> an experiment
    tracker's run (MLflow, then W&B) -> a seed rule. The trackers sit below SageMaker's own metadata
    (tags the platform's tag policy governs, joined by ARN) because a run's tags are free text a
    training script writes and one link kind is a time-window guess; above the rules, because a run
    that names the job is direct evidence where a rule is a name-pattern guess (docs/lineage.md).
    Evidence columns are named <level>_<dimension> (tag_team, api_team, link_team, rule_team); a
    caller passes the levels it has (experiments have no rule; a usage-split target has no bill tag
    of its own) and they keep this order whatever order they are passed in. -#}
{% macro attribution_evidence_levels() %}
    {{ return([
        ('tag', 'bill_tag'), ('api', 'api_tag'), ('link', 'metadata'), ('mlflow', 'mlflow'), ('wandb', 'wandb'),
        ('rule', 'rule')
    ]) }}
{% endmacro %}

{#- The first non-null evidence for `dimension` among `levels`, as an expression. -#}
{% macro resolved_by_precedence(dimension, levels=['tag', 'api', 'link', 'mlflow', 'wandb', 'rule'], qualifier='') %}
    {%- set columns = [] -%}
    {%- for level, source in attribution_evidence_levels() if level in levels -%}
        {%- do columns.append(qualifier ~ level ~ '_' ~ dimension) -%}
    {%- endfor -%}
    coalesce({{ columns | join(', ') }})
{%- endmacro %}

{#- Which evidence decided `dimension` ('bill_tag', 'api_tag', 'metadata', 'mlflow', 'wandb', 'rule' or
    'unattributed'). -#}
{% macro resolved_source(dimension, levels=['tag', 'api', 'link', 'mlflow', 'wandb', 'rule'], qualifier='') %}
    case
        {%- for level, source in attribution_evidence_levels() if level in levels %}
        when {{ qualifier ~ level ~ '_' ~ dimension }} is not null then '{{ source }}'
        {%- endfor %}
        else 'unattributed'
    end
{%- endmacro %}
