-- Jointly agreed results (afspraken) as the municipality delivered them.
with

source as (
    select * from {{ source('raw', 'afspraak') }}
),

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as afspraak_record_id,
        submission_id,
        member_name,
        line_number,

        -- dimensions
        indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        periode,
        richting,
        status,
        status = 'geaccepteerd' as is_accepted,

        -- measures
        baseline,
        streefwaarde,

        -- dates
        cast(afgesproken_op as date) as agreed_date

    from source
)

select * from renamed
