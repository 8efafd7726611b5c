-- Observations of CEO_<vraag>: one per survey answer 1-5 (9, weet niet / n.v.t., is left out);
-- a hit is 4 or 5 (eens, helemaal eens). Counted in the survey year only (no half-years). The
-- provider is the one the survey names, or null (then the answer counts for '*' only). Of answers
-- delivered more than once for the same respondent and question, the last delivered counts.
with

answers as (
    select * from {{ ref('stg_raw__clientervaring') }}
),

current_answers as (
    select *
    from answers
    where is_accepted
        and antwoord between 1 and 5
        and jaar is not null
        and vraag_code is not null
    qualify row_number() over (
        partition by gemeente_code, jaar, wet, respondent_id, vraag_code
        order by submission_id desc, member_name desc, line_number desc
    ) = 1
),

final as (
    select
        'CEO_' || vraag_code as indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        cast(null as varchar) as productcategorie,
        cast(null as varchar) as informant,
        clientervaring_record_id as unit_id,
        make_date(jaar, 1, 1) as observation_date,
        false as has_half_year,
        cast(antwoord >= 4 as bigint) as numerator,
        cast(1 as bigint) as denominator,
        cast(null as double) as sum_of_squares
    from current_answers
)

select * from final
