-- Reconciliation per verslagjaar x provider x gemeente x domein x productcode: what was assigned
-- (toewijzingen), declared, accepted and rejected, against the provider's productieverantwoording.
--
-- Declaration lines belong to the year of their product period (lines without one cannot be placed
-- and are always rejected at ingest). Amounts are net: credits count negative, so a corrected line
-- (debit, its credit, the new debit) counts once. gedeclareerd is summed over all lines on its own
-- and must equal geaccepteerd + afgewezen to the cent (tested). geaccepteerd is the year's
-- expenditure (lasten) for this product, as in the tolerance test.
-- verschil_pv_cents = pv - geaccepteerd (null without pv); verschil_toewijzing_cents = toegewezen -
-- geaccepteerd (null without a known tariff). A difference is listed (boven_drempel) when |pv -
-- geaccepteerd| (pv counted as 0 when missing) exceeds var('reconciliatie_drempel_cents') AND
-- var('reconciliatie_drempel_pct') percent of the larger of the two. oorzaak names the most likely
-- cause where the columns show it, else null. In order: no productieverantwoording at all, or
-- none for this product; pv higher: 'nog niet gedeclareerd' when the pv's volume beyond all
-- declared volume (accepted or rejected), valued at the pv's average tariff, exceeds the same
-- threshold; else rejected lines (mostly 9321/9322: 'gedeclareerd boven toegewezen volume');
-- else a tariff difference; pv lower: less volume accounted for than accepted, or a lower amount
-- for the same volume (a credit or tariff difference not declared).
with

lines as (
    select * from {{ ref('fct_declaration_line') }}
    where period_start_date is not null
),

assigned_months as (
    select * from {{ ref('int_jaarafsluiting__toewijzing_maanden') }}
    where verslagjaar <= year({{ as_of_date() }})
),

production as (
    select * from {{ ref('int_jaarafsluiting__productieverantwoording') }}
),

declared as (
    select
        cast(year(period_start_date) as integer) as verslagjaar,
        aanbieder_agb,
        gemeente_code,
        domein,
        productcode,
        max(productcategorie) as productcategorie,
        cast(count(*) as bigint) as aantal_regels,
        cast(coalesce(sum(signed_bedrag_cents), 0) as bigint) as gedeclareerd_bedrag_cents,
        cast(coalesce(sum(signed_bedrag_cents) filter (where status = 'geaccepteerd'), 0) as bigint)
            as geaccepteerd_bedrag_cents,
        cast(coalesce(sum(signed_bedrag_cents) filter (where status = 'afgewezen'), 0) as bigint)
            as afgewezen_bedrag_cents,
        cast(coalesce(sum(signed_bedrag_cents) filter (
            where status = 'afgewezen' and list_has_any(finding_codes, ['9321', '9322'])
        ), 0) as bigint) as afgewezen_boven_volume_cents,
        cast(coalesce(sum(case when debet_credit = 'C' then -volume else volume end), 0) as bigint)
            as gedeclareerd_volume,
        cast(coalesce(sum(case when debet_credit = 'C' then -volume else volume end)
            filter (where status = 'geaccepteerd'), 0) as bigint) as geaccepteerd_volume,
        cast(coalesce(sum(case when debet_credit = 'C' then -volume else volume end)
            filter (where status = 'afgewezen'), 0) as bigint) as afgewezen_volume
    from lines
    group by all
),

assigned as (
    select
        verslagjaar,
        aanbieder_agb,
        gemeente_code,
        domein,
        productcode,
        max(productcategorie) as productcategorie,
        cast(count(*) filter (where is_first_month_of_year) as bigint) as aantal_toewijzingen,
        cast(sum(toegewezen_volume) as bigint) as toegewezen_volume,
        case when bool_and(contract_tarief_cents is not null)
            then cast(sum(toegewezen_volume * contract_tarief_cents) as bigint)
        end as toegewezen_bedrag_cents
    from assigned_months
    group by all
),

statements as (
    -- provider-years with a productieverantwoording at all
    select distinct verslagjaar, aanbieder_agb
    from production
),

reported_years as (
    -- years with declarations or a productieverantwoording; toewijzingen alone do not make a year
    select verslagjaar from declared
    union
    select verslagjaar from production
),

keys as (
    select verslagjaar, aanbieder_agb, gemeente_code, domein, productcode from declared
    union
    select verslagjaar, aanbieder_agb, gemeente_code, domein, productcode from assigned
    where verslagjaar in (select verslagjaar from reported_years)
    union
    select verslagjaar, aanbieder_agb, gemeente_code, domein, productcode from production
),

