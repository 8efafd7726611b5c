with

source as (
    select * from {{ source('raw', 'start_zorg') }}
),

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as start_record_id,
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
        -- COD467: 1 eerste aanlevering, 3 verwijderen; a CSV without the column means a first delivery
        coalesce(status_aanlevering, '1') as status_aanlevering,
        status,
        status = 'geaccepteerd' as is_accepted,
        coalesce(finding_codes, cast([] as varchar[])) as finding_codes,

        -- dates
        toewijzing_ingangsdatum as toewijzing_start_date,
        begindatum as begin_date

    from source
)

select * from renamed
