-- Observations of the trajectory indicators, one row per ended trajectory and indicator:
-- UITVAL and VOLGENS_PLAN over the trajectories ended with Jeugd reason 31-34 (Wmo 19, 21-23);
-- GEEN_NIEUWE_START over those ended with 31 or 34 (Wmo 19 or 23): a hit when the same client
-- starts no other trajectory in the same domain (any municipality, any provider) after the end
-- date and up to the last day of the next half-year. A trajectory "starts" on its first effective
-- start message; a restart of the same trajectory after a temporary stop (20) is not a new one.
with

ended as (
    select * from {{ ref('int_trajectories__ended') }}
),

starts as (
    select * from {{ ref('int_starts__effective') }}
),

definitions as (
    -- DOMAIN.md, "The indicators": Jeugd reasons (JZ588) and Wmo reasons (WMO588)
    select *
    from (
        values
            ('UITVAL', 'jeugd', ['32'], ['31', '32', '33', '34']),
            ('UITVAL', 'wmo', ['21'], ['19', '21', '22', '23']),
            ('VOLGENS_PLAN', 'jeugd', ['31'], ['31', '32', '33', '34']),
            ('VOLGENS_PLAN', 'wmo', ['19'], ['19', '21', '22', '23']),
            ('GEEN_NIEUWE_START', 'jeugd', cast([] as varchar[]), ['31', '34']),
            ('GEEN_NIEUWE_START', 'wmo', cast([] as varchar[]), ['19', '23'])
    ) as definition (indicator_code, domein, numerator_reasons, denominator_reasons)
),

first_starts as (
    select
        gemeente_code,
        domein,
        aanbieder_agb,
        client_pseudonym,
        toewijzingnummer,
        min(begin_date) as first_start_date
    from starts
    group by all
),

ended_with_horizon as (
    select
        *,
        -- last day of the half-year after the one the trajectory ended in
        cast(
            make_date(year(end_date), case when month(end_date) <= 6 then 1 else 7 end, 1)
            + to_months(12) - interval 1 day
            as date
        ) as restart_horizon_date
    from ended
),

restarted as (
    select distinct ended_with_horizon.trajectory_id
    from ended_with_horizon
    inner join first_starts as other
        on ended_with_horizon.client_pseudonym = other.client_pseudonym
        and ended_with_horizon.domein = other.domein
        and other.first_start_date > ended_with_horizon.end_date
        and other.first_start_date <= ended_with_horizon.restart_horizon_date
        and not (
            other.gemeente_code = ended_with_horizon.gemeente_code
            and other.aanbieder_agb = ended_with_horizon.aanbieder_agb
            and other.toewijzingnummer = ended_with_horizon.toewijzingnummer
        )
),

final as (
    select
        definitions.indicator_code,
        ended_with_horizon.gemeente_code,
        ended_with_horizon.domein,
        ended_with_horizon.aanbieder_agb,
        ended_with_horizon.productcategorie,
        cast(null as varchar) as informant,
        ended_with_horizon.trajectory_id as unit_id,
        ended_with_horizon.end_date as observation_date,
        true as has_half_year,
        cast(
            case
                when definitions.indicator_code = 'GEEN_NIEUWE_START' then restarted.trajectory_id is null
                else list_contains(definitions.numerator_reasons, ended_with_horizon.reden_beeindiging)
            end
            as bigint
        ) as numerator,
        cast(1 as bigint) as denominator,
        cast(null as double) as sum_of_squares
    from ended_with_horizon
    inner join definitions
        on ended_with_horizon.domein = definitions.domein
        and list_contains(definitions.denominator_reasons, ended_with_horizon.reden_beeindiging)
    left join restarted
        on ended_with_horizon.trajectory_id = restarted.trajectory_id
)

select * from final
