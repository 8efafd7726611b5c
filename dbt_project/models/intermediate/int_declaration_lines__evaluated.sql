-- The volume checks and the final relational verdict per line ingest accepted.
--
-- Volume (9321/9322) is checked on the debits that count: accepted by the other checks and not
-- superseded by a correction, on a toewijzing with a volume, a frequentie (WMO757) and the same
-- eenheid as the line (or none). What is allowed:
--   frequentie 1 per dag:  volume x days           (of the product period; of the month's part of the toewijzing)
--   frequentie 2 per week: ceil(volume x days / 7) (idem)
--   frequentie 4 per maand: volume per calendar month (product periods lie within one month)
--   frequentie 6 totaal:    volume over the whole toewijzing
-- 9321: the line alone exceeds what is allowed for its product period. 9322: the line, added to the
-- accepted lines before it in content order within the same month (frequentie 1, 2, 4) or the
-- whole toewijzing (6), exceeds what is allowed there: first come, first served, in content order
-- (never arrival order); a rejected line does not use up volume, so a later, smaller line can fit.
with recursive

corrected as (
    select * from {{ ref('int_declaration_lines__corrected') }}
),

volume_checked as (
    select
        *,
        debet_credit = 'D' and not fails_line_check and not is_superseded
            and toewijzing_volume is not null
            and toewijzing_frequentie in ('1', '2', '4', '6')
            and (toewijzing_eenheid is null or toewijzing_eenheid = eenheid)
            as has_volume_check
    from corrected
),

allowances as (
    select
        *,
        date_diff('day', period_start_date, period_end_date) + 1 as period_days,
        date_diff(
            'day',
            greatest(month_start_date, toewijzing_start_date),
            least(last_day(month_start_date), coalesce(toewijzing_end_date, last_day(month_start_date)))
        ) + 1 as month_days,
        case when toewijzing_frequentie = '6' then null else month_start_date end as volume_window
    from volume_checked
),

line_limits as (
    select
        *,
        case toewijzing_frequentie
            when '1' then toewijzing_volume * period_days
            when '2' then cast(ceil(toewijzing_volume * period_days / 7.0) as bigint)
            when '4' then toewijzing_volume
            when '6' then toewijzing_volume
        end as allowed_line_volume,
        case toewijzing_frequentie
            when '1' then toewijzing_volume * month_days
            when '2' then cast(ceil(toewijzing_volume * month_days / 7.0) as bigint)
            when '4' then toewijzing_volume
            when '6' then toewijzing_volume
        end as allowed_window_volume
    from allowances
),

line_verdicts as (
    select
        *,
        has_volume_check and volume > allowed_line_volume as fails_9321
    from line_limits
),

windowed as (
    -- the lines that use up volume, numbered per toewijzing and window, with the volume up to and
    -- including each line
    select
        declaration_line_id,
        toewijzing_record_id,
        volume_window,
        volume,
        allowed_window_volume,
        row_number() over volume_order as window_position,
        sum(volume) over (volume_order rows between unbounded preceding and current row) as running_volume
    from line_verdicts
    where has_volume_check
        and not fails_9321
    window volume_order as (partition by toewijzing_record_id, volume_window order by content_rank)
),

first_overflows as (
    -- Until the first line that does not fit, every line fits and what is used is the running
    -- volume; only from there on does the walk below need to go line by line.
    select
        toewijzing_record_id,
        volume_window,
        min(window_position) as window_position
    from windowed
    where running_volume > allowed_window_volume
    group by toewijzing_record_id, volume_window
),

after_overflow as (
    select windowed.*
    from windowed
    inner join first_overflows
        on windowed.toewijzing_record_id = first_overflows.toewijzing_record_id
        and windowed.volume_window is not distinct from first_overflows.volume_window
        and windowed.window_position >= first_overflows.window_position
),

walked as (
    -- one step per line from the first that does not fit: accepted when it fits in what is left
    select
        after_overflow.declaration_line_id,
        after_overflow.toewijzing_record_id,
        after_overflow.volume_window,
        after_overflow.window_position,
        true as fails_9322,
        after_overflow.running_volume - after_overflow.volume as used_volume
    from after_overflow
    inner join first_overflows
        on after_overflow.toewijzing_record_id = first_overflows.toewijzing_record_id
        and after_overflow.volume_window is not distinct from first_overflows.volume_window
        and after_overflow.window_position = first_overflows.window_position
    union all
    select
        after_overflow.declaration_line_id,
        after_overflow.toewijzing_record_id,
        after_overflow.volume_window,
        after_overflow.window_position,
        walked.used_volume + after_overflow.volume > after_overflow.allowed_window_volume as fails_9322,
        walked.used_volume
            + case when walked.used_volume + after_overflow.volume > after_overflow.allowed_window_volume then 0
                else after_overflow.volume end as used_volume
    from walked
    inner join after_overflow
        on after_overflow.toewijzing_record_id = walked.toewijzing_record_id
        and after_overflow.volume_window is not distinct from walked.volume_window
        and after_overflow.window_position = walked.window_position + 1
),

verdicts as (
    select
        line_verdicts.*,
        coalesce(walked.fails_9322, false) as fails_9322
    from line_verdicts
    left join walked
        on line_verdicts.declaration_line_id = walked.declaration_line_id
),

final as (
    select
        *,
        fails_line_check or fails_8017 or fails_9321 or fails_9322 as is_rejected,
        list_filter(
            [
                case when fails_8021 then '8021' end,
                case when fails_9338 then '9338' end,
                case when fails_9384 then '9384' end,
                case when fails_9307 then '9307' end,
                case when fails_9308 then '9308' end,
                case when fails_0611 then '0611' end,
                case when fails_8017 then '8017' end,
                case when fails_9321 then '9321' end,
                case when fails_9322 then '9322' end,
                -- signals only on lines that are accepted: a rejected line needs no second remark
                case when not (fails_line_check or fails_8017 or fails_9321 or fails_9322) and is_after_stop
                    then 'OM201' end,
                case when not (fails_line_check or fails_8017 or fails_9321 or fails_9322) and is_without_start
                    then 'OM202' end
            ],
            lambda code: code is not null
        ) as relational_finding_codes
    from verdicts
)

select * from final
