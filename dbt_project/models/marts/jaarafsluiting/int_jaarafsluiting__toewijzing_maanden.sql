{{ config(schema='intermediate') }}
-- Assigned volume and contract tariff per toewijzing and calendar month, for the year-end: the
-- reconciliation's toegewezen volume and amount, and the accruals (nog te betalen).
--
-- Current, not deleted toewijzingen with a volume, a frequentie and a start date; open-ended ones
-- run to the end of the peildatum's year, and no month after that year is made, nor before the
-- first year with declaration lines (no year-end figures exist before the data begins). The volume of a
-- month is spread over the days the toewijzing is valid in it, as int_toewijzingen__uitputting
-- does (rounded down per month): per dag (frequentie 1) volume x days, per week (2) volume x days
-- / 7, per maand (4) volume x days / days of the month, totaal binnen de geldigheidsduur (6, needs
-- an end date) volume x days / days of the whole toewijzing.
-- The contract tariff is the one valid on the month's first valid day for the same gemeente,
-- provider, domein, productcode and unit (or a tariff without unit), as 0611 uses it; the lowest
-- when several are valid; null when none is known.
-- Care days (for the accruals) are the days of the month between the start of care (the earliest
-- effective start message, else the toewijzing's start) and its end (the end date of the ended
-- trajectory, else the toewijzing's end); zorg_volume spreads the volume over those days as above.
with

toewijzingen as (
    select * from {{ ref('int_toewijzingen__current') }}
),

starts as (
    select
        gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer,
        min(begin_date) as zorg_begin_date
    from {{ ref('int_starts__effective') }}
    group by all
),

ended_trajectories as (
    select * from {{ ref('int_trajectories__ended') }}
),

tariffs as (
    select * from {{ ref('stg_raw__contracttarieven') }}
    where is_accepted
),

first_data_year as (
    select make_date(year(min(period_start_date)), 1, 1) as first_date
    from {{ ref('fct_declaration_line') }}
),

assignable as (
    select
        toewijzingen.*,
        greatest(toewijzingen.start_date, first_data_year.first_date) as from_date,
        least(
            coalesce(toewijzingen.end_date, make_date(year({{ as_of_date() }}), 12, 31)),
            make_date(year({{ as_of_date() }}), 12, 31)
        ) as to_date,
        starts.zorg_begin_date,
        ended_trajectories.end_date as zorg_eind_date
    from toewijzingen
    cross join first_data_year
    left join starts
        on toewijzingen.gemeente_code = starts.gemeente_code
        and toewijzingen.domein = starts.domein
        and toewijzingen.aanbieder_agb = starts.aanbieder_agb
        and toewijzingen.client_pseudonym = starts.client_pseudonym
        and toewijzingen.toewijzingnummer = starts.toewijzingnummer
    left join ended_trajectories
        on toewijzingen.gemeente_code = ended_trajectories.gemeente_code
        and toewijzingen.domein = ended_trajectories.domein
        and toewijzingen.aanbieder_agb = ended_trajectories.aanbieder_agb
        and toewijzingen.client_pseudonym = ended_trajectories.client_pseudonym
        and toewijzingen.toewijzingnummer = ended_trajectories.toewijzingnummer
    where not toewijzingen.is_deleted
        and toewijzingen.volume is not null
        and toewijzingen.start_date is not null
        and (toewijzingen.frequentie in ('1', '2', '4')
            or (toewijzingen.frequentie = '6' and toewijzingen.end_date is not null))
),

months as (
    select
        assignable.*,
        cast(month_series.month_start as date) as month_start_date
    from assignable,
        unnest(generate_series(
            cast(date_trunc('month', assignable.from_date) as timestamp),
            cast(date_trunc('month', assignable.to_date) as timestamp),
            interval 1 month
        )) as month_series (month_start)
    where assignable.from_date <= assignable.to_date
),

valid_days as (
    select
        *,
        last_day(month_start_date) as month_end_date,
        -- lets a yearly count of toewijzingen be a count(*) instead of a count(distinct)
        month_start_date = greatest(cast(date_trunc('month', from_date) as date), make_date(year(month_start_date), 1, 1))
            as is_first_month_of_year,
        greatest(from_date, month_start_date) as first_valid_date,
        datediff('day', greatest(from_date, month_start_date), least(to_date, last_day(month_start_date))) + 1
            as days_valid,
        greatest(0, datediff('day',
            greatest(from_date, coalesce(zorg_begin_date, from_date), month_start_date),
            least(to_date, coalesce(zorg_eind_date, to_date), last_day(month_start_date))
        ) + 1) as care_days,
        -- the days the volume is given for
        case frequentie
            when '1' then 1
            when '2' then 7
            when '4' then day(last_day(month_start_date))
            when '6' then datediff('day', start_date, end_date) + 1
        end as volume_days
    from months
),

month_tariffs as (
    select
        valid_days.toewijzing_record_id,
        valid_days.month_start_date,
        min(tariffs.tarief_cents) as contract_tarief_cents
    from valid_days
    inner join tariffs
        on valid_days.gemeente_code = tariffs.gemeente_code
        and valid_days.aanbieder_agb = tariffs.aanbieder_agb
        and valid_days.domein = tariffs.domein
        and valid_days.productcode = tariffs.productcode
        and (tariffs.eenheid is null or tariffs.eenheid = valid_days.eenheid)
        and valid_days.first_valid_date >= tariffs.start_date
        and (tariffs.end_date is null or valid_days.first_valid_date <= tariffs.end_date)
    group by valid_days.toewijzing_record_id, valid_days.month_start_date
),

final as (
    select
        -- ids
        valid_days.toewijzing_record_id,
        valid_days.toewijzingnummer,
        valid_days.client_pseudonym,

        -- dimensions
        cast(year(valid_days.month_start_date) as integer) as verslagjaar,
        valid_days.aanbieder_agb,
        valid_days.gemeente_code,
        valid_days.domein,
        valid_days.productcategorie,
        valid_days.productcode,
        valid_days.eenheid,
        valid_days.frequentie,

        -- measures
        valid_days.days_valid,
        valid_days.care_days,
        cast(floor(valid_days.volume * valid_days.days_valid / valid_days.volume_days) as bigint) as toegewezen_volume,
        cast(floor(valid_days.volume * valid_days.care_days / valid_days.volume_days) as bigint) as zorg_volume,
        month_tariffs.contract_tarief_cents,

        -- dates
        valid_days.zorg_begin_date,
        valid_days.zorg_eind_date,
        valid_days.month_start_date,
        valid_days.month_end_date,
        valid_days.is_first_month_of_year

    from valid_days
    left join month_tariffs
        on valid_days.toewijzing_record_id = month_tariffs.toewijzing_record_id
        and valid_days.month_start_date = month_tariffs.month_start_date
)

select * from final
