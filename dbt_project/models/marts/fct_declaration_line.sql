-- One row per declaration line received (prestatie), accepted or rejected: the published
-- interface of DOMAIN.md plus provenance and correction columns. The final status combines what
-- ingest decided with the relational checks of this build (int_declaration_lines__evaluated).
with

declaration_lines as (
    select * from {{ ref('stg_raw__declaratie_regels') }}
),

evaluated as (
    select * from {{ ref('int_declaration_lines__evaluated') }}
),

combined as (
    select
        declaration_lines.*,
        case
            when not declaration_lines.is_accepted then 'afgewezen'
            when evaluated.is_rejected then 'afgewezen'
            else 'geaccepteerd'
        end as final_status,
        coalesce(evaluated.relational_finding_codes, cast([] as varchar[])) as relational_finding_codes,
        coalesce(evaluated.is_superseded, false) as is_superseded,
        evaluated.credited_by_referentienummer,
        evaluated.superseded_by_referentienummer,
        evaluated.contract_tarief_cents
    from declaration_lines
    left join evaluated
        on declaration_lines.declaration_line_id = evaluated.declaration_line_id
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
        credited_by_referentienummer,
        superseded_by_referentienummer,

        -- dimensions
        aanbieder_agb,
        gemeente_code,
        domein,
        berichtcode,
        productcategorie,
        productcode,
        eenheid,
        debet_credit,
        final_status as status,
        -- ingest's codes first, then the relational ones it does not already carry
        list_concat(
            finding_codes,
            list_filter(relational_finding_codes, lambda code: not list_contains(finding_codes, code))
        ) as finding_codes,
        status as ingest_status,
        finding_codes as ingest_finding_codes,
        relational_finding_codes,
        is_superseded,

        -- measures
        volume,
        tarief_cents,
        bedrag_cents,
        signed_bedrag_cents,
        contract_tarief_cents,

        -- dates
        period_start_date,
        period_end_date,
        month_start_date,
        declaratie_start_date,
        declaratie_end_date,
        declaratie_dagtekening_date

    from combined
)

select * from final
