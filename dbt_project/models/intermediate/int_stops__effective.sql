-- Accepted stop messages that still count. A 'verwijderen' message (status_aanlevering 3) for the
-- same trajectory, begin date and end date cancels one first delivery (1), in whatever submission
-- and order the two arrived: per key, deliveries minus withdrawals is what remains. So a stop
-- withdrawn in a later submission is gone, a withdrawal that arrives before its stop still cancels
-- it, and a stop re-sent after its withdrawal counts again. Of identical deliveries that remain,
-- one row is kept (the last by submission id and line number: content, not arrival order).
with

stops as (
    select * from {{ ref('stg_raw__stop_zorg') }}
),

accepted_stops as (
    select *
    from stops
    where is_accepted
),

counted as (
    select
        *,
        count(*) filter (where status_aanlevering = '1') over stop_key as delivery_count,
        count(*) filter (where status_aanlevering = '3') over stop_key as withdrawal_count,
        row_number() over (
            partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer,
                begin_date, end_date, status_aanlevering
            order by submission_id desc, member_name desc, line_number desc
        ) as delivery_rank
    from accepted_stops
    window stop_key as (
        partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer, begin_date, end_date
    )
),

final as (
    select
        stop_record_id,
        submission_id,
        line_number,
        gemeente_code,
        domein,
        aanbieder_agb,
        client_pseudonym,
        toewijzingnummer,
        productcategorie,
        productcode,
        reden_beeindiging,
        begin_date,
        end_date
    from counted
    where status_aanlevering = '1'
        and delivery_count > withdrawal_count
        and delivery_rank = 1
)

select * from final
