-- Jointly agreed results: per agreement its indicator's current value for the agreed scope and
-- period, against baseline and target, with attainment, trend and status.
-- Of agreements on the same indicator, scope and period the one agreed last counts (later
-- submission, then later line, on a tie): a renewed agreement replaces the old one.
-- is_suppressed comes from the published cells (int_indicator__publication_*), so the council's
-- agreement table hides exactly what the indicator tables hide; the trend only uses shown values.
with

agreements as (
    select * from {{ ref('stg_raw__afspraken') }}
),

indicators_per_domain as (
    select * from {{ ref('fct_indicator') }}
    where informant = '*'
),

both_domains as (
    -- an agreement on domein '*' is about Jeugd and Wmo together: their counts added up
    select
        indicator_code,
        gemeente_code,
        '*' as domein,
        aanbieder_agb,
        productcategorie,
        informant,
        period,
        period_type,
        case when bool_or(status = 'voorlopig') then 'voorlopig' else 'definitief' end as status,
        cast(sum(numerator) as bigint) as numerator,
        cast(sum(denominator) as bigint) as denominator,
        cast(sum(n) as bigint) as n,
        sum(numerator) / sum(denominator) as value,
        case when indicator_code not in ('TEVREDENHEID', 'UITPUTTING') then
            {{ wilson_bound('sum(numerator)', 'sum(denominator)', '-') }}
        end as ci_lower,
        case when indicator_code not in ('TEVREDENHEID', 'UITPUTTING') then
            {{ wilson_bound('sum(numerator)', 'sum(denominator)', '+') }}
        end as ci_upper,
        min(period_start_date) as period_start_date
    from indicators_per_domain
    group by indicator_code, gemeente_code, aanbieder_agb, productcategorie, informant, period, period_type
),

indicators as (
    select
        indicator_code, gemeente_code, domein, aanbieder_agb, productcategorie, informant, period, period_type,
        status, numerator, denominator, n, value, ci_lower, ci_upper, period_start_date
    from indicators_per_domain
    union all
    select * from both_domains
),

published_raad as (
    select * from {{ ref('int_indicator__publication_raad') }}
),

published_aanbieder as (
    select * from {{ ref('int_indicator__publication_aanbieder') }}
),

current_agreements as (
    select *
    from agreements
    where is_accepted
        and indicator_code is not null
        and periode is not null
    qualify row_number() over (
        partition by indicator_code, gemeente_code, domein, aanbieder_agb, productcategorie, periode
        order by agreed_date desc nulls last, submission_id desc, member_name desc, line_number desc
    ) = 1
),

published_cells as (
    -- every shown-or-hidden verdict, one per cell: council cells for '*'/'*', provider cells otherwise
    select indicator_code, gemeente_code, domein, aanbieder_agb, productcategorie, informant, period,
        is_suppressed, suppression_reden
    from published_raad
    union all
    select indicator_code, gemeente_code, domein, aanbieder_agb, productcategorie, informant, period,
        is_suppressed, suppression_reden
    from published_aanbieder
    where not (aanbieder_agb = '*' and productcategorie = '*')
),

cell_verdicts as (
    -- a cell of domein '*' (Jeugd and Wmo together) is not published by itself: it is shown only
    -- when neither of its two domains is hidden, so it can never give a hidden one away
    select indicator_code, gemeente_code, domein, aanbieder_agb, productcategorie, period,
        is_suppressed, suppression_reden
    from published_cells
    where informant = '*'
    union all
    select indicator_code, gemeente_code, '*', aanbieder_agb, productcategorie, period,
        bool_or(is_suppressed),
        max(suppression_reden)
    from published_cells
    where informant = '*'
    group by indicator_code, gemeente_code, aanbieder_agb, productcategorie, period
),

scoped as (
    select
        current_agreements.*,
        md5(concat_ws('|',
            current_agreements.indicator_code, current_agreements.gemeente_code, current_agreements.domein,
            current_agreements.aanbieder_agb, current_agreements.productcategorie, current_agreements.periode
        )) as afspraak_id,
        case when length(current_agreements.periode) = 4 then 'jaar' else 'halfjaar' end as period_type,
        case
            when length(current_agreements.periode) = 4
                then make_date(cast(current_agreements.periode as integer), 1, 1)
            else make_date(
                cast(left(current_agreements.periode, 4) as integer),
                case when right(current_agreements.periode, 1) = '1' then 1 else 7 end,
                1
            )
        end as period_start_date
    from current_agreements
),

dated as (
    select
        *,
        cast(
            period_start_date + case period_type when 'jaar' then to_months(12) else to_months(6) end
            - interval 1 day
            as date
        ) as period_end_date
    from scoped
),

with_value as (
    select
        dated.*,
        indicators.numerator,
        indicators.denominator,
        indicators.n,
        indicators.value,
        indicators.ci_lower,
        indicators.ci_upper,
        indicators.status as indicator_status,
        -- no figure at all is not a hidden figure; a figure without a verdict is hidden (fail safe)
        case when indicators.value is null then false else coalesce(cell_verdicts.is_suppressed, true) end
            as is_suppressed,
        case
            when indicators.value is not null and cell_verdicts.is_suppressed is null
                then 'afgeschermd: niet gepubliceerde combinatie'
            when indicators.value is not null then cell_verdicts.suppression_reden
        end as suppression_reden
    from dated
    left join indicators
        on dated.indicator_code = indicators.indicator_code
        and dated.gemeente_code = indicators.gemeente_code
        and dated.domein = indicators.domein
        and dated.aanbieder_agb = indicators.aanbieder_agb
        and dated.productcategorie = indicators.productcategorie
        and indicators.informant = '*'
        and dated.periode = indicators.period
    left join cell_verdicts
        on dated.indicator_code = cell_verdicts.indicator_code
        and dated.gemeente_code = cell_verdicts.gemeente_code
        and dated.domein = cell_verdicts.domein
        and dated.aanbieder_agb = cell_verdicts.aanbieder_agb
        and dated.productcategorie = cell_verdicts.productcategorie
        and dated.periode = cell_verdicts.period
),

