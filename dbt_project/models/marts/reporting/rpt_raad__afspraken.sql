-- Council dashboard: each jointly agreed result against its baseline and target, with the
-- current value (hidden when the indicator tables hide it), attainment, trend and status.
-- No client or pseudonym column.
with

agreements as (
    select * from {{ ref('fct_afspraak') }}
),

indicator_names as (
    select * from {{ ref('indicatoren') }}
),

questions as (
    select indicator_code, min(vraag_tekst) as vraag_tekst
    from {{ ref('ceo_vragen') }}
    group by indicator_code
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

final as (
    select
        -- ids
        agreements.afspraak_id,
        agreements.indicator_code,
        coalesce(
            indicator_names.indicator_naam,
            'Cliëntervaring: ' || questions.vraag_tekst,
            agreements.indicator_code
        ) as indicator_naam,
        agreements.gemeente_code,
        case
            when agreements.gemeente_code = '*' then 'Hele regio'
            else coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || agreements.gemeente_code)
        end as gemeente_naam,
        agreements.domein,
        case agreements.domein when 'jeugd' then 'Jeugd' when 'wmo' then 'Wmo' else 'Jeugd en Wmo' end
            as domein_naam,
        agreements.aanbieder_agb,
        agreements.productcategorie,
        agreements.period,

        -- dimensions
        agreements.period_type,
        agreements.richting,
        agreements.status,
        agreements.is_suppressed,
        agreements.suppression_reden,
        case when agreements.is_suppressed then 'afgeschermd' else agreements.beoordeling end as beoordeling,
        agreements.trend,
        array_to_string(
            list_transform(
                list_zip(agreements.trend_periods, agreements.trend_values),
                lambda x: x[1] || ': ' || replace(cast(round(x[2], 3) as varchar), '.', ',')
            ),
            ' · '
        ) as trend_reeks,

        -- measures
        agreements.baseline,
        agreements.streefwaarde,
        case when not agreements.is_suppressed then agreements.value end as value,
        case when not agreements.is_suppressed then agreements.n end as n,
        case when not agreements.is_suppressed then agreements.ci_lower end as ci_lower,
        case when not agreements.is_suppressed then agreements.ci_upper end as ci_upper,
        case when not agreements.is_suppressed then agreements.attainment end as attainment,
        agreements.trend_values[-1] as laatste_trendwaarde,

        -- dates
        agreements.agreed_date,
        agreements.period_start_date,
        agreements.period_end_date

    from agreements
    left join indicator_names
        on agreements.indicator_code = indicator_names.indicator_code
    left join questions
        on agreements.indicator_code = questions.indicator_code
    left join municipalities
        on agreements.gemeente_code = municipalities.gemeente_code
)

select * from final
