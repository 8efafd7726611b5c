-- Every indicator observation in one shape, the input of fct_indicator's aggregation:
-- indicator, scope (a null provider, product category or informant only counts towards '*'),
-- the unit counted (for n), the date that decides the period, and numerator / denominator.
{%- set families = [
    'int_indicator_obs__trajectories',
    'int_indicator_obs__uitkomsten',
    'int_indicator_obs__zrm',
    'int_indicator_obs__clientervaring',
    'int_indicator_obs__uitputting',
] %}
with

{% for family in families %}
{{ family }} as (
    select * from {{ ref(family) }}
),
{% endfor %}

unioned as (
{%- for family in families %}
    select
        indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        productcategorie,
        informant,
        unit_id,
        observation_date,
        has_half_year,
        numerator,
        denominator,
        sum_of_squares
    from {{ family }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
),

final as (
    select *
    from unioned
    where gemeente_code is not null
        and domein in ('jeugd', 'wmo')
        and observation_date is not null
)

select * from final
