{#
    One bound of the 95% Wilson score interval of a proportion `successes` / `trials` as a SQL
    expression: sign '-' gives the lower bound, '+' the upper. Clamped to [0, 1]; null when
    `trials` is 0. (Wilson rather than the normal approximation: it stays inside [0, 1] and
    behaves for small n and for shares near 0 or 1.)
#}
{% macro wilson_bound(successes, trials, sign, z=1.96) -%}
    case when {{ trials }} > 0 then
        {{ 'greatest(0.0, ' if sign == '-' else 'least(1.0, ' }}
        (
            (cast({{ successes }} as double) / {{ trials }} + {{ z * z }} / (2.0 * {{ trials }}))
            {{ sign }} {{ z }} * sqrt(
                (cast({{ successes }} as double) / {{ trials }})
                * (1 - cast({{ successes }} as double) / {{ trials }}) / {{ trials }}
                + {{ z * z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z * z }} / {{ trials }})
        )
    end
{%- endmacro %}
