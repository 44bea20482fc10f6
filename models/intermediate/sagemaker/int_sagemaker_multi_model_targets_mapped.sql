{#- Which model each value of a multi-model endpoint's per-model metric names, one row per endpoint
    and value (landed invocations, request logs included, and what ListMetrics found). The first
    step that matches decides (mapping_method):
      1. exact_artifact_key      the value is an artifact key under the endpoint's ModelDataUrl
                                 prefix (what a caller's TargetModel carries): that artifact's model;
      2. stripped_artifact_name  without its path and archive suffix (target_model_name) it names
                                 an artifact under the prefix the same way: `reco-a` for
                                 `v1/reco-a.tar.gz`;
      3. alias_seed              a row of seeds/multi_model_target_aliases.csv: endpoint pattern (SQL
                                 LIKE) and the value, ignoring case; the best row by best_rule_match;
      4. stripped_unlisted       the endpoint's prefix was never listed (a bucket the extractor may
                                 not list): its stripped name, there being nothing to check it against;
      5. unmapped                `unmapped:<value>`, the value as published. Its traffic keeps its
                                 share of the endpoint's cost under that explicit model (the
                                 endpoint's team); a warn test lists the values and their share.
    An artifact's model is its key's file name without archive suffix, lowercased (target_model_name). -#}
with

invocations as (
    select * from {{ ref('stg_sagemaker__endpoint_invocations') }}
    where metric_dimension = 'target_model'
        and target_model is not null
),

discovered as (
    select * from {{ ref('stg_sagemaker__multi_model_targets') }}
),

aliases as (
    select * from {{ ref('multi_model_target_aliases') }}
),

artifact_keys as (
    select distinct
        account_id,
        region,
        endpoint_name_lower,
        target_value as artifact_key,
        {{ target_model_name('target_value') }} as artifact_model
    from discovered
    where source = 's3_listing'
),

listed_endpoints as (
    select distinct
        account_id,
        region,
        endpoint_name_lower
    from artifact_keys
),

-- Every value with landed traffic, and every value the metric has (ListMetrics) without any yet.
metric_values as (
    select
        account_id,
        region,
        endpoint_name_lower,
        target_value,
        sum(invocations) as invocations
    from (
        select
            account_id,
            region,
            lower(endpoint_name) as endpoint_name_lower,
            target_model as target_value,
            coalesce(invocations, 0) as invocations
        from invocations

        union all

        select
            account_id,
            region,
            endpoint_name_lower,
            target_value,
            0 as invocations
        from discovered
        where source = 'list_metrics'
    ) as values_seen
    group by account_id, region, endpoint_name_lower, target_value
),

subjects as (
    select
        {{ hash_key(['account_id', 'region', 'endpoint_name_lower', 'target_value']) }} as multi_model_target_id,
        account_id,
        region,
        endpoint_name_lower,
        target_value,
        {{ target_model_name('target_value') }} as stripped_name,
        invocations
    from metric_values
),

exact_matches as (
    select
        subjects.multi_model_target_id,
        artifact_keys.artifact_key,
        artifact_keys.artifact_model
    from subjects
    inner join artifact_keys
        on subjects.account_id = artifact_keys.account_id
            and subjects.region = artifact_keys.region
            and subjects.endpoint_name_lower = artifact_keys.endpoint_name_lower
            and subjects.target_value = artifact_keys.artifact_key
),

-- Keys stripping to one name name one model; the first key in byte order is the one recorded.
stripped_matches as (
    select
        subjects.multi_model_target_id,
        min(artifact_keys.artifact_key) as artifact_key,
        min(artifact_keys.artifact_model) as artifact_model
    from subjects
    inner join artifact_keys
        on subjects.account_id = artifact_keys.account_id
            and subjects.region = artifact_keys.region
            and subjects.endpoint_name_lower = artifact_keys.endpoint_name_lower
            and subjects.stripped_name = artifact_keys.artifact_model
    group by subjects.multi_model_target_id
),

alias_matches as (
    {{ best_rule_match(
        'subjects', 'multi_model_target_id', 'endpoint_name_lower', 'aliases', 'endpoint_name_pattern',
        ['model'], equal_columns=[['target_value', 'target_value']],
    ) }}
),

mapped as (
    select
        subjects.multi_model_target_id,
        subjects.account_id,
        subjects.region,
        subjects.endpoint_name_lower,
        subjects.target_value,
        case
            when exact_matches.multi_model_target_id is not null then exact_matches.artifact_model
            when stripped_matches.multi_model_target_id is not null then stripped_matches.artifact_model
            when alias_matches.multi_model_target_id is not null then lower(trim(alias_matches.model))
            when listed_endpoints.endpoint_name_lower is null then subjects.stripped_name
            else 'unmapped:' || subjects.target_value
        end as model,
        case
            when exact_matches.multi_model_target_id is not null then 'exact_artifact_key'
            when stripped_matches.multi_model_target_id is not null then 'stripped_artifact_name'
            when alias_matches.multi_model_target_id is not null then 'alias_seed'
            when listed_endpoints.endpoint_name_lower is null then 'stripped_unlisted'
            else 'unmapped'
        end as mapping_method,
        coalesce(exact_matches.artifact_key, stripped_matches.artifact_key) as artifact_key,
        subjects.invocations
    from subjects
    left join exact_matches
        on subjects.multi_model_target_id = exact_matches.multi_model_target_id
    left join stripped_matches
        on subjects.multi_model_target_id = stripped_matches.multi_model_target_id
    left join alias_matches
        on subjects.multi_model_target_id = alias_matches.multi_model_target_id
    left join listed_endpoints
        on subjects.account_id = listed_endpoints.account_id
            and subjects.region = listed_endpoints.region
            and subjects.endpoint_name_lower = listed_endpoints.endpoint_name_lower
),

endpoint_totals as (
    select
        account_id,
        region,
        endpoint_name_lower,
        sum(invocations) as endpoint_invocations
    from mapped
    group by account_id, region, endpoint_name_lower
),

final as (
    select
        mapped.multi_model_target_id,
        mapped.account_id,
        mapped.region,
        mapped.endpoint_name_lower,
        mapped.target_value,
        mapped.model,
        mapped.mapping_method,
        mapped.artifact_key,
        mapped.invocations,
        case
            when endpoint_totals.endpoint_invocations > 0
                then cast(mapped.invocations as double) / endpoint_totals.endpoint_invocations
        end as endpoint_traffic_share,
        mapped.mapping_method = 'unmapped' as is_unmapped
    from mapped
    inner join endpoint_totals
        on mapped.account_id = endpoint_totals.account_id
            and mapped.region = endpoint_totals.region
            and mapped.endpoint_name_lower = endpoint_totals.endpoint_name_lower
)

select * from final
