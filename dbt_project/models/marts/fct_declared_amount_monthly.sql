-- Net accepted declared amount per municipality x domain x provider x product category x month
-- of the product period: debits add, credits subtract, rejected lines only count as lines.
-- Accepted means the final status of fct_declaration_line (ingest and relational checks).
-- Lines missing one of these keys (possible only on rejected lines) are in fct_declaration_line
-- and not here.
with

declaration_lines as (
    select * from {{ ref('fct_declaration_line') }}
),

with_verdict as (
    select
        *,
        status = 'geaccepteerd' as is_accepted
    from declaration_lines
),

keyed_lines as (
    select *
    from with_verdict
    where gemeente_code is not null
        and domein is not null
        and aanbieder_agb is not null
        and productcategorie is not null
        and month_start_date is not null
),

final as (
    select
        -- ids
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        month_start_date,

        -- measures
        cast(coalesce(sum(signed_bedrag_cents) filter (where is_accepted), 0) as bigint) as bedrag_cents,
        cast(coalesce(sum(bedrag_cents) filter (where is_accepted and debet_credit = 'D'), 0) as bigint)
            as debet_cents,
        cast(coalesce(sum(bedrag_cents) filter (where is_accepted and debet_credit = 'C'), 0) as bigint)
            as credit_cents,
        cast(count(*) filter (where is_accepted) as bigint) as accepted_line_count,
        cast(count(*) filter (where not is_accepted) as bigint) as rejected_line_count

    from keyed_lines
    group by all
)

select * from final
