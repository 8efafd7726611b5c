-- Council dashboard: trajectory indicators per municipality, domain and half-year, for all
-- providers and product categories together. A ratio whose denominator is below
-- var('min_denominator') is suppressed (numerator and value null, is_suppressed true).
-- No client or pseudonym column may appear here.
with

indicators as (
    select * from {{ ref('fct_indicator') }}
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
        and period_type = 'halfjaar'
),

final as (
    select
        -- ids
        council_scope.indicator_code,
        indicator_names.indicator_naam,
        council_scope.gemeente_code,
        coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || council_scope.gemeente_code)
            as gemeente_naam,
        council_scope.domein,
        council_scope.period,

        -- dimensions
        indicator_names.richting,
        council_scope.status,
        council_scope.denominator < {{ var('min_denominator') }} as is_suppressed,

        -- measures
        case when council_scope.denominator >= {{ var('min_denominator') }} then council_scope.numerator end
            as numerator,
        council_scope.denominator,
        case when council_scope.denominator >= {{ var('min_denominator') }} then council_scope.value end
            as value,

        -- dates
        council_scope.period_start_date

    from council_scope
    left join indicator_names
        on council_scope.indicator_code = indicator_names.indicator_code
    left join municipalities
        on council_scope.gemeente_code = municipalities.gemeente_code
)

select * from final
