-- One row per declaration line received (prestatie), accepted or rejected: the published
-- interface of DOMAIN.md plus provenance columns.
with

declaration_lines as (
    select * from {{ ref('stg_raw__declaratie_regels') }}
),

final as (
    select
        -- ids
        declaration_line_id,
        submission_id,
        member_name,
        line_number,
        declaratienummer,
        referentienummer,
        vorig_referentienummer,
        toewijzingnummer,
        client_pseudonym,

        -- dimensions
        aanbieder_agb,
        gemeente_code,
        domein,
        berichtcode,
        productcategorie,
        productcode,
        eenheid,
        debet_credit,
        status,
        finding_codes,

        -- measures
        volume,
        tarief_cents,
        bedrag_cents,
        signed_bedrag_cents,

        -- dates
        period_start_date,
        period_end_date,
        month_start_date,
        declaratie_start_date,
        declaratie_end_date,
        declaratie_dagtekening_date

    from declaration_lines
)

select * from final
