-- Council dashboard: client experience (CEO) per question, municipality (and '*' for the
-- region), domain and survey year: the share agreeing (4 or 5 of 1-5; 9 left out) with its 95%
-- Wilson interval and n. A question with fewer than var('min_survey_answers') (30) answers, or
-- one that could be recomputed from the region total, is hidden (int_indicator__publication_raad).
with

published as (
    select * from {{ ref('int_indicator__publication_raad') }}
),

questions as (
    select * from {{ ref('ceo_vragen') }}
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

survey as (
    select *
    from published
    where indicator_code like 'CEO\_%' escape '\'
),

final as (
    select
        -- ids
        survey.indicator_code,
        substr(survey.indicator_code, 5) as vraag_code,
        coalesce(questions.vraag_tekst, 'Vraag ' || substr(survey.indicator_code, 5)) as vraag_tekst,
        survey.gemeente_code,
        case
            when survey.gemeente_code = '*' then 'Hele regio'
            else coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || survey.gemeente_code)
        end as gemeente_naam,
        survey.domein,
        survey.period,

        -- dimensions
        survey.status,
        survey.is_suppressed,
        survey.suppression_reden,

        -- measures
        case when not survey.is_suppressed then survey.n end as n,
        case when not survey.is_suppressed then survey.numerator end as numerator,
        case when not survey.is_suppressed then survey.value end as value,
        case when not survey.is_suppressed then survey.ci_lower end as ci_lower,
        case when not survey.is_suppressed then survey.ci_upper end as ci_upper,

        -- dates
        survey.period_start_date

    from survey
    left join questions
        on survey.domein = questions.domein
        and survey.indicator_code = questions.indicator_code
    left join municipalities
        on survey.gemeente_code = municipalities.gemeente_code
)

select * from final
