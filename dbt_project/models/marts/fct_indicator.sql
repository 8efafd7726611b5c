-- Trajectory indicators UITVAL and VOLGENS_PLAN per municipality x domain x provider x product
-- category x period, with '*' for "all" providers and/or categories. A trajectory counts in the
-- half-year and the year of its end date. Rows whose denominator would be 0 do not exist.
with

trajectories as (
    select * from {{ ref('int_trajectories__ended') }}
),

definitions as (
    -- DOMAIN.md, "The indicators": Jeugd reasons (JZ588) and Wmo reasons (WMO588)
    select *
    from (
        values
            ('UITVAL', 'jeugd', ['32'], ['31', '32', '33', '34']),
            ('UITVAL', 'wmo', ['21'], ['19', '21', '22', '23']),
            ('VOLGENS_PLAN', 'jeugd', ['31'], ['31', '32', '33', '34']),
            ('VOLGENS_PLAN', 'wmo', ['19'], ['19', '21', '22', '23'])
    ) as definition (indicator_code, domein, numerator_reasons, denominator_reasons)
),

period_types as (
    select * from (values ('halfjaar'), ('jaar')) as period_type (period_type)
),

ended_in as (
    select
        *,
        year(end_date) as end_year,
        case when month(end_date) <= 6 then 1 else 2 end as end_half
    from trajectories
    where end_date is not null
),

trajectory_periods as (
    -- each trajectory counts in its half-year and in its year
    select
        ended_in.trajectory_id,
        ended_in.gemeente_code,
        ended_in.domein,
        ended_in.aanbieder_agb,
        ended_in.productcategorie,
        ended_in.reden_beeindiging,
        period_types.period_type,
        case period_types.period_type
            when 'halfjaar' then cast(ended_in.end_year as varchar) || '-H' || cast(ended_in.end_half as varchar)
            else cast(ended_in.end_year as varchar)
        end as period,
        case period_types.period_type
            when 'halfjaar' then make_date(ended_in.end_year, 6 * (ended_in.end_half - 1) + 1, 1)
            else make_date(ended_in.end_year, 1, 1)
        end as period_start_date
    from ended_in
    cross join period_types
),

counted as (
    select
        definitions.indicator_code,
        trajectory_periods.*,
        list_contains(definitions.numerator_reasons, trajectory_periods.reden_beeindiging) as is_numerator
    from trajectory_periods
    inner join definitions
        on trajectory_periods.domein = definitions.domein
        and list_contains(definitions.denominator_reasons, trajectory_periods.reden_beeindiging)
),

aggregated as (
    select
        indicator_code,
        gemeente_code,
        domein,
        case when grouping(aanbieder_agb) = 1 then '*' else aanbieder_agb end as aanbieder_agb,
        case when grouping(productcategorie) = 1 then '*' else productcategorie end as productcategorie,
        period,
        period_type,
        period_start_date,
        cast(count(*) filter (where is_numerator) as bigint) as numerator,
        cast(count(*) as bigint) as denominator
    from counted
    group by
        indicator_code, gemeente_code, domein, period, period_type, period_start_date,
        cube (aanbieder_agb, productcategorie)
),

dated as (
    select
        *,
        cast(
            period_start_date
            + case period_type when 'halfjaar' then to_months(6) else to_months(12) end
            - interval 1 day
            as date
        ) as period_end_date
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
        period,

        -- dimensions
        period_type,
        case
            when {{ as_of_date() }}
                >= period_end_date + interval 1 day + to_months({{ var('months_until_definitief') }})
                then 'definitief'
            else 'voorlopig'
        end as status,

        -- measures
        numerator,
        denominator,
        cast(numerator as double) / denominator as value,

        -- dates
        period_start_date,
        period_end_date,
        {{ as_of_date() }} as as_of_date

    from dated
)

select * from final
