-- Every indicator per municipality x domain x provider x product category x informant x period,
-- with '*' for "all" municipalities (the region), providers, categories and informants. Jeugd and
-- Wmo are never added up here (fct_afspraak does, for agreements on both domains).
-- An observation counts in the half-year and the year of its date (CEO: only its survey year).
-- Rows whose denominator would be 0 do not exist.
with

observations as (
    select * from {{ ref('int_indicator__observations') }}
),

period_types as (
    select * from (values ('halfjaar'), ('jaar')) as period_type (period_type)
),

observation_periods as (
    select
        observations.*,
        period_types.period_type,
        case period_types.period_type
            when 'halfjaar' then
                cast(year(observation_date) as varchar) || '-H' || case when month(observation_date) <= 6 then '1' else '2' end
            else cast(year(observation_date) as varchar)
        end as period,
        case period_types.period_type
            when 'halfjaar' then make_date(year(observation_date), case when month(observation_date) <= 6 then 1 else 7 end, 1)
            else make_date(year(observation_date), 1, 1)
        end as period_start_date
    from observations
    cross join period_types
    where period_types.period_type = 'jaar' or observations.has_half_year
),

aggregated as (
    select
        indicator_code,
        case when grouping(gemeente_code) = 1 then '*' else gemeente_code end as gemeente_code,
        domein,
        case when grouping(aanbieder_agb) = 1 then '*' else aanbieder_agb end as aanbieder_agb,
        case when grouping(productcategorie) = 1 then '*' else productcategorie end as productcategorie,
        case when grouping(informant) = 1 then '*' else informant end as informant,
        period,
        period_type,
        period_start_date,
        cast(sum(numerator) as bigint) as numerator,
        cast(sum(denominator) as bigint) as denominator,
        cast(count(distinct unit_id) as bigint) as n,
        sum(sum_of_squares) as sum_of_squares
    from observation_periods
    group by
        indicator_code, domein, period, period_type, period_start_date,
        cube (gemeente_code, aanbieder_agb, productcategorie, informant)
    -- a scope that is not rolled up must be known: a null provider, category or informant only
    -- counts towards '*'
    having (grouping(aanbieder_agb) = 1 or aanbieder_agb is not null)
        and (grouping(productcategorie) = 1 or productcategorie is not null)
        and (grouping(informant) = 1 or informant is not null)
        and sum(denominator) > 0
),

dated as (
    select
        *,
        cast(
            period_start_date
            + case period_type when 'halfjaar' then to_months(6) else to_months(12) end
            - interval 1 day
            as date
        ) as period_end_date,
        cast(numerator as double) / denominator as ratio
    from aggregated
),

final as (
    select
        -- ids
        indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        informant,
        period,

        -- dimensions
        period_type,
        case
            -- GEEN_NIEUWE_START looks half a year beyond the period: final once that is complete too
            when {{ as_of_date() }}
                >= period_end_date + interval 1 day + to_months({{ var('months_until_definitief') }})
                    + case when indicator_code = 'GEEN_NIEUWE_START' then to_months(6) else to_months(0) end
                then 'definitief'
            else 'voorlopig'
        end as status,

        -- measures
        numerator,
        denominator,
        ratio as value,
        n,
        case
            when indicator_code = 'UITPUTTING' then null
            when indicator_code = 'TEVREDENHEID' then
                case when n >= 2 then
                    ratio - 1.96 * sqrt(greatest(sum_of_squares - numerator * ratio, 0) / (n - 1) / n)
                end
            else {{ wilson_bound('numerator', 'denominator', '-') }}
        end as ci_lower,
        case
            when indicator_code = 'UITPUTTING' then null
            when indicator_code = 'TEVREDENHEID' then
                case when n >= 2 then
                    ratio + 1.96 * sqrt(greatest(sum_of_squares - numerator * ratio, 0) / (n - 1) / n)
                end
            else {{ wilson_bound('numerator', 'denominator', '+') }}
        end as ci_upper,

        -- dates
        period_start_date,
        period_end_date,
        {{ as_of_date() }} as as_of_date

    from dated
)

select * from final
