-- Provider dashboard: completeness and timeliness per provider, gemeente, domein, kind and period,
-- with Dutch labels and rates. Provider-level figures, not about clients, so nothing is suppressed;
-- who may see which provider's rows is left to row-level security (a later issue).
with

completeness as (
    select * from {{ ref('fct_completeness') }}
),

schedule as (
    select * from {{ ref('aanleverschema') }}
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

final as (
    select
        -- ids
        completeness.aanbieder_agb,
        completeness.gemeente_code,
        coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || completeness.gemeente_code)
            as gemeente_naam,
        completeness.domein,
        completeness.soort,
        completeness.period,

        -- dimensions
        completeness.period_type,
        completeness.status,
        case completeness.status
            when 'compleet' then 'Compleet'
            when 'onvolledig' then 'Onvolledig'
            when 'te_laat' then 'Te laat'
            when 'nog_niet_verwacht' then 'Nog niet verwacht'
        end as status_omschrijving,
        schedule.omschrijving as regel,

        -- measures
        completeness.expected_count,
        completeness.received_count,
        completeness.on_time_count,
        cast(completeness.received_count as double) / completeness.expected_count as received_share,
        cast(completeness.on_time_count as double) / completeness.expected_count as on_time_share,

        -- dates
        completeness.period_start_date,
        completeness.due_date,
        completeness.first_received_date

    from completeness
    left join schedule
        on completeness.soort = schedule.soort
    left join municipalities
        on completeness.gemeente_code = municipalities.gemeente_code
)

select * from final
