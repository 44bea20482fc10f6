{#- stg_focus__charge_details keys the export's SageMaker rows as stg_focus__charges does (the same
    key macro's inputs, the same window): every staged SageMaker charge has its details and no detail
    row is a charge staging does not hold. A failure means the two keys drifted (macros/focus_export.sql). -#}
select
    coalesce(charges.charge_id, details.charge_id) as charge_id,
    charges.charge_id is null as is_missing_from_charges,
    details.charge_id is null as is_missing_from_details
from (
    select charge_id from {{ ref('stg_focus__charges') }}
    where is_sagemaker
) as charges
full outer join {{ ref('stg_focus__charge_details') }} as details
    on charges.charge_id = details.charge_id
where charges.charge_id is null or details.charge_id is null
