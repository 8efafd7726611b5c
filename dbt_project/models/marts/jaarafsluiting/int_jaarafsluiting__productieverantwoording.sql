{{ config(schema='intermediate') }}
-- The productieverantwoording that counts per provider and year, one row per gemeente x domein x
-- productcode of it, with the provider-year facts the findings need (turnover, controleverklaring).
--
-- A provider may deliver more than once for a year (a concept, then the definitief version, or a
-- correction): one submission counts, the definitief before a concept, then the latest received
-- (manifest), then the highest submission id; all its accepted rows count (summed per product, in
-- case a provider splits a product over rows). Rows ingest rejected never count.
-- Turnover (omzet) is the total bedrag of that statement over all gemeenten: the provider's
-- national turnover as far as this warehouse knows it. A controleverklaring is required above
-- var('controleverklaring_drempel_cents') (EUR 125,000).
--
-- Reads the raw source itself: stg_raw__productieverantwoordingen keeps only what completeness
-- needs (no productcode, volume, bedrag or controleverklaring). Like stg_raw__toewijzingen it needs
-- no guard for an empty raw zone: build.run_dbt writes an empty typed file for every record type.
with

source as (
    select * from {{ source('raw', 'productieverantwoording') }}
),

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

accepted_rows as (
    select
        submission_id,
        aanbieder_agb,
        cast(jaar as integer) as verslagjaar,
        gemeente_code,
        domein,
        productcode,
        volume,
        bedrag_cents,
        controleverklaring,
        versie
    from source
    where status = 'geaccepteerd'
        and aanbieder_agb is not null
        and jaar is not null
),

statements as (
    -- one row per provider, year and submission
    select
        accepted_rows.aanbieder_agb,
        accepted_rows.verslagjaar,
        accepted_rows.submission_id,
        bool_or(accepted_rows.versie = 'definitief') as is_definitief,
        -- 'ja' only when every row of the statement says so
        case when bool_and(accepted_rows.controleverklaring = 'ja') then 'ja' else 'nee' end as controleverklaring,
        cast(sum(accepted_rows.bedrag_cents) as bigint) as omzet_cents,
        max(submissions.received_at) as received_at
    from accepted_rows
    left join submissions
        on accepted_rows.submission_id = submissions.submission_id
    group by accepted_rows.aanbieder_agb, accepted_rows.verslagjaar, accepted_rows.submission_id
),

chosen_statements as (
    select *
    from statements
    qualify row_number() over (
        partition by aanbieder_agb, verslagjaar
        order by is_definitief desc, received_at desc nulls last, submission_id desc
    ) = 1
),

final as (
    select
        chosen_statements.verslagjaar,
        chosen_statements.aanbieder_agb,
        accepted_rows.gemeente_code,
        accepted_rows.domein,
        accepted_rows.productcode,
        chosen_statements.submission_id,
        case when chosen_statements.is_definitief then 'definitief' else 'concept' end as versie,
        chosen_statements.controleverklaring,
        chosen_statements.omzet_cents,
        coalesce(chosen_statements.omzet_cents > {{ var('controleverklaring_drempel_cents') }}, false)
            as is_controleverklaring_vereist,
        coalesce(
            chosen_statements.omzet_cents > {{ var('controleverklaring_drempel_cents') }}
            and chosen_statements.controleverklaring <> 'ja',
            false
        ) as is_controleverklaring_ontbreekt,
        cast(sum(accepted_rows.volume) as bigint) as pv_volume,
        cast(sum(accepted_rows.bedrag_cents) as bigint) as pv_bedrag_cents
    from chosen_statements
    inner join accepted_rows
        on chosen_statements.submission_id = accepted_rows.submission_id
        and chosen_statements.aanbieder_agb = accepted_rows.aanbieder_agb
        and chosen_statements.verslagjaar = accepted_rows.verslagjaar
    group by all
)

select * from final
