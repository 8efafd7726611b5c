with

source as (
    select * from {{ source('raw', 'toewijzing') }}
),

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as toewijzing_record_id,
        submission_id,
        member_name,
        message_id,
        line_number,
        toewijzingnummer,
        client_pseudonym,

        -- dimensions
        domein,
        berichtcode,
        gemeente_code,
        aanbieder_agb,
        productcategorie,
        productcode,
        eenheid,
        frequentie,
        reden_wijziging,
        status,
        status = 'geaccepteerd' as is_accepted,
        coalesce(finding_codes, cast([] as varchar[])) as finding_codes,

        -- measures
        volume,
        budget_cents,

        -- dates
        toewijzingsdatum as toewijzing_date,
        ingangsdatum as start_date,
        einddatum as end_date

    from source
)

select * from renamed
