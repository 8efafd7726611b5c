-- Provider dashboard: each provider's own indicators per municipality (and '*' for all its
-- municipalities), domain, product category (and '*'), informant and period, next to the regional
-- benchmark: the same scope for all providers together (aanbieder_agb '*'). Suppressed along
-- every hierarchy this table shows (int_indicator__publication_aanbieder). aanbieder_agb is the
-- column row-level security filters on. No client or pseudonym column.
with

published as (
    select * from {{ ref('int_indicator__publication_aanbieder') }}
),

indicator_names as (
    select * from {{ ref('indicatoren') }}
),

questions as (
    select indicator_code, min(vraag_tekst) as vraag_tekst
    from {{ ref('ceo_vragen') }}
    group by indicator_code
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

own as (
    select *
    from published
    where aanbieder_agb <> '*'
),

benchmark as (
    select *
    from published
    where aanbieder_agb = '*'
),

final as (
    select
        -- ids
        own.aanbieder_agb,
        own.indicator_code,
        coalesce(indicator_names.indicator_naam, 'Cliëntervaring: ' || questions.vraag_tekst, own.indicator_code)
            as indicator_naam,
        own.gemeente_code,
        case
            when own.gemeente_code = '*' then 'Alle gemeenten'
            else coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || own.gemeente_code)
        end as gemeente_naam,
        own.domein,
        own.productcategorie,
        own.informant,
        own.period,

        -- dimensions
        own.period_type,
        coalesce(indicator_names.richting, 'hoger') as richting,
        own.status,
        own.is_suppressed,
        own.suppression_reden,

        -- measures: the provider's own
        case when not own.is_suppressed then own.numerator end as numerator,
        case when not own.is_suppressed then own.denominator end as denominator,
        case when not own.is_suppressed then own.n end as n,
        case when not own.is_suppressed then own.value end as value,
        case when not own.is_suppressed then own.ci_lower end as ci_lower,
        case when not own.is_suppressed then own.ci_upper end as ci_upper,

        -- measures: the regional benchmark (all providers, same scope)
        coalesce(benchmark.is_suppressed, true) as benchmark_is_suppressed,
        case when not benchmark.is_suppressed then benchmark.n end as benchmark_n,
        case when not benchmark.is_suppressed then benchmark.value end as benchmark_value,
        case when not benchmark.is_suppressed then benchmark.ci_lower end as benchmark_ci_lower,
        case when not benchmark.is_suppressed then benchmark.ci_upper end as benchmark_ci_upper,

        -- dates
        own.period_start_date

    from own
    left join benchmark
        on own.indicator_code = benchmark.indicator_code
        and own.gemeente_code = benchmark.gemeente_code
        and own.domein = benchmark.domein
        and own.productcategorie = benchmark.productcategorie
        and own.informant = benchmark.informant
        and own.period = benchmark.period
    left join indicator_names
        on own.indicator_code = indicator_names.indicator_code
    left join questions
        on own.indicator_code = questions.indicator_code
    left join municipalities
        on own.gemeente_code = municipalities.gemeente_code
)

select * from final
