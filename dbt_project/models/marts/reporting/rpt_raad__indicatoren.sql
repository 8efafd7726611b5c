-- Council dashboard: every indicator except the survey questions (rpt_raad__clientervaring) per
-- municipality (and '*' for the whole region), domain, informant and half-year or year, for all
-- providers and product categories together. Suppressed as decided in int_indicator__suppressed:
-- numerator, denominator, n, value and interval are null when is_suppressed.
-- No client or pseudonym column may appear here.
with

indicators as (
    select * from {{ ref('int_indicator__publication_raad') }}
),

indicator_names as (
    select * from {{ ref('indicatoren') }}
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

council_scope as (
    select *
    from indicators
    where aanbieder_agb = '*'
        and productcategorie = '*'
        and domein <> '*'
        and indicator_code not like 'CEO\_%' escape '\'
),

final as (
    select
        -- ids
        council_scope.indicator_code,
        indicator_names.indicator_naam,
        council_scope.gemeente_code,
        case
            when council_scope.gemeente_code = '*' then 'Hele regio'
            else coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || council_scope.gemeente_code)
        end as gemeente_naam,
        council_scope.domein,
        council_scope.period,

        -- dimensions
        indicator_names.richting,
        council_scope.status,
        council_scope.is_suppressed,

        -- measures
        case when not council_scope.is_suppressed then council_scope.numerator end as numerator,
        case when not council_scope.is_suppressed then council_scope.denominator end as denominator,
        case when not council_scope.is_suppressed then council_scope.value end as value,

        -- dates
        council_scope.period_start_date,

        -- added with the full catalogue (issue 4)
        council_scope.informant,
        council_scope.period_type,
        indicator_names.soort,
        council_scope.suppression_reden,
        case when not council_scope.is_suppressed then council_scope.n end as n,
        case when not council_scope.is_suppressed then council_scope.ci_lower end as ci_lower,
        case when not council_scope.is_suppressed then council_scope.ci_upper end as ci_upper,
        council_scope.period_end_date

    from council_scope
    left join indicator_names
        on council_scope.indicator_code = indicator_names.indicator_code
    left join municipalities
        on council_scope.gemeente_code = municipalities.gemeente_code
)

select * from final
