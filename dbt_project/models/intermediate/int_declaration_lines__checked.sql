-- The relational checks a declaration line can fail on its own (against the toewijzing, the
-- contract tariff, start/stop messages) and the duplicate check 8021. Only lines ingest accepted
-- are evaluated; every check is recomputed from all received data on every build, so the outcome
-- never depends on the order in which files arrived.
--
-- Which toewijzing: the current version (int_toewijzingen__current) with the same gemeente,
-- domein, aanbieder, client and toewijzingnummer; its productcategorie and productcode must equal
-- the line's where the toewijzing has them. The toewijzing checks (9338, 9384, 9307, 9308) only
-- apply in a gemeente x domein that has delivered toewijzingen at all: without them nothing can be
-- checked (as 0611 is not applied without a contract tariff).
with

lines as (
    select * from {{ ref('stg_raw__declaratie_regels') }}
),

toewijzingen as (
    select * from {{ ref('int_toewijzingen__current') }}
),

tariffs as (
    select * from {{ ref('stg_raw__contracttarieven') }}
),

starts as (
    select * from {{ ref('int_starts__effective') }}
),

ended_trajectories as (
    select * from {{ ref('int_trajectories__ended') }}
),

accepted_lines as (
    select *
    from lines
    where is_accepted
),

content_order as (
    -- one deterministic order for everything cumulative (corrections, volumes); numbered on the
    -- few columns it needs, as a window sorts every column it is given
    select
        declaration_line_id,
        row_number() over (
            order by period_start_date, declaratie_dagtekening_date nulls last, declaratienummer, submission_id,
                member_name, line_number
        ) as content_rank
    from accepted_lines
),

ingest_accepted as (
    select
        accepted_lines.*,
        content_order.content_rank
    from accepted_lines
    inner join content_order
        on accepted_lines.declaration_line_id = content_order.declaration_line_id
),

checked_domains as (
    select distinct gemeente_code, domein
    from toewijzingen
),

with_toewijzing as (
    select
        ingest_accepted.*,
        checked_domains.gemeente_code is not null as has_toewijzing_check,
        toewijzingen.toewijzing_record_id,
        toewijzingen.is_deleted as toewijzing_is_deleted,
        toewijzingen.start_date as toewijzing_start_date,
        toewijzingen.end_date as toewijzing_end_date,
        toewijzingen.volume as toewijzing_volume,
        toewijzingen.eenheid as toewijzing_eenheid,
        toewijzingen.frequentie as toewijzing_frequentie
    from ingest_accepted
    left join checked_domains
        on ingest_accepted.gemeente_code = checked_domains.gemeente_code
        and ingest_accepted.domein = checked_domains.domein
    left join toewijzingen
        on ingest_accepted.gemeente_code = toewijzingen.gemeente_code
        and ingest_accepted.domein = toewijzingen.domein
        and ingest_accepted.aanbieder_agb = toewijzingen.aanbieder_agb
        and ingest_accepted.client_pseudonym = toewijzingen.client_pseudonym
        and ingest_accepted.toewijzingnummer = toewijzingen.toewijzingnummer
        and (toewijzingen.productcategorie is null
            or toewijzingen.productcategorie is not distinct from ingest_accepted.productcategorie)
        and (toewijzingen.productcode is null
            or toewijzingen.productcode is not distinct from ingest_accepted.productcode)
),

tariff_matches as (
    -- contract tariffs valid on the first day of the product period; no tariff known: 0611 not applied
    select
        with_toewijzing.declaration_line_id,
        count(*) as valid_tariff_count,
        bool_or(tariffs.tarief_cents = with_toewijzing.tarief_cents) as matches_a_tariff,
        min(tariffs.tarief_cents) as contract_tarief_cents
    from with_toewijzing
    inner join tariffs
        on tariffs.is_accepted
        and with_toewijzing.gemeente_code = tariffs.gemeente_code
        and with_toewijzing.aanbieder_agb = tariffs.aanbieder_agb
        and with_toewijzing.domein = tariffs.domein
        and with_toewijzing.productcode = tariffs.productcode
        and (tariffs.eenheid is null or tariffs.eenheid = with_toewijzing.eenheid)
        and with_toewijzing.period_start_date >= tariffs.start_date
        and (tariffs.end_date is null or with_toewijzing.period_start_date <= tariffs.end_date)
    group by with_toewijzing.declaration_line_id
),

flagged as (
    select
        with_toewijzing.*,
        tariff_matches.contract_tarief_cents,
        coalesce(
            debet_credit = 'D' and has_toewijzing_check and toewijzing_record_id is null, false
        ) as fails_9338,
        coalesce(debet_credit = 'D' and has_toewijzing_check and toewijzing_is_deleted, false) as fails_9384,
        coalesce(
            debet_credit = 'D' and has_toewijzing_check and not toewijzing_is_deleted
            and period_start_date < toewijzing_start_date, false
        ) as fails_9307,
        coalesce(
            debet_credit = 'D' and has_toewijzing_check and not toewijzing_is_deleted
            and period_end_date > toewijzing_end_date, false
        ) as fails_9308,
        coalesce(
            debet_credit = 'D' and tariff_matches.valid_tariff_count > 0 and not tariff_matches.matches_a_tariff,
            false
        ) as fails_0611,
        debet_credit = 'D' and exists (
            select 1
            from ended_trajectories
            where ended_trajectories.gemeente_code = with_toewijzing.gemeente_code
                and ended_trajectories.domein = with_toewijzing.domein
                and ended_trajectories.aanbieder_agb = with_toewijzing.aanbieder_agb
                and ended_trajectories.client_pseudonym = with_toewijzing.client_pseudonym
                and ended_trajectories.toewijzingnummer = with_toewijzing.toewijzingnummer
                and with_toewijzing.period_start_date > ended_trajectories.end_date
        ) as is_after_stop,
        debet_credit = 'D' and not exists (
            select 1
            from starts
            where starts.gemeente_code = with_toewijzing.gemeente_code
                and starts.domein = with_toewijzing.domein
                and starts.aanbieder_agb = with_toewijzing.aanbieder_agb
                and starts.client_pseudonym = with_toewijzing.client_pseudonym
                and starts.toewijzingnummer = with_toewijzing.toewijzingnummer
        ) as is_without_start
    from with_toewijzing
    left join tariff_matches
        on with_toewijzing.declaration_line_id = tariff_matches.declaration_line_id
),

referentie_order as (
    -- 8021: per provider, the earliest by dagtekening keeps the referentienummer, ties broken by
    -- content. Only lines that pass the other checks take part: a line rejected for another reason
    -- may be sent again, corrected, with the same referentienummer. (Narrow, as content_order.)
    select
        declaration_line_id,
        row_number() over (
            partition by aanbieder_agb, referentienummer
            order by declaratie_dagtekening_date nulls last, declaratienummer, submission_id, member_name,
                line_number
        ) > 1 as is_repeated_referentie
    from flagged
    where not (fails_9338 or fails_9384 or fails_9307 or fails_9308 or fails_0611)
),

deduplicated as (
    select
        flagged.*,
        coalesce(referentie_order.is_repeated_referentie, false) as fails_8021
    from flagged
    left join referentie_order
        on flagged.declaration_line_id = referentie_order.declaration_line_id
),

final as (
    select
        *,
        fails_8021 or fails_9338 or fails_9384 or fails_9307 or fails_9308 or fails_0611 as fails_line_check
    from deduplicated
)

select * from final
