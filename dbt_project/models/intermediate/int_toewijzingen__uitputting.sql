-- Assigned and declared volume per toewijzing and month (UITPUTTING, "per toewijzing").
-- Assigned: the toewijzing's volume spread over the days of the month it is valid: per day
-- (frequentie 1) volume x days, per week (2) volume x days / 7, per month (4) volume x days /
-- days of the month, in total (6) volume x days / days of the whole toewijzing; rounded down per
-- month. Declared: the net accepted volume (debits minus credits) of the declaration lines with
-- that toewijzing, by the month of their product period.
-- Only months inside the declaration window of the municipality and domain count: from the first
-- to the last month with any accepted declaration line. So a municipality that finances a domain
-- without client-level declarations (taakgericht) gets no UITPUTTING at all rather than zero, and
-- months not yet declared do not count as unused volume.
with

toewijzingen as (
    select * from {{ ref('int_toewijzingen__current') }}
),

declaration_lines as (
    select * from {{ ref('fct_declaration_line') }}
),

accepted_lines as (
    select *
    from declaration_lines
    where status = 'geaccepteerd'
        and month_start_date is not null
        and toewijzingnummer is not null
),

declaration_windows as (
    select
        gemeente_code,
        domein,
        min(month_start_date) as first_month_date,
        cast(max(month_start_date) + to_months(1) - interval 1 day as date) as last_day_date
    from accepted_lines
    group by all
),

assignable as (
    select
        toewijzingen.*,
        greatest(toewijzingen.start_date, declaration_windows.first_month_date) as from_date,
        least(coalesce(toewijzingen.end_date, declaration_windows.last_day_date), declaration_windows.last_day_date)
            as to_date
    from toewijzingen
    inner join declaration_windows
        on toewijzingen.gemeente_code = declaration_windows.gemeente_code
        and toewijzingen.domein = declaration_windows.domein
    where not toewijzingen.is_deleted
        and toewijzingen.volume is not null
        and toewijzingen.start_date is not null
        and (toewijzingen.frequentie in ('1', '2', '4') or (toewijzingen.frequentie = '6' and toewijzingen.end_date is not null))
),

months as (
    select
        assignable.*,
        cast(month_start as date) as month_start_date
    from assignable,
        unnest(generate_series(
            cast(date_trunc('month', assignable.from_date) as timestamp),
            cast(date_trunc('month', assignable.to_date) as timestamp),
            interval 1 month
        )) as month_series (month_start)
    where assignable.from_date <= assignable.to_date
),

assigned as (
    select
        *,
        datediff('day',
            greatest(from_date, month_start_date),
            least(to_date, cast(month_start_date + to_months(1) - interval 1 day as date))
        ) + 1 as days_valid,
        datediff('day', month_start_date, cast(month_start_date + to_months(1) as date)) as days_in_month
    from months
),

declared as (
    select
        gemeente_code,
        domein,
        aanbieder_agb,
        client_pseudonym,
        toewijzingnummer,
        month_start_date,
        sum(case when debet_credit = 'C' then -volume else volume end) as declared_volume
    from accepted_lines
    group by all
),

final as (
    select
        -- ids
        assigned.toewijzing_record_id,
        md5(concat_ws('|',
            assigned.gemeente_code, assigned.domein, assigned.aanbieder_agb,
            assigned.client_pseudonym, assigned.toewijzingnummer
        )) as toewijzing_id,
        assigned.toewijzingnummer,
        assigned.client_pseudonym,

        -- dimensions
        assigned.gemeente_code,
        assigned.domein,
        assigned.aanbieder_agb,
        coalesce(assigned.productcategorie, 'onbekend') as productcategorie,
        assigned.frequentie,
        assigned.eenheid,

        -- measures
        cast(floor(
            assigned.volume * assigned.days_valid / case assigned.frequentie
                when '1' then 1
                when '2' then 7
                when '4' then assigned.days_in_month
                when '6' then datediff('day', assigned.start_date, assigned.end_date) + 1
            end
        ) as bigint) as assigned_volume,
        cast(coalesce(declared.declared_volume, 0) as bigint) as declared_volume,

        -- dates
        assigned.month_start_date

    from assigned
    left join declared
        on assigned.gemeente_code = declared.gemeente_code
        and assigned.domein = declared.domein
        and assigned.aanbieder_agb = declared.aanbieder_agb
        and assigned.client_pseudonym = declared.client_pseudonym
        and assigned.toewijzingnummer = declared.toewijzingnummer
        and assigned.month_start_date = declared.month_start_date
)

select * from final
