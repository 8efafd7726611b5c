-- ZRM measurements: one row per client, date, moment and ZRM domain, accepted or rejected.
with

source as (
    select * from {{ source('raw', 'zrm_meting') }}
),

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as zrm_record_id,
        submission_id,
        member_name,
        line_number,
        client_pseudonym,

        -- dimensions
        domein,
        gemeente_code,
        aanbieder_agb,
        meetmoment,
        cast(zrm_domein as integer) as zrm_domein,
        status,
        status = 'geaccepteerd' as is_accepted,

        -- measures
        cast(score as integer) as score,

        -- dates
        cast(meetdatum as date) as measured_date

    from source
)

select * from renamed
