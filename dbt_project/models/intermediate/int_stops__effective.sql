-- Accepted stop messages that still count: a first delivery (status_aanlevering 1) is cancelled
-- by an accepted 'verwijderen' message (3) for the same trajectory, begin date and end date.
with

stops as (
    select * from {{ ref('stg_raw__stop_zorg') }}
),

accepted_stops as (
    select *
    from stops
    where is_accepted
),

deliveries as (
    select *
    from accepted_stops
    where status_aanlevering = '1'
),

withdrawals as (
    select *
    from accepted_stops
    where status_aanlevering = '3'
),

final as (
    select
        deliveries.stop_record_id,
        deliveries.submission_id,
        deliveries.line_number,
        deliveries.gemeente_code,
        deliveries.domein,
        deliveries.aanbieder_agb,
        deliveries.client_pseudonym,
        deliveries.toewijzingnummer,
        deliveries.productcategorie,
        deliveries.productcode,
        deliveries.reden_beeindiging,
        deliveries.begin_date,
        deliveries.end_date
    from deliveries
    where not exists (
        select 1
        from withdrawals
        where withdrawals.gemeente_code = deliveries.gemeente_code
            and withdrawals.domein = deliveries.domein
            and withdrawals.aanbieder_agb = deliveries.aanbieder_agb
            and withdrawals.client_pseudonym = deliveries.client_pseudonym
            and withdrawals.toewijzingnummer = deliveries.toewijzingnummer
            and withdrawals.begin_date is not distinct from deliveries.begin_date
            and withdrawals.end_date is not distinct from deliveries.end_date
    )
)

select * from final
