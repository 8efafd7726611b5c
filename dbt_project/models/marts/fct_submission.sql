-- One row per submission and record type in the raw zone, with its row counts and when the
-- submission was received: what a build included (publish writes the submission ids into
-- published/build.json) and what completeness (fct_completeness) measures timeliness with.
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

contract_tariffs as (
    select * from {{ ref('stg_raw__contracttarieven') }}
),

outcomes as (
    select * from {{ ref('stg_raw__uitkomsten') }}
),

production_statements as (
    select * from {{ ref('stg_raw__productieverantwoordingen') }}
),

manifests as (
    select * from {{ ref('stg_raw__submissions') }}
),

records as (
    select submission_id, 'declaratie_regel' as record_type, is_accepted from declaration_lines
    union all
    select submission_id, 'toewijzing' as record_type, is_accepted from toewijzingen
    union all
    select submission_id, 'start_zorg' as record_type, is_accepted from starts
    union all
    select submission_id, 'stop_zorg' as record_type, is_accepted from stops
    union all
    select submission_id, 'contracttarief' as record_type, is_accepted from contract_tariffs
    union all
    select submission_id, 'uitkomst' as record_type, is_accepted from outcomes
    union all
    select submission_id, 'productieverantwoording' as record_type, is_accepted from production_statements
),

counted as (
    select
        submission_id,
        record_type,
        cast(count(*) as bigint) as received_count,
        cast(count(*) filter (where is_accepted) as bigint) as accepted_count,
        cast(count(*) filter (where not is_accepted) as bigint) as rejected_count
    from records
    group by all
),

final as (
    select
        counted.submission_id,
        counted.record_type,
        counted.received_count,
        counted.accepted_count,
        counted.rejected_count,
        manifests.file_name,
        manifests.received_at,
        manifests.received_date
    from counted
    left join manifests
        on counted.submission_id = manifests.submission_id
)

select * from final
