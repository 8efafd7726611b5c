{#
    The cells of fct_indicator one published table shows, with the publishing rules of DOMAIN.md
    applied (a SQL query): primary suppression when n is below var('min_denominator') (10), for
    survey questions (CEO_) below var('min_survey_answers') (30); secondary suppression along every
    hierarchy the table publishes (`hierarchies`, among gemeente_code, aanbieder_agb,
    productcategorie, informant and period_half, the year being the sum of its half-years), see
    suppress_cells. `where` selects the table's cells. Adds is_primary_suppressed, is_suppressed
    and suppression_reden (Dutch).
#}
{% macro indicator_publication(where, hierarchies) -%}
with

indicators as (
    select * from {{ ref('fct_indicator') }}
),

cells as (
    select
        *,
        left(period, 4) as period_year,
        case when period_type = 'halfjaar' then right(period, 2) else '*' end as period_half,
        case
            when indicator_code like 'CEO\_%' escape '\' then {{ var('min_survey_answers', 30) }}
            else {{ var('min_denominator') }}
        end as min_n
    from indicators
    where {{ where }}
),

suppressed as (
    {{ suppress_cells(
        relation='cells',
        partition_by=['indicator_code', 'domein', 'period_year'],
        hierarchies=hierarchies,
        count_column='n',
        threshold_column='min_n',
    ) | indent(4) }}
),

final as (
    select
        * exclude (period_year, period_half),
        case
            when is_primary_suppressed and indicator_code like 'CEO\_%' escape '\'
                then 'te weinig waarnemingen (minder dan ' || min_n || ' antwoorden)'
            when is_primary_suppressed
                then 'te weinig waarnemingen (minder dan ' || min_n || ')'
            when is_suppressed
                then 'afgeschermd: anders te herleiden uit een totaal'
        end as suppression_reden
    from suppressed
)

select * from final
{%- endmacro %}
