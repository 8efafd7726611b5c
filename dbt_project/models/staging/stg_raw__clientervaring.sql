-- Client experience survey answers (CEO). The domain follows from the law the survey is about.
with

source as (
    select * from {{ source('raw', 'clientervaring') }}
),

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as clientervaring_record_id,
        submission_id,
        member_name,
        line_number,
        respondent_id,

        -- dimensions
        coalesce(domein, case wet when 'jeugdwet' then 'jeugd' when 'wmo' then 'wmo' end) as domein,
        wet,
        gemeente_code,
        aanbieder_agb,
        vraag_code,
        cast(jaar as integer) as jaar,
        status,
        status = 'geaccepteerd' as is_accepted,

        -- measures
        cast(antwoord as integer) as antwoord

    from source
)

select * from renamed
