-- Council dashboard: net accepted declared amount per municipality, domain, provider, product
-- category and month. Only months with accepted lines; no client or pseudonym column.
-- A provider x category cell with fewer than var('min_denominator') accepted lines in a month
-- could describe one or two clients' care: such cells are not shown by themselves but pooled per
-- municipality, domain and month into one row with aanbieder_agb and productcategorie '*'.
-- Totals per municipality and month stay exact. (The column set is a dashboard contract: the
-- pooled row is recognised by its '*'.)
with

amounts as (
    select * from {{ ref('fct_declared_amount_monthly') }}
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

shown as (
    select
        *,
        accepted_line_count < {{ var('min_denominator') }} as is_samengevoegd
    from amounts
    where accepted_line_count > 0
),

pooled as (
    select
        gemeente_code,
        domein,
        case when is_samengevoegd then '*' else aanbieder_agb end as aanbieder_agb,
        case when is_samengevoegd then '*' else productcategorie end as productcategorie,
        month_start_date,
        is_samengevoegd,
        cast(sum(bedrag_cents) as bigint) as bedrag_cents,
        cast(sum(accepted_line_count) as bigint) as line_count,
        cast(count(*) as bigint) as cell_count
    from shown
    group by all
),

final as (
    select
        -- ids
        pooled.gemeente_code,
        coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || pooled.gemeente_code)
            as gemeente_naam,
        pooled.domein,
        pooled.aanbieder_agb,
        pooled.productcategorie,
        pooled.month_start_date,

        -- measures
        pooled.bedrag_cents,
        cast(pooled.bedrag_cents as double) / 100 as bedrag_euro,
        pooled.line_count

    from pooled
    left join municipalities
        on pooled.gemeente_code = municipalities.gemeente_code
)

select * from final
