-- Completeness and timeliness of what providers must deliver (as DHIS2's reporting rates): per
-- provider x gemeente x domein x kind x period, how many deliveries were expected, received and
-- received on time. The rules (seed aanleverschema):
--   declaratie               monthly, for every month in which the provider has an active, accepted
--                            toewijzing of the gemeente (months up to the peildatum); due the last
--                            day of the following month; one declaration (any line) per month
--   start_zorg / stop_zorg   as they happen: a start message for each toewijzing whose ingangsdatum
--                            falls in the month, a stop message for each whose einddatum does
--                            (up to the peildatum); due the last day of the following month
--   uitkomst                 half-yearly: an outcome measurement for each trajectory ended in the
--                            half-year; due the last day of the second month after it
--   productieverantwoording  yearly, for each year with an active toewijzing or accepted
--                            declarations; due 31 March of the following year (before 1 April)
-- Received and on time come from the submissions' receipt (stg_raw__submissions, Dutch calendar
-- day): a delivery is on time when received on or before the due date; one without a known
-- receipt (no manifest) counts as received but not on time. Status: compleet (all received on
-- time), nog_niet_verwacht (due date not passed at the peildatum and not yet complete),
-- onvolledig (due date passed, not all received), te_laat (all received, some after the due date).
with

toewijzingen as (
    select * from {{ ref('int_toewijzingen__current') }}
),

declaration_lines as (
    select * from {{ ref('fct_declaration_line') }}
),

starts as (
    select * from {{ ref('int_starts__effective') }}
),

stops as (
    select * from {{ ref('int_stops__effective') }}
),

ended_trajectories as (
    select * from {{ ref('int_trajectories__ended') }}
),

outcomes as (
    select * from {{ ref('stg_raw__uitkomsten') }}
),

production_statements as (
    select * from {{ ref('stg_raw__productieverantwoordingen') }}
),

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

schedule as (
    select * from {{ ref('aanleverschema') }}
),

active_toewijzingen as (
    select *
    from toewijzingen
    where not is_deleted
        and start_date is not null
        and start_date <= {{ as_of_date() }}
),

active_months as (
    select distinct
        aanbieder_agb,
        gemeente_code,
        domein,
        cast(unnest(generate_series(
            date_trunc('month', start_date),
            date_trunc('month', least(coalesce(end_date, {{ as_of_date() }}), {{ as_of_date() }})),
            interval 1 month
        )) as date) as period_start_date
    from active_toewijzingen
),

-- expected and received, one row per delivery that was expected: kind, period, and the receipt
-- date of what answered it (null when nothing did; received = has_received)

declaration_receipts as (
    select
        declaration_lines.aanbieder_agb,
        declaration_lines.gemeente_code,
        declaration_lines.domein,
        declaration_lines.month_start_date,
        min(submissions.received_date) as received_date
    from declaration_lines
    left join submissions
        on declaration_lines.submission_id = submissions.submission_id
    group by all
),

expected_declarations as (
    select
        'declaratie' as soort,
        active_months.aanbieder_agb,
        active_months.gemeente_code,
        active_months.domein,
        active_months.period_start_date,
        declaration_receipts.aanbieder_agb is not null as has_received,
        declaration_receipts.received_date
    from active_months
    left join declaration_receipts
        on active_months.aanbieder_agb = declaration_receipts.aanbieder_agb
        and active_months.gemeente_code = declaration_receipts.gemeente_code
        and active_months.domein = declaration_receipts.domein
        and active_months.period_start_date = declaration_receipts.month_start_date
),

expected_starts as (
    select
        'start_zorg' as soort,
        active_toewijzingen.aanbieder_agb,
        active_toewijzingen.gemeente_code,
        active_toewijzingen.domein,
        cast(date_trunc('month', active_toewijzingen.start_date) as date) as period_start_date,
        count(starts.start_record_id) > 0 as has_received,
        min(submissions.received_date) as received_date
    from active_toewijzingen
    left join starts
        on active_toewijzingen.gemeente_code = starts.gemeente_code
        and active_toewijzingen.domein = starts.domein
        and active_toewijzingen.aanbieder_agb = starts.aanbieder_agb
        and active_toewijzingen.client_pseudonym = starts.client_pseudonym
        and active_toewijzingen.toewijzingnummer = starts.toewijzingnummer
    left join submissions
        on starts.submission_id = submissions.submission_id
    group by active_toewijzingen.toewijzing_record_id, 1, 2, 3, 4, 5
),

expected_stops as (
    select
        'stop_zorg' as soort,
        active_toewijzingen.aanbieder_agb,
        active_toewijzingen.gemeente_code,
        active_toewijzingen.domein,
        cast(date_trunc('month', active_toewijzingen.end_date) as date) as period_start_date,
        count(stops.stop_record_id) > 0 as has_received,
        min(submissions.received_date) as received_date
    from active_toewijzingen
    left join stops
        on active_toewijzingen.gemeente_code = stops.gemeente_code
        and active_toewijzingen.domein = stops.domein
        and active_toewijzingen.aanbieder_agb = stops.aanbieder_agb
        and active_toewijzingen.client_pseudonym = stops.client_pseudonym
        and active_toewijzingen.toewijzingnummer = stops.toewijzingnummer
    left join submissions
        on stops.submission_id = submissions.submission_id
    where active_toewijzingen.end_date <= {{ as_of_date() }}
    group by active_toewijzingen.toewijzing_record_id, 1, 2, 3, 4, 5
),

