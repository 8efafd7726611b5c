-- Council dashboard: net accepted declared amount per municipality, domain, provider, product
-- category and month. Only months with accepted lines; no client or pseudonym column.
with

amounts as (
    select * from {{ ref('fct_declared_amount_monthly') }}
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

final as (
    select
        -- ids
        amounts.gemeente_code,
        coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || amounts.gemeente_code)
            as gemeente_naam,
        amounts.domein,
        amounts.aanbieder_agb,
        amounts.productcategorie,
        amounts.month_start_date,

        -- measures
        amounts.bedrag_cents,
        cast(amounts.bedrag_cents as double) / 100 as bedrag_euro,
        amounts.accepted_line_count as line_count

    from amounts
    left join municipalities
        on amounts.gemeente_code = municipalities.gemeente_code
    where amounts.accepted_line_count > 0
)

select * from final
