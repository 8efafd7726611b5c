-- A trajectory is one toewijzing at one provider for one client in one domain (and municipality).
-- It has ended when an effective stop with a reason other than 20 (temporarily ended) exists;
-- with several such stops the latest (by end date, then by submission and line) decides.
with

stops as (
    select * from {{ ref('int_stops__effective') }}
),

toewijzingen as (
    select * from {{ ref('stg_raw__toewijzingen') }}
),

ending_stops as (
    select *
    from stops
    where reden_beeindiging <> '20'
        and end_date is not null
),

ranked_stops as (
    select
        *,
        row_number() over (
            partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer
            order by end_date desc nulls last, submission_id desc, line_number desc
        ) as stop_rank,
        count(*) over (
            partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer
        ) as ending_stop_count
    from ending_stops
),

assigned_categories as (
    -- the stop may omit the product category; the toewijzing then supplies it
    select
        gemeente_code,
        domein,
        aanbieder_agb,
        client_pseudonym,
        toewijzingnummer,
        max(productcategorie) as productcategorie
    from toewijzingen
    where is_accepted
    group by all
),

final as (
    select
        -- ids
        md5(concat_ws('|',
            ranked_stops.gemeente_code,
            ranked_stops.domein,
            ranked_stops.aanbieder_agb,
            ranked_stops.client_pseudonym,
            ranked_stops.toewijzingnummer
        )) as trajectory_id,
        ranked_stops.toewijzingnummer,
        ranked_stops.client_pseudonym,
        ranked_stops.stop_record_id,

        -- dimensions
        ranked_stops.gemeente_code,
        ranked_stops.domein,
        ranked_stops.aanbieder_agb,
        coalesce(ranked_stops.productcategorie, assigned_categories.productcategorie, 'onbekend')
            as productcategorie,
        ranked_stops.productcode,
        ranked_stops.reden_beeindiging,

        -- measures
        ranked_stops.ending_stop_count,

        -- dates
        ranked_stops.begin_date,
        ranked_stops.end_date

    from ranked_stops
    left join assigned_categories
        on ranked_stops.gemeente_code = assigned_categories.gemeente_code
        and ranked_stops.domein = assigned_categories.domein
        and ranked_stops.aanbieder_agb = assigned_categories.aanbieder_agb
        and ranked_stops.client_pseudonym = assigned_categories.client_pseudonym
        and ranked_stops.toewijzingnummer = assigned_categories.toewijzingnummer
    where ranked_stops.stop_rank = 1
)

select * from final
