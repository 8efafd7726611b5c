-- Findings per verslagjaar x provider x class (fout, onzekerheid), in euros without double
-- counting (the meegeteld_cents of rpt_controller__bevindingen): bedrag_cents over every finding,
-- split into bedrag_in_lasten_cents (on the year's expenditure; summed over providers this is the
-- tolerance test's fouten_cents / onzekerheden_cents) and bedrag_afgewezen_cents (on rejected
-- lines: caught before payment, not tested).
with

findings as (
    select * from {{ ref('rpt_controller__bevindingen') }}
),

final as (
    select
        verslagjaar,
        aanbieder_agb,
        klasse,
        cast(count(*) as bigint) as aantal,
        cast(count(distinct declaration_line_id) as bigint) as aantal_regels,
        cast(sum(meegeteld_cents) as bigint) as bedrag_cents,
        cast(coalesce(sum(meegeteld_cents) filter (where in_lasten), 0) as bigint) as bedrag_in_lasten_cents,
        cast(coalesce(sum(meegeteld_cents) filter (where regelstatus = 'afgewezen'), 0) as bigint)
            as bedrag_afgewezen_cents
    from findings
    group by verslagjaar, aanbieder_agb, klasse
)

select * from final