joined as (
    select
        keys.*,
        coalesce(declared.productcategorie, assigned.productcategorie) as productcategorie,
        coalesce(assigned.aantal_toewijzingen, 0) as aantal_toewijzingen,
        coalesce(assigned.toegewezen_volume, 0) as toegewezen_volume,
        case when assigned.verslagjaar is null then 0 else assigned.toegewezen_bedrag_cents end
            as toegewezen_bedrag_cents,
        coalesce(declared.aantal_regels, 0) as aantal_regels,
        coalesce(declared.gedeclareerd_volume, 0) as gedeclareerd_volume,
        coalesce(declared.geaccepteerd_volume, 0) as geaccepteerd_volume,
        coalesce(declared.afgewezen_volume, 0) as afgewezen_volume,
        coalesce(declared.gedeclareerd_bedrag_cents, 0) as gedeclareerd_bedrag_cents,
        coalesce(declared.geaccepteerd_bedrag_cents, 0) as geaccepteerd_bedrag_cents,
        coalesce(declared.afgewezen_bedrag_cents, 0) as afgewezen_bedrag_cents,
        coalesce(declared.afgewezen_boven_volume_cents, 0) as afgewezen_boven_volume_cents,
        production.pv_volume,
        production.pv_bedrag_cents,
        production.controleverklaring as pv_controleverklaring,
        production.versie as pv_versie,
        production.submission_id as pv_submission_id,
        statements.aanbieder_agb is not null as heeft_productieverantwoording,
        coalesce(production.is_controleverklaring_ontbreekt, false) as controleverklaring_ontbreekt
    from keys
    left join declared
        on keys.verslagjaar = declared.verslagjaar
        and keys.aanbieder_agb is not distinct from declared.aanbieder_agb
        and keys.gemeente_code is not distinct from declared.gemeente_code
        and keys.domein is not distinct from declared.domein
        and keys.productcode is not distinct from declared.productcode
    left join assigned
        on keys.verslagjaar = assigned.verslagjaar
        and keys.aanbieder_agb is not distinct from assigned.aanbieder_agb
        and keys.gemeente_code is not distinct from assigned.gemeente_code
        and keys.domein is not distinct from assigned.domein
        and keys.productcode is not distinct from assigned.productcode
    left join production
        on keys.verslagjaar = production.verslagjaar
        and keys.aanbieder_agb is not distinct from production.aanbieder_agb
        and keys.gemeente_code is not distinct from production.gemeente_code
        and keys.domein is not distinct from production.domein
        and keys.productcode is not distinct from production.productcode
    left join statements
        on keys.verslagjaar = statements.verslagjaar
        and keys.aanbieder_agb is not distinct from statements.aanbieder_agb
),

differences as (
    select
        *,
        pv_bedrag_cents - geaccepteerd_bedrag_cents as verschil_pv_cents,
        toegewezen_bedrag_cents - geaccepteerd_bedrag_cents as verschil_toewijzing_cents,
        coalesce(pv_bedrag_cents, 0) - geaccepteerd_bedrag_cents as tested_difference_cents,
        greatest(abs(coalesce(pv_bedrag_cents, 0)), abs(geaccepteerd_bedrag_cents)) as tested_base_cents,
        -- volume the provider accounts for beyond everything it declared (accepted or rejected),
        -- valued at the statement's average tariff
        case when pv_volume > gedeclareerd_volume
            then (pv_volume - gedeclareerd_volume) * pv_bedrag_cents / pv_volume else 0
        end as undeclared_volume_cents
    from joined
),

final as (
    select
        -- ids
        verslagjaar,
        aanbieder_agb,
        gemeente_code,
        domein,
        productcategorie,
        productcode,

        -- assigned, declared, accepted, rejected
        aantal_toewijzingen,
        toegewezen_volume,
        toegewezen_bedrag_cents,
        aantal_regels,
        gedeclareerd_volume,
        geaccepteerd_volume,
        gedeclareerd_bedrag_cents,
        geaccepteerd_bedrag_cents,
        afgewezen_bedrag_cents,
        afgewezen_boven_volume_cents,
        afgewezen_volume,

        -- the provider's productieverantwoording
        pv_volume,
        pv_bedrag_cents,
        pv_controleverklaring,
        pv_versie,
        pv_submission_id,
        heeft_productieverantwoording,
        controleverklaring_ontbreekt,

        -- differences
        verschil_pv_cents,
        verschil_toewijzing_cents,
        abs(tested_difference_cents) > {{ var('reconciliatie_drempel_cents') }}
            and abs(tested_difference_cents) * 100 > {{ var('reconciliatie_drempel_pct') }} * tested_base_cents
            as boven_drempel,
        case
            when pv_bedrag_cents is null and geaccepteerd_bedrag_cents = 0 then null
            when pv_bedrag_cents is null and heeft_productieverantwoording
                then 'product ontbreekt in de productieverantwoording'
            when pv_bedrag_cents is null then 'geen productieverantwoording'
            when tested_difference_cents > 0 and undeclared_volume_cents > {{ var('reconciliatie_drempel_cents') }}
                and undeclared_volume_cents * 100 > {{ var('reconciliatie_drempel_pct') }} * pv_bedrag_cents
                then 'nog niet gedeclareerd'
            when tested_difference_cents > 0 and afgewezen_boven_volume_cents * 2 >= afgewezen_bedrag_cents
                and afgewezen_boven_volume_cents > 0
                then 'gedeclareerd boven toegewezen volume (afgewezen)'
            -- a rejected line with an unreadable amount (OM021) still shows in its volume
            when tested_difference_cents > 0 and (afgewezen_bedrag_cents > 0 or afgewezen_volume > 0)
                then 'afgewezen declaraties'
            when tested_difference_cents > 0 then 'tariefverschil: verantwoord bedrag hoger bij gelijk volume'
            when tested_difference_cents < 0 and pv_volume < geaccepteerd_volume
                then 'meer geaccepteerd dan verantwoord (volume)'
            when tested_difference_cents < 0
                then 'verantwoord bedrag lager bij gelijk volume: creditering of tariefverschil niet gedeclareerd'
        end as oorzaak

    from differences
)

select * from final
