-- The tolerance test per verslagjaar: errors and uncertainties in the year's expenditure against
-- the limits of the seed tolerantiegrenzen (the latest row whose verslagjaar_vanaf <= verslagjaar).
--
-- lasten_cents, the year's expenditure: the net accepted amount of the declaration lines whose
-- product period lies in the year (debits minus accepted credits), i.e. the sum of
-- geaccepteerd_bedrag_cents of rpt_controller__reconciliatie.
-- fouten_cents / onzekerheden_cents: meegeteld_cents of rpt_controller__bevindingen in the lasten
-- (each line once per class, errors first; see there).
-- Limits in cents are rounded down, so "within" is exactly fouten_cents <= lasten x pct / 100.
-- toetswijze apart: errors <= fout limit and uncertainties <= onzekerheid limit; samen: errors <=
-- fout limit and errors + uncertainties <= onzekerheid limit. oordeel is 'binnen de tolerantie'
-- when both verdicts hold. With zero expenditure the percentages are null and only a year without
-- findings is within. boven_verantwoordingsgrens: errors + uncertainties above the council's
-- verantwoordingsgrens (fixed cents, else a percentage of the lasten).
-- status: voorlopig until the declaration term of the year (var declaratietermijn_maanden after
-- its end) has passed at the peildatum.
with

reconciliation as (
    select * from {{ ref('rpt_controller__reconciliatie') }}
),

findings as (
    select * from {{ ref('rpt_controller__bevindingen') }}
),

limits as (
    select * from {{ ref('tolerantiegrenzen') }}
),

expenditure as (
    select
        verslagjaar,
        cast(sum(geaccepteerd_bedrag_cents) as bigint) as lasten_cents
    from reconciliation
    group by verslagjaar
),

finding_totals as (
    select
        verslagjaar,
        cast(coalesce(sum(meegeteld_cents) filter (where in_lasten and klasse = 'fout'), 0) as bigint)
            as fouten_cents,
        cast(coalesce(sum(meegeteld_cents) filter (where in_lasten and klasse = 'onzekerheid'), 0) as bigint)
            as onzekerheden_cents,
        cast(coalesce(sum(meegeteld_cents) filter (where regelstatus = 'afgewezen' and klasse = 'fout'), 0)
            as bigint) as afgewezen_fouten_cents
    from findings
    group by verslagjaar
),

years as (
    select
        expenditure.verslagjaar,
        expenditure.lasten_cents,
        coalesce(finding_totals.fouten_cents, 0) as fouten_cents,
        coalesce(finding_totals.onzekerheden_cents, 0) as onzekerheden_cents,
        coalesce(finding_totals.afgewezen_fouten_cents, 0) as afgewezen_fouten_cents
    from expenditure
    left join finding_totals
        on expenditure.verslagjaar = finding_totals.verslagjaar
),

configured as (
    select
        years.*,
        limits.verslagjaar_vanaf as tolerantie_vanaf,
        limits.fout_pct as grens_fout_pct,
        limits.onzekerheid_pct as grens_onzekerheid_pct,
        limits.toetswijze,
        limits.verantwoordingsgrens_pct,
        limits.bron,
        cast(floor(years.lasten_cents * limits.fout_pct / 100) as bigint) as grens_fout_cents,
        cast(floor(years.lasten_cents * limits.onzekerheid_pct / 100) as bigint) as grens_onzekerheid_cents,
        coalesce(
            limits.verantwoordingsgrens_cents,
            cast(floor(years.lasten_cents * limits.verantwoordingsgrens_pct / 100) as bigint)
        ) as verantwoordingsgrens_cents
    from years
    asof left join limits
        on years.verslagjaar >= limits.verslagjaar_vanaf
),

verdicts as (
    select
        *,
        fouten_cents <= grens_fout_cents as fouten_binnen_tolerantie,
        case toetswijze
            when 'apart' then onzekerheden_cents <= grens_onzekerheid_cents
            when 'samen' then fouten_cents + onzekerheden_cents <= grens_onzekerheid_cents
        end as onzekerheden_binnen_tolerantie
    from configured
),

final as (
    select
        verslagjaar,
        lasten_cents,
        fouten_cents,
        onzekerheden_cents,
        case when lasten_cents > 0 then round(100.0 * fouten_cents / lasten_cents, 4) end as fout_pct,
        case when lasten_cents > 0 then round(100.0 * onzekerheden_cents / lasten_cents, 4) end as onzekerheid_pct,
        cast(grens_fout_pct as double) as grens_fout_pct,
        cast(grens_onzekerheid_pct as double) as grens_onzekerheid_pct,
        grens_fout_cents,
        grens_onzekerheid_cents,
        toetswijze,
        fouten_binnen_tolerantie,
        onzekerheden_binnen_tolerantie,
        case
            when fouten_binnen_tolerantie and onzekerheden_binnen_tolerantie then 'binnen de tolerantie'
            when not fouten_binnen_tolerantie or not onzekerheden_binnen_tolerantie then 'buiten de tolerantie'
        end as oordeel,
        cast(verantwoordingsgrens_pct as double) as verantwoordingsgrens_pct,
        verantwoordingsgrens_cents,
        fouten_cents + onzekerheden_cents > verantwoordingsgrens_cents as boven_verantwoordingsgrens,
        afgewezen_fouten_cents,
        tolerantie_vanaf,
        bron,
        {{ as_of_date() }} as peildatum,
        last_day(make_date(verslagjaar, 12, 1) + to_months({{ var('declaratietermijn_maanden') }}))
            as declaratietermijn_tot,
        case
            when {{ as_of_date() }}
                > last_day(make_date(verslagjaar, 12, 1) + to_months({{ var('declaratietermijn_maanden') }}))
                then 'definitief'
            else 'voorlopig'
        end as status
    from verdicts
)

select * from final
