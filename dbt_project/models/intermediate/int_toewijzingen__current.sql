-- The version of each toewijzing that counts now. A municipality re-sends a toewijzing when it
-- changes (extension, shortening, correction, deletion with reden wijziging 13); the latest by
-- toewijzingsdatum decides. Ties, and versions without a toewijzingsdatum, are ordered by content
-- (submission id, line number), never by arrival, so the result only depends on what was received.
with

toewijzingen as (
    select * from {{ ref('stg_raw__toewijzingen') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer
            order by toewijzing_date desc nulls last, submission_id desc, member_name desc, line_number desc
        ) as version_rank,
        count(*) over (
            partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, toewijzingnummer
        ) as version_count
    from toewijzingen
    where is_accepted
        and toewijzingnummer is not null
),

final as (
    select
        -- ids
        toewijzing_record_id,
        submission_id,
        toewijzingnummer,
        client_pseudonym,

        -- dimensions
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        productcode,
        eenheid,
        frequentie,
        reden_wijziging,
        coalesce(reden_wijziging = '13', false) as is_deleted,

        -- measures
        volume,
        budget_cents,
        version_count,

        -- dates
        toewijzing_date,
        start_date,
        end_date

    from ranked
    where version_rank = 1
)

select * from final
