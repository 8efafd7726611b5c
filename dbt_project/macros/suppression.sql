{#
    Primary and secondary (complementary) suppression of a table of counts, as one DuckDB query.

    `relation` is anything a FROM clause takes (a table, or a parenthesised query with an alias).
    Its rows are cells: `partition_by` columns fix a table (e.g. indicator and year: cells of
    different partitions never add up), and each column of `hierarchies` is a dimension in which
    the value `total` ('*') is the sum of the other values, all other columns being equal
    (gemeente '*' = the sum of the gemeenten, halfjaar '*' = H1 + H2, ...). So every hierarchy
    gives equations  parent = sum(children)  over the cells that agree on everything else.

    Primary: a cell with `count_column` below `threshold_column` is suppressed.
    Secondary: an equation with exactly one suppressed cell gives that cell away (total minus the
    visible siblings, or the sum of the visible children). For each such equation the smallest
    visible child (by count, then by value) is suppressed as well, or the total when no child is
    left visible. This repeats, along every hierarchy at once, until no equation has exactly one
    suppressed cell. Each round only adds suppressions, so it ends within as many rounds as there
    are cells; in practice after a few.

    The result: every column of `relation`, plus `is_primary_suppressed` and `is_suppressed`.
    Key columns (partition_by + hierarchies) must not be null and must identify a cell.

    Plain Jinja on purpose (no ref, var or adapter calls): tests/unit/test_suppression_property.py
    renders this very macro outside dbt and runs the SQL on random tables.
#}
{% macro suppress_cells(relation, partition_by, hierarchies, count_column='n', threshold_column='min_n', total="'*'") -%}
{%- set keys = partition_by + hierarchies -%}
with recursive

suppression_cells as (
    select
        *,
        {{ count_column }} < {{ threshold_column }} as is_primary_suppressed
    from {{ relation }}
),

suppression_rounds (suppression_round, {{ keys | join(', ') }}, cell_count, is_hidden, any_added) as (
    select
        0,
        {{ keys | join(', ') }},
        {{ count_column }},
        is_primary_suppressed,
        true
    from suppression_cells

    union all

    select
        suppression_round + 1,
        {{ keys | join(', ') }},
        cell_count,
        is_hidden or is_added,
        bool_or(is_added and not is_hidden) over ()
    from (
        select
            *,
            (
            {%- for h in hierarchies %}
                {%- set equation = (partition_by + (hierarchies | reject('equalto', h) | list)) | join(', ') %}
                (
                    not is_hidden
                    and count(*) filter (where is_hidden) over (partition by {{ equation }}) = 1
                    and count(*) filter (where {{ h }} = {{ total }}) over (partition by {{ equation }}) = 1
                    and count(*) filter (where {{ h }} <> {{ total }}) over (partition by {{ equation }}) >= 1
                    and (
                        (
                            {{ h }} <> {{ total }}
                            and row_number() over (
                                partition by {{ equation }}, ({{ h }} <> {{ total }} and not is_hidden)
                                order by cell_count, {{ h }}
                            ) = 1
                        )
                        or (
                            {{ h }} = {{ total }}
                            and count(*) filter (where {{ h }} <> {{ total }} and not is_hidden)
                                over (partition by {{ equation }}) = 0
                        )
                    )
                )
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
            ) as is_added
        from suppression_rounds
        where any_added
    )
),

suppression_final as (
    select *
    from suppression_rounds
    where suppression_round = (select max(suppression_round) from suppression_rounds)
)

select
    suppression_cells.*,
    suppression_final.is_hidden as is_suppressed
from suppression_cells
inner join suppression_final
    using ({{ keys | join(', ') }})
{%- endmacro %}
