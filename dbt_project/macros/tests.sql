{#
    The few generic tests this project needs, written here because dbt packages (dbt_utils)
    cannot be installed offline: the package hub is unreachable.
#}

{# Each combination of `combination_of_columns` occurs at most once. #}
{% test unique_combination(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#
    Every row satisfies `expression` (a SQL boolean); rows where it is false or null fail.
    The tested model is aliased `tested`, for expressions with a correlated subquery.
#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }} as tested
    where not coalesce(({{ expression }}), false)
{% endtest %}
