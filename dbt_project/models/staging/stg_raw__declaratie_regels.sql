with

source as (
    select * from {{ source('raw', 'declaratie_regel') }}
),

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as declaration_line_id,
        submission_id,
        member_name,
        message_id,
        line_number,
        declaratienummer,
        referentienummer,
        vorig_referentienummer,
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
        debet_credit,
        status,
        status = 'geaccepteerd' as is_accepted,
        coalesce(finding_codes, cast([] as varchar[])) as finding_codes,

        -- measures
        volume,
        tarief_cents,
        bedrag_cents,
        case debet_credit when 'C' then -bedrag_cents else bedrag_cents end as signed_bedrag_cents,

        -- dates
        declaratie_begindatum as declaratie_start_date,
        declaratie_einddatum as declaratie_end_date,
        declaratie_dagtekening as declaratie_dagtekening_date,
        period_start_date,
        period_end_date,
        cast(date_trunc('month', period_start_date) as date) as month_start_date

    from source
)

select * from renamed
