{#- Every SageMaker-scope charge (var sagemaker_service_codes), classified by the first matching
    row of seeds/usage_type_taxonomy.csv (lowest priority wins). A charge that no row matches is kept
    with category `other` (a warn test lists them) — never dropped. Its tags join it later, beside its
    resource (int_sagemaker_charges_joined_to_resources).
    Usage types match their patterns ignoring case, here and nowhere else: AWS's spelling varies
    (`Cluster:` / `cluster:`, `ml.geospatial…` inside a Studio usage type), and a seed row should not
    have to list every casing. -#}
with

charges as (
    select * from {{ ref('stg_focus__charges') }}
    where is_sagemaker
),

taxonomy as (
    select * from {{ ref('usage_type_taxonomy') }}
),

-- Patterns are matched once per distinct (service, charge category, usage type), not per row:
-- a bill has millions of rows but a few hundred usage types. Read from the table, not `charges`:
-- DuckDB materialises a CTE two parts of a query read, here every SageMaker charge, 57 columns wide.
usage_types as (
    select distinct
        service_code,
        charge_category,
        usage_type
    from {{ ref('stg_focus__charges') }}
    where is_sagemaker
),

matches as (
    select
        usage_types.service_code,
        usage_types.charge_category,
        usage_types.usage_type,
        taxonomy.sagemaker_category,
        row_number() over (
            partition by usage_types.service_code, usage_types.charge_category, usage_types.usage_type
            order by taxonomy.priority
        ) as match_rank
    from usage_types
    inner join taxonomy
        on (taxonomy.service_code = '*' or usage_types.service_code = taxonomy.service_code)
            and (taxonomy.charge_category = '*' or usage_types.charge_category = taxonomy.charge_category)
            and lower(coalesce(usage_types.usage_type, '')) like lower(taxonomy.usage_type_pattern)
),

final as (
    select
        charges.*,
        coalesce(matches.sagemaker_category, 'other') as sagemaker_category
    from charges
    left join matches
        on charges.service_code is not distinct from matches.service_code
            and charges.charge_category is not distinct from matches.charge_category
            and charges.usage_type is not distinct from matches.usage_type
            and matches.match_rank = 1
)

select * from final
