-- Corrections as in iJw: a credit line (debet_credit C) reverses the debit whose referentienummer
-- is its vorig_referentienummer; the provider then declares the corrected care as a new debit.
-- 8017: a credit needs such a debit of the same provider that is itself accepted (by ingest and by
-- the line checks) and not already credited: of several credits for one debit the first in content
-- order counts. The credited debit stays accepted (debit and credit cancel out in the net amount)
-- but is superseded; the new debit for the same care (same trajectory, product and period, in
-- another declaration than the corrected debit and dated no earlier than the credit) is recorded
-- as what superseded it.
with

checked as (
    select * from {{ ref('int_declaration_lines__checked') }}
),

credits as (
    select *
    from checked
    where debet_credit = 'C'
        and not fails_8021
),

accepted_debits as (
    select *
    from checked
    where debet_credit = 'D'
        and not fails_line_check
),

credit_matches as (
    select
        credits.declaration_line_id as credit_line_id,
        credits.referentienummer as credit_referentienummer,
        accepted_debits.declaration_line_id as debit_line_id,
        row_number() over (
            partition by accepted_debits.declaration_line_id order by credits.content_rank
        ) as credit_rank
    from credits
    inner join accepted_debits
        on credits.aanbieder_agb = accepted_debits.aanbieder_agb
        and credits.vorig_referentienummer = accepted_debits.referentienummer
),

accepted_credits as (
    select *
    from credit_matches
    where credit_rank = 1
),

superseded_debits as (
    select
        accepted_debits.*,
        accepted_credits.credit_referentienummer,
        credits.declaratie_dagtekening_date as credit_dagtekening_date
    from accepted_debits
    inner join accepted_credits
        on accepted_debits.declaration_line_id = accepted_credits.debit_line_id
    inner join credits
        on accepted_credits.credit_line_id = credits.declaration_line_id
),

replacements as (
    -- the first (content order) accepted, not superseded debit for the same care, declared in
    -- another declaration than the corrected debit, no earlier than the credit (dagtekening)
    select
        superseded_debits.declaration_line_id as superseded_line_id,
        arg_min(replacing.referentienummer, replacing.content_rank) as replacing_referentienummer
    from superseded_debits
    inner join accepted_debits as replacing
        on replacing.aanbieder_agb = superseded_debits.aanbieder_agb
        and replacing.gemeente_code = superseded_debits.gemeente_code
        and replacing.domein = superseded_debits.domein
        and replacing.client_pseudonym is not distinct from superseded_debits.client_pseudonym
        and replacing.toewijzingnummer is not distinct from superseded_debits.toewijzingnummer
        and replacing.productcode is not distinct from superseded_debits.productcode
        and replacing.period_start_date = superseded_debits.period_start_date
        and replacing.period_end_date = superseded_debits.period_end_date
        and replacing.declaratienummer is distinct from superseded_debits.declaratienummer
        and (replacing.declaratie_dagtekening_date >= superseded_debits.credit_dagtekening_date
            or replacing.declaratie_dagtekening_date is null
            or superseded_debits.credit_dagtekening_date is null)
    where not exists (
        select 1 from superseded_debits as also_superseded
        where also_superseded.declaration_line_id = replacing.declaration_line_id
    )
    group by superseded_debits.declaration_line_id
),

final as (
    select
        checked.*,
        checked.debet_credit = 'C' and not checked.fails_8021 and accepted_credits.credit_line_id is null
            as fails_8017,
        superseded_debits.declaration_line_id is not null as is_superseded,
        superseded_debits.credit_referentienummer as credited_by_referentienummer,
        replacements.replacing_referentienummer as superseded_by_referentienummer
    from checked
    left join accepted_credits
        on checked.declaration_line_id = accepted_credits.credit_line_id
    left join superseded_debits
        on checked.declaration_line_id = superseded_debits.declaration_line_id
    left join replacements
        on checked.declaration_line_id = replacements.superseded_line_id
)

select * from final
