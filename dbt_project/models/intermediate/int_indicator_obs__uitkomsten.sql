-- Observations from outcome measurements (uitkomst), counted by meetdatum:
-- ZONDER_HULP_VERDER (01 / 01-03), DOELREALISATIE (1-2 / 1-4), and per informant TEVREDENHEID
-- (numerator = the mark, so that numerator / denominator is the mean) and TEVREDENHEID_7PLUS
-- (mark 7 or more / all marks). Of identical measurements (same trajectory, date and informant)
-- delivered more than once, the last delivered (by submission id and line) counts.
with

outcomes as (
    select * from {{ ref('stg_raw__uitkomsten') }}
),

toewijzingen as (
    select * from {{ ref('int_toewijzingen__current') }}
),

current_outcomes as (
    select *
    from outcomes
    where is_accepted
        and measured_date is not null
    qualify row_number() over (
        partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer, measured_date, informant
        order by submission_id desc, member_name desc, line_number desc
    ) = 1
),

with_category as (
    select
        current_outcomes.*,
        coalesce(toewijzingen.productcategorie, 'onbekend') as productcategorie
    from current_outcomes
    left join toewijzingen
        on current_outcomes.gemeente_code = toewijzingen.gemeente_code
        and current_outcomes.domein = toewijzingen.domein
        and current_outcomes.aanbieder_agb = toewijzingen.aanbieder_agb
        and current_outcomes.client_pseudonym = toewijzingen.client_pseudonym
        and current_outcomes.toewijzingnummer = toewijzingen.toewijzingnummer
),

answers as (
    select
        'ZONDER_HULP_VERDER' as indicator_code,
        *,
        cast(null as varchar) as answer_informant,
        cast(zonder_hulp_verder = '01' as bigint) as hit,
        cast(null as double) as squared
    from with_category
    where zonder_hulp_verder in ('01', '02', '03')

    union all

    select
        'DOELREALISATIE',
        *,
        null,
        cast(doelrealisatie <= 2 as bigint),
        null
    from with_category
    where doelrealisatie between 1 and 4

    union all

    select
        'TEVREDENHEID',
        *,
        informant,
        cast(tevredenheid as bigint),
        cast(tevredenheid * tevredenheid as double)
    from with_category
    where tevredenheid between 1 and 10

    union all

    select
        'TEVREDENHEID_7PLUS',
        *,
        informant,
        cast(tevredenheid >= 7 as bigint),
        null
    from with_category
    where tevredenheid between 1 and 10
),

final as (
    select
        indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        answer_informant as informant,
        uitkomst_record_id as unit_id,
        measured_date as observation_date,
        true as has_half_year,
        hit as numerator,
        cast(1 as bigint) as denominator,
        squared as sum_of_squares
    from answers
)

select * from final
