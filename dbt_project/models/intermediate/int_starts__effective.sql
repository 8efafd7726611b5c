-- Accepted start messages that still count: as for stops (int_stops__effective), a 'verwijderen'
-- message (status_aanlevering 3) with the same trajectory and begin date cancels one first
-- delivery, in whatever submission and order they arrived. One row per remaining start.
with

starts as (
    select * from {{ ref('stg_raw__start_zorg') }}
),

accepted_starts as (
    select *
    from starts
    where is_accepted
),

counted as (
    select
        *,
        count(*) filter (where status_aanlevering = '1') over start_key as delivery_count,
        count(*) filter (where status_aanlevering = '3') over start_key as withdrawal_count,
        row_number() over (
            partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer,
                begin_date, status_aanlevering
            order by submission_id desc, member_name desc, line_number desc
        ) as delivery_rank
    from accepted_starts
    window start_key as (
        partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer, begin_date
    )
),

final as (
    select
        start_record_id,
        submission_id,
        line_number,
        gemeente_code,
        domein,
        aanbieder_agb,
        client_pseudonym,
        toewijzingnummer,
        productcategorie,
        productcode,
        begin_date
    from counted
    where status_aanlevering = '1'
        and delivery_count > withdrawal_count
        and delivery_rank = 1
)

select * from final
