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

unit_periods as (
    -- one row per unit and finest cell first: UITPUTTING has a row per toewijzing and month
    select
        indicator_code, gemeente_code, domein, aanbieder_agb, productcategorie, informant,
        period, period_type, period_start_date, unit_id,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        sum(sum_of_squares) as sum_of_squares
    from observation_periods
    group by all
),

unit_cells as (
    -- A unit with one row in its indicator, domain and period counts once in every cell it rolls
    -- up into, so count(*) counts it; only units with several rows (other scopes) need the much
    -- slower count(distinct), over just their rows. Null units are never counted.
    select
        *,
        unit_id is not null
            and count(*) over (
                partition by indicator_code, domein, period, period_type, period_start_date, unit_id
            ) = 1 as is_single_row_unit
    from unit_periods
),

cube_cells as (
    select
        indicator_code,
        domein,
        period,
        period_type,
        period_start_date,
        grouping(gemeente_code, aanbieder_agb, productcategorie, informant) as grouping_id,
        gemeente_code,
        aanbieder_agb,
        productcategorie,
        informant,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(*) filter (where is_single_row_unit) as single_row_units,
        sum(sum_of_squares) as sum_of_squares
    from unit_cells
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

multi_row_units as (
    select
        indicator_code,
        domein,
        period,
        period_type,
        period_start_date,
        grouping(gemeente_code, aanbieder_agb, productcategorie, informant) as grouping_id,
        gemeente_code,
        aanbieder_agb,
        productcategorie,
        informant,
        count(distinct unit_id) as units
    from unit_cells
    where not is_single_row_unit
    group by
        indicator_code, domein, period, period_type, period_start_date,
        cube (gemeente_code, aanbieder_agb, productcategorie, informant)
),

aggregated as (
    select
        cube_cells.indicator_code,
        case when cube_cells.grouping_id & 8 = 8 then '*' else cube_cells.gemeente_code end as gemeente_code,
        cube_cells.domein,
        case when cube_cells.grouping_id & 4 = 4 then '*' else cube_cells.aanbieder_agb end as aanbieder_agb,
        case when cube_cells.grouping_id & 2 = 2 then '*' else cube_cells.productcategorie end as productcategorie,
        case when cube_cells.grouping_id & 1 = 1 then '*' else cube_cells.informant end as informant,
        cube_cells.period,
        cube_cells.period_type,
        cube_cells.period_start_date,
        cast(cube_cells.numerator as bigint) as numerator,
        cast(cube_cells.denominator as bigint) as denominator,
        cast(cube_cells.single_row_units + coalesce(multi_row_units.units, 0) as bigint) as n,
        cube_cells.sum_of_squares
    from cube_cells
    left join multi_row_units
        on cube_cells.indicator_code = multi_row_units.indicator_code
        and cube_cells.domein is not distinct from multi_row_units.domein
        and cube_cells.period is not distinct from multi_row_units.period
        and cube_cells.period_type = multi_row_units.period_type
        and cube_cells.period_start_date is not distinct from multi_row_units.period_start_date
        and cube_cells.grouping_id = multi_row_units.grouping_id
        and cube_cells.gemeente_code is not distinct from multi_row_units.gemeente_code
        and cube_cells.aanbieder_agb is not distinct from multi_row_units.aanbieder_agb
        and cube_cells.productcategorie is not distinct from multi_row_units.productcategorie
        and cube_cells.informant is not distinct from multi_row_units.informant
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