expected_outcomes as (
    select
        'uitkomst' as soort,
        ended_trajectories.aanbieder_agb,
        ended_trajectories.gemeente_code,
        ended_trajectories.domein,
        make_date(
            year(ended_trajectories.end_date), case when month(ended_trajectories.end_date) <= 6 then 1 else 7 end, 1
        ) as period_start_date,
        count(outcomes.uitkomst_record_id) > 0 as has_received,
        min(submissions.received_date) as received_date
    from ended_trajectories
    left join outcomes
        on outcomes.is_accepted
        and ended_trajectories.gemeente_code = outcomes.gemeente_code
        and ended_trajectories.domein = outcomes.domein
        and ended_trajectories.aanbieder_agb = outcomes.aanbieder_agb
        and ended_trajectories.client_pseudonym = outcomes.client_pseudonym
        and ended_trajectories.toewijzingnummer = outcomes.toewijzingnummer
    left join submissions
        on outcomes.submission_id = submissions.submission_id
    where ended_trajectories.end_date <= {{ as_of_date() }}
    group by ended_trajectories.trajectory_id, 1, 2, 3, 4, 5
),

production_years as (
    select distinct aanbieder_agb, gemeente_code, domein, year(period_start_date) as jaar
    from active_months
    union
    select distinct aanbieder_agb, gemeente_code, domein, year(month_start_date) as jaar
    from declaration_lines
    where status = 'geaccepteerd'
        and aanbieder_agb is not null and gemeente_code is not null and domein is not null
        and month_start_date <= {{ as_of_date() }}
),

production_receipts as (
    select
        production_statements.aanbieder_agb,
        production_statements.gemeente_code,
        production_statements.domein,
        production_statements.jaar,
        min(submissions.received_date) as received_date
    from production_statements
    left join submissions
        on production_statements.submission_id = submissions.submission_id
    where production_statements.is_accepted
    group by all
),

expected_production_statements as (
    select
        'productieverantwoording' as soort,
        production_years.aanbieder_agb,
        production_years.gemeente_code,
        production_years.domein,
        make_date(production_years.jaar, 1, 1) as period_start_date,
        production_receipts.jaar is not null as has_received,
        production_receipts.received_date
    from production_years
    left join production_receipts
        on production_years.aanbieder_agb = production_receipts.aanbieder_agb
        and production_years.gemeente_code = production_receipts.gemeente_code
        and production_years.domein = production_receipts.domein
        and production_years.jaar = production_receipts.jaar
),

expected as (
    select * from expected_declarations
    union all
    select * from expected_starts
    union all
    select * from expected_stops
    union all
    select * from expected_outcomes
    union all
    select * from expected_production_statements
),

dated as (
    select
        expected.*,
        schedule.periodiciteit as period_type,
        cast(
            expected.period_start_date
            + case schedule.periodiciteit when 'maand' then to_months(1) when 'halfjaar' then to_months(6)
                else to_months(12) end
            - interval 1 day
            as date
        ) as period_end_date,
        schedule.maanden_na_periode
    from expected
    inner join schedule
        on expected.soort = schedule.soort
),

with_due_date as (
    select
        *,
        last_day(period_end_date + to_months(maanden_na_periode)) as due_date
    from dated
),

aggregated as (
    select
        aanbieder_agb,
        gemeente_code,
        domein,
        soort,
        period_type,
        period_start_date,
        period_end_date,
        due_date,
        cast(count(*) as bigint) as expected_count,
        cast(count(*) filter (where has_received) as bigint) as received_count,
        cast(count(*) filter (where has_received and received_date <= due_date) as bigint) as on_time_count,
        min(received_date) as first_received_date,
        max(received_date) as last_received_date
    from with_due_date
    group by all
),

final as (
    select
        -- ids
        aanbieder_agb,
        gemeente_code,
        domein,
        soort,
        case period_type
            when 'maand' then strftime(period_start_date, '%Y-%m')
            when 'halfjaar' then cast(year(period_start_date) as varchar) || '-H'
                || case when month(period_start_date) = 1 then '1' else '2' end
            else cast(year(period_start_date) as varchar)
        end as period,

        -- dimensions
        period_type,
        case
            when on_time_count >= expected_count then 'compleet'
            when {{ as_of_date() }} <= due_date then 'nog_niet_verwacht'
            when received_count < expected_count then 'onvolledig'
            else 'te_laat'
        end as status,

        -- measures
        expected_count,
        received_count,
        on_time_count,

        -- dates
        period_start_date,
        period_end_date,
        due_date,
        first_received_date,
        last_received_date,
        {{ as_of_date() }} as as_of_date

    from aggregated
)

select * from final
