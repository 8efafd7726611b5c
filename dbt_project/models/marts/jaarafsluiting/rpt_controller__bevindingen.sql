-- Findings in euros for the controller and the auditor: one row per finding of class fout or
-- onzekerheid (seed bevindingen), with the pseudonymised detail of its declaration line.
--
-- Line findings: every code of class fout or onzekerheid on a declaration line, accepted or
-- rejected (formal rejections at ingest, class geen, are not findings about the expenditure).
-- bedrag_cents is the line's amount as submitted. Provider findings, about a product rather than a
-- line (declaration_line_id null), are uncertainties over the accepted amount of a verslagjaar x
-- provider x gemeente x domein x productcode of rpt_controller__reconciliatie:
--   OM301  no productieverantwoording covers it (none at all, or the product is missing from it);
--   OM302  the productieverantwoording has no controleverklaring while the provider's turnover is
--          above var('controleverklaring_drempel_cents') (EUR 125,000).
--
-- No double counting. meegeteld_cents is the part of a finding that counts in the totals
-- (rpt_controller__bevindingen_per_aanbieder, rpt_controller__tolerantietoets):
--   - a line counts once per class: its first code of that class carries the amount, further codes
--     of the same class 0; and errors take precedence: a line with an error counts 0 as uncertainty;
--   - in_lasten: only findings on the year's expenditure can be errors or uncertainties in it. A
--     rejected line was not paid, and a debit reversed by an accepted credit (is_superseded) nets to
--     0 with that credit: their findings are listed (in_lasten false) but not tested;
--   - a provider finding counts the accepted amount of its product that no line finding in the
--     lasten already counts (never below 0). OM301 and OM302 exclude each other.
with

lines as (
    select * from {{ ref('fct_declaration_line') }}
    where period_start_date is not null
        and len(finding_codes) > 0
),

codes as (
    select * from {{ ref('bevindingen') }}
    where classificatie in ('fout', 'onzekerheid')
),

reconciliation as (
    select * from {{ ref('rpt_controller__reconciliatie') }}
),

line_codes as (
    select
        declaration_line_id,
        unnest(finding_codes) as bevinding_code,
        generate_subscripts(finding_codes, 1) as code_position
    from lines
),

line_findings as (
    select
        lines.*,
        cast(year(lines.period_start_date) as integer) as verslagjaar,
        line_codes.bevinding_code,
        line_codes.code_position,
        codes.classificatie as klasse,
        codes.message as omschrijving,
        lines.status = 'geaccepteerd' and not lines.is_superseded as in_lasten
    from line_codes
    inner join codes
        on line_codes.bevinding_code = codes.code
    inner join lines
        on line_codes.declaration_line_id = lines.declaration_line_id
),

line_counted as (
    select
        *,
        case
            when row_number() over (partition by declaration_line_id, klasse order by code_position) > 1 then 0
            when klasse = 'onzekerheid' and bool_or(klasse = 'fout') over (partition by declaration_line_id) then 0
            when in_lasten then coalesce(signed_bedrag_cents, 0)
            else coalesce(bedrag_cents, 0)
        end as meegeteld_cents
    from line_findings
),

line_rows as (
    select
        verslagjaar,
        declaration_line_id,
        submission_id,
        aanbieder_agb,
        gemeente_code,
        domein,
        productcode,
        referentienummer,
        client_pseudonym,
        bevinding_code,
        klasse,
        coalesce(bedrag_cents, 0) as bedrag_cents,
        meegeteld_cents,
        in_lasten,
        status as regelstatus,
        debet_credit,
        omschrijving
    from line_counted
),

counted_in_lasten as (
    select
        verslagjaar, aanbieder_agb, gemeente_code, domein, productcode,
        sum(meegeteld_cents) as meegeteld_cents
    from line_rows
    where in_lasten
    group by all
),

provider_rows as (
    select
        reconciliation.verslagjaar,
        cast(null as varchar) as declaration_line_id,
        reconciliation.pv_submission_id as submission_id,
        reconciliation.aanbieder_agb,
        reconciliation.gemeente_code,
        reconciliation.domein,
        reconciliation.productcode,
        cast(null as varchar) as referentienummer,
        cast(null as varchar) as client_pseudonym,
        case when reconciliation.pv_bedrag_cents is null then 'OM301' else 'OM302' end as bevinding_code,
        'onzekerheid' as klasse,
        reconciliation.geaccepteerd_bedrag_cents as bedrag_cents,
        cast(greatest(0, reconciliation.geaccepteerd_bedrag_cents - coalesce(counted_in_lasten.meegeteld_cents, 0))
            as bigint) as meegeteld_cents,
        true as in_lasten,
        cast(null as varchar) as regelstatus,
        cast(null as varchar) as debet_credit,
        case
            when reconciliation.pv_bedrag_cents is null and reconciliation.heeft_productieverantwoording
                then 'Dit product ontbreekt in de productieverantwoording over ' || reconciliation.verslagjaar
                    || ': de geaccepteerde declaraties ervoor zijn niet door de aanbieder verantwoord.'
            when reconciliation.pv_bedrag_cents is null
                then 'Geen productieverantwoording over ' || reconciliation.verslagjaar
                    || ' ontvangen: de geaccepteerde declaraties zijn niet door de aanbieder verantwoord.'
            else 'De productieverantwoording over ' || reconciliation.verslagjaar
                || ' heeft geen controleverklaring, terwijl de omzet van de aanbieder boven de grens van EUR '
                || translate(format('{:,.2f}', {{ var('controleverklaring_drempel_cents') }} / 100), ',.', '.,')
                || ' ligt.'
        end as omschrijving
    from reconciliation
    left join counted_in_lasten
        on reconciliation.verslagjaar = counted_in_lasten.verslagjaar
        and reconciliation.aanbieder_agb is not distinct from counted_in_lasten.aanbieder_agb
        and reconciliation.gemeente_code is not distinct from counted_in_lasten.gemeente_code
        and reconciliation.domein is not distinct from counted_in_lasten.domein
        and reconciliation.productcode is not distinct from counted_in_lasten.productcode
    where reconciliation.geaccepteerd_bedrag_cents > 0
        and (reconciliation.pv_bedrag_cents is null or reconciliation.controleverklaring_ontbreekt)
),

final as (
    select * from line_rows
    union all
    select * from provider_rows
)

select
    verslagjaar,
    declaration_line_id,
    submission_id,
    aanbieder_agb,
    gemeente_code,
    domein,
    productcode,
    referentienummer,
    client_pseudonym,
    bevinding_code,
    klasse,
    cast(bedrag_cents as bigint) as bedrag_cents,
    cast(meegeteld_cents as bigint) as meegeteld_cents,
    in_lasten,
    regelstatus,
    debet_credit,
    omschrijving
from final
