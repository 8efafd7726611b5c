-- One row per submission and record type in the raw zone, with its row counts: what a build
-- included (publish writes the submission ids into published/build.json).
with

declaration_lines as (
    select * from {{ ref('stg_raw__declaratie_regels') }}
),

toewijzingen as (
    select * from {{ ref('stg_raw__toewijzingen') }}
),

starts as (
    select * from {{ ref('stg_raw__start_zorg') }}
),

stops as (
    select * from {{ ref('stg_raw__stop_zorg') }}
),

records as (
    select submission_id, 'declaratie_regel' as record_type, is_accepted from declaration_lines
    union all
    select submission_id, 'toewijzing' as record_type, is_accepted from toewijzingen
    union all
    select submission_id, 'start_zorg' as record_type, is_accepted from starts
    union all
    select submission_id, 'stop_zorg' as record_type, is_accepted from stops
),

final as (
    select
        submission_id,
        record_type,
        cast(count(*) as bigint) as received_count,
        cast(count(*) filter (where is_accepted) as bigint) as accepted_count,
        cast(count(*) filter (where not is_accepted) as bigint) as rejected_count
    from records
    group by all
)

select * from final