trend_points as (
    -- the shown values of the same scope up to the agreed period's end: the half-years of the last
    -- two years; for survey questions (CEO_, yearly only) the last three years
    select
        dated.afspraak_id,
        indicators.period,
        indicators.value,
        case indicators.period_type
            when 'jaar' then year(indicators.period_start_date)
            else year(indicators.period_start_date) * 2 + (month(indicators.period_start_date) > 6)::integer
        end as point_index
    from dated
    inner join indicators
        on dated.indicator_code = indicators.indicator_code
        and dated.gemeente_code = indicators.gemeente_code
        and dated.domein = indicators.domein
        and dated.aanbieder_agb = indicators.aanbieder_agb
        and dated.productcategorie = indicators.productcategorie
        and indicators.informant = '*'
        and indicators.period_type = case when dated.indicator_code like 'CEO\_%' escape '\' then 'jaar' else 'halfjaar' end
        and indicators.period_start_date
            > dated.period_end_date - case when dated.indicator_code like 'CEO\_%' escape '\' then to_months(36) else to_months(24) end
        and indicators.period_start_date <= dated.period_end_date
    inner join cell_verdicts
        on indicators.indicator_code = cell_verdicts.indicator_code
        and indicators.gemeente_code = cell_verdicts.gemeente_code
        and indicators.domein = cell_verdicts.domein
        and indicators.aanbieder_agb = cell_verdicts.aanbieder_agb
        and indicators.productcategorie = cell_verdicts.productcategorie
        and indicators.period = cell_verdicts.period
        and not cell_verdicts.is_suppressed
),

trends as (
    select
        afspraak_id,
        list(period order by point_index) as trend_periods,
        list(value order by point_index) as trend_values,
        count(*) as trend_point_count,
        -- ordered: a float aggregate's last bits depend on the order rows reach it (threads)
        regr_slope(value, point_index order by point_index) as trend_slope
    from trend_points
    group by afspraak_id
),

final as (
    select
        -- ids
        with_value.afspraak_id,
        with_value.indicator_code,
        with_value.gemeente_code,
        with_value.domein,
        with_value.aanbieder_agb,
        with_value.productcategorie,
        with_value.periode as period,

        -- dimensions
        with_value.period_type,
        with_value.richting,
        coalesce(
            with_value.indicator_status,
            case
                when {{ as_of_date() }}
                    >= with_value.period_end_date + interval 1 day + to_months({{ var('months_until_definitief') }})
                    then 'definitief'
                else 'voorlopig'
            end
        ) as status,
        with_value.is_suppressed,
        with_value.suppression_reden,
        case
            when with_value.value is null then 'geen cijfer'
            when (with_value.richting = 'hoger' and with_value.value >= with_value.streefwaarde)
                or (with_value.richting = 'lager' and with_value.value <= with_value.streefwaarde) then 'behaald'
            when (with_value.richting = 'hoger' and with_value.value > with_value.baseline)
                or (with_value.richting = 'lager' and with_value.value < with_value.baseline) then 'op weg'
            else 'niet verbeterd'
        end as beoordeling,
        case
            when coalesce(trends.trend_point_count, 0) < 2 then 'onvoldoende gegevens'
            when trends.trend_slope * case with_value.richting when 'lager' then -1 else 1 end
                > 0.01 * greatest(abs(with_value.baseline), 0.1) then 'verbetert'
            when trends.trend_slope * case with_value.richting when 'lager' then -1 else 1 end
                < -0.01 * greatest(abs(with_value.baseline), 0.1) then 'verslechtert'
            else 'stabiel'
        end as trend,

        -- measures
        with_value.baseline,
        with_value.streefwaarde,
        with_value.value,
        with_value.numerator,
        with_value.denominator,
        with_value.n,
        with_value.ci_lower,
        with_value.ci_upper,
        -- the share of the way from baseline to target: 0 at the baseline, 1 at the target, below 0
        -- when it moved away from the target; with baseline = target: 1 when at least as good, else 0
        case
            when with_value.value is null then null
            when with_value.streefwaarde <> with_value.baseline
                then (with_value.value - with_value.baseline) / (with_value.streefwaarde - with_value.baseline)
            when (with_value.richting = 'hoger' and with_value.value >= with_value.streefwaarde)
                or (with_value.richting = 'lager' and with_value.value <= with_value.streefwaarde) then 1.0
            else 0.0
        end as attainment,
        trends.trend_periods,
        trends.trend_values,
        trends.trend_slope,

        -- dates
        with_value.agreed_date,
        with_value.period_start_date,
        with_value.period_end_date,

        -- lineage
        with_value.submission_id

    from with_value
    left join trends
        on with_value.afspraak_id = trends.afspraak_id
)

select * from final
