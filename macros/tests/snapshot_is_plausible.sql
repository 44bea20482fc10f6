{#- Staging reads only the newest extraction of a snapshot dataset (macros/latest_snapshot.sql), so a
    bad newest snapshot silently replaces a good one. Flags it: the newest extract_date partition
    holds fewer than `min_kept_share` of the previous one's rows (a run that saw only part of the
    account: a missing region, a denied role), or it is dated after tomorrow (a wrong clock, or a
    folder written by hand), which would shadow every real extraction until that date. -#}
{% test snapshot_is_plausible(model, min_kept_share=0.5) %}
    with

    partitions as (
        select
            cast(extract_date as varchar) as extract_date,
            count(*) as snapshot_rows
        from {{ model }}
        group by 1
    ),

    ranked as (
        select
            extract_date,
            snapshot_rows,
            row_number() over (order by extract_date desc) as recency
        from partitions
    ),

    newest as (
        select * from ranked where recency = 1
    ),

    previous as (
        select * from ranked where recency = 2
    )

    select
        newest.extract_date,
        newest.snapshot_rows,
        previous.extract_date as previous_extract_date,
        previous.snapshot_rows as previous_snapshot_rows,
        case
            when cast(newest.extract_date as date) > current_date + interval '1' day then 'dated in the future'
            else 'dropped most rows of the previous snapshot'
        end as problem
    from newest
    left join previous on 1 = 1
    where cast(newest.extract_date as date) > current_date + interval '1' day
        or newest.snapshot_rows < {{ min_kept_share }} * previous.snapshot_rows
{% endtest %}
