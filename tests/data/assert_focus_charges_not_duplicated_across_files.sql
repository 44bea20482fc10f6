{#- The same charge row in two data files is a copy (a re-delivery next to the old one, a file
    copied by hand under another name): read twice, it would double that charge. Within one file,
    identical rows are the export's own business; across files they fail the build. Where AWS's
    manifests exist only the files they list are read, so this guards periods without one and the
    Athena target (which relies on the export overwriting each delivery, docs/export.md). -#}
select
    billing_period,
    sub_account_id,
    resource_id,
    usage_type,
    charge_period_start_at,
    charge_category,
    count(*) as copies,
    count(distinct export_file) as files,
    min(export_file) as first_file,
    max(export_file) as last_file
from {{ ref('stg_focus__charges') }}
group by
    billing_period, sub_account_id, resource_id, usage_type, aws_operation, charge_period_start_at,
    charge_period_end_at, charge_category, charge_class, charge_description, pricing_category,
    commitment_discount_status, billed_cost, effective_cost, list_cost, consumed_quantity
having count(distinct export_file) > 1
