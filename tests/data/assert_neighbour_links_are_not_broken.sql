{#- Warns (does not fail: the dollars are kept, unattributed with the reason) about neighbour
    charges whose link is broken rather than absent — a bucket SageMaker names that the extractor
    could not list (access denied, or another account's), a repository it could not read, a prefix
    that resources of two models each write to — one row per reason and period, with the dollars.
    Fix the paths or the extractor's access and the cost finds its model. -#}
{{ config(severity='warn') }}
select
    billing_period,
    unattributed_reason,
    count(distinct charge_id) as charges,
    sum(effective_cost) as effective_cost
from {{ ref('fct_sagemaker_fully_loaded_cost') }}
where unattributed_reason in ('bucket_not_in_listing', 'repository_not_in_listing', 'prefix_claimed_by_several_models')
    and {{ in_billing_period_window('billing_period') }}
group by billing_period, unattributed_reason
