-- Observations of UITPUTTING: declared volume (numerator) against assigned volume (denominator)
-- per toewijzing and month, counted in the month's half-year and year.
with

volumes as (
    select * from {{ ref('int_toewijzingen__uitputting') }}
),

final as (
    select
        'UITPUTTING' as indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        cast(null as varchar) as informant,
        toewijzing_id as unit_id,
        month_start_date as observation_date,
        true as has_half_year,
        declared_volume as numerator,
        assigned_volume as denominator,
        cast(null as double) as sum_of_squares
    from volumes
)

select * from final
