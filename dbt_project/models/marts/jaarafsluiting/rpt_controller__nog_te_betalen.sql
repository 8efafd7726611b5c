-- Accruals (nog te betalen): care delivered in the verslagjaar that is not yet declared at the
-- peildatum, estimated per verslagjaar x provider x gemeente x domein x productcode.
--
-- Method, per toewijzing (int_jaarafsluiting__toewijzing_maanden) and calendar month of the year
-- that is over at the peildatum: a month without a net accepted declared amount for that
-- toewijzing (declaratie dagtekening on or before the peildatum) in which care was given (between
-- the start message and the end of the trajectory, where known) is care delivered but not yet
-- declared, estimated at the volume of the toewijzing for the care days of that month (volume and
-- frequentie) times the contract tariff; without a contract tariff, times the average accepted tariff of the
-- same product of the provider in that gemeente and year. A month with a declaration counts as
-- declared: providers declare a month at once, and unused assigned volume is no liability.
-- Only gemeente x domein combinations with client-level declarations take part, from their first
-- declared month on (a domain financed otherwise, or months before the data, have no declarations
-- to expect).
-- Declarations for a year close var('declaratietermijn_maanden') (3) months after it ends; once
-- that date has passed at the peildatum, nothing more will be paid: bedrag_cents is 0 and
-- geschat_bedrag_cents keeps the estimate for reference.
with

assigned_months as (
    select * from {{ ref('int_jaarafsluiting__toewijzing_maanden') }}
    where month_end_date <= {{ as_of_date() }}
),

lines as (
    select * from {{ ref('fct_declaration_line') }}
    where status = 'geaccepteerd'
        and period_start_date is not null
),

declared_lines as (
    select *
    from lines
    where coalesce(declaratie_dagtekening_date, period_end_date) <= {{ as_of_date() }}
),

declaring_domains as (
    -- from the first month with client-level declarations of the gemeente and domein on
    select gemeente_code, domein, min(month_start_date) as first_month_date
    from lines
    group by all
),

declared_months as (
    select
        gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer, month_start_date
    from declared_lines
    group by all
    having sum(signed_bedrag_cents) > 0
),

average_tariffs as (
    select
        cast(year(period_start_date) as integer) as verslagjaar,
        aanbieder_agb, gemeente_code, domein, productcode,
        cast(round(sum(bedrag_cents) / sum(volume)) as bigint) as gemiddeld_tarief_cents
    from lines
    where debet_credit = 'D'
        and not is_superseded
        and volume > 0
    group by all
),

undeclared_months as (
    select
        assigned_months.*,
        coalesce(assigned_months.contract_tarief_cents, average_tariffs.gemiddeld_tarief_cents) as tarief_cents,
        case
            when assigned_months.contract_tarief_cents is not null then 'contracttarief'
            when average_tariffs.gemiddeld_tarief_cents is not null then 'gemiddeld gedeclareerd tarief'
        end as tariefbron
    from assigned_months
    inner join declaring_domains
        on assigned_months.gemeente_code = declaring_domains.gemeente_code
        and assigned_months.domein = declaring_domains.domein
        and assigned_months.month_start_date >= declaring_domains.first_month_date
    left join declared_months
        on assigned_months.gemeente_code = declared_months.gemeente_code
        and assigned_months.domein = declared_months.domein
        and assigned_months.aanbieder_agb = declared_months.aanbieder_agb
        and assigned_months.client_pseudonym = declared_months.client_pseudonym
        and assigned_months.toewijzingnummer = declared_months.toewijzingnummer
        and assigned_months.month_start_date = declared_months.month_start_date
    left join average_tariffs
        on assigned_months.verslagjaar = average_tariffs.verslagjaar
        and assigned_months.aanbieder_agb = average_tariffs.aanbieder_agb
        and assigned_months.gemeente_code = average_tariffs.gemeente_code
        and assigned_months.domein = average_tariffs.domein
        and assigned_months.productcode is not distinct from average_tariffs.productcode
    where declared_months.month_start_date is null
        and assigned_months.zorg_volume > 0
),

per_product as (
    select
        verslagjaar,
        aanbieder_agb,
        gemeente_code,
        domein,
        productcode,
        max(productcategorie) as productcategorie,
        cast(count(distinct toewijzing_record_id) as bigint) as aantal_toewijzingen,
        cast(count(*) as bigint) as aantal_maanden,
        cast(count(*) filter (where tarief_cents is null) as bigint) as maanden_zonder_tarief,
        cast(sum(zorg_volume) as bigint) as geschat_volume,
        cast(coalesce(sum(zorg_volume * tarief_cents), 0) as bigint) as geschat_bedrag_cents,
        cast(coalesce(sum(zorg_volume) filter (where tarief_cents is not null), 0) as bigint)
            as geprijsd_volume,
        string_agg(distinct tariefbron, ' of ' order by tariefbron) as tariefbron
    from undeclared_months
    group by all
),

dated as (
    select
        *,
        {{ as_of_date() }} as peildatum,
        last_day(make_date(verslagjaar, 12, 1) + to_months({{ var('declaratietermijn_maanden') }}))
            as declaratietermijn_tot
    from per_product
),

final as (
    select
        verslagjaar,
        aanbieder_agb,
        gemeente_code,
        domein,
        productcategorie,
        productcode,
        aantal_toewijzingen,
        aantal_maanden,
        geschat_volume,
        case when geprijsd_volume > 0 then cast(round(geschat_bedrag_cents / geprijsd_volume) as bigint) end
            as tarief_cents,
        tariefbron,
        geschat_bedrag_cents,
        case when peildatum > declaratietermijn_tot then 0 else geschat_bedrag_cents end as bedrag_cents,
        peildatum > declaratietermijn_tot as termijn_verstreken,
        declaratietermijn_tot,
        peildatum,
        'Geschat uit ' || aantal_toewijzingen || ' toewijzing(en) die in ' || verslagjaar || ' open stonden: '
            || aantal_maanden || ' verstreken maand(en) met zorg (tussen start- en stopbericht) waarover op de peildatum '
            || strftime(peildatum, '%d-%m-%Y')
            || ' nog geen geaccepteerde declaratie is, elk gewaardeerd op het toegewezen volume voor de zorgdagen van die'
            || ' maand (volgens volume en frequentie van de toewijzing) maal het '
            || coalesce(tariefbron, 'tarief')
            || '; maanden waarover al is gedeclareerd tellen niet mee.'
            || case when maanden_zonder_tarief > 0
                then ' ' || maanden_zonder_tarief || ' maand(en) zonder bekend tarief zijn niet in het bedrag opgenomen.'
                else '' end
            || case when peildatum > declaratietermijn_tot
                then ' De declaratietermijn is verstreken op ' || strftime(declaratietermijn_tot, '%d-%m-%Y')
                    || ': wat nu niet is gedeclareerd wordt niet meer betaald, dus nog te betalen is 0.'
                else ' Declaraties over ' || verslagjaar || ' kunnen nog tot en met '
                    || strftime(declaratietermijn_tot, '%d-%m-%Y') || ' worden ingediend.' end
            as methode
    from dated
)

select * from final
