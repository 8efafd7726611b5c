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

    Speed (one recursive query, one round per step): the rounds work on integer ids (cell,
    partition, one equation per hierarchy) instead of the key columns, what no round changes (is
    the cell a total, does its equation have one total and children, its size order) is worked out
    once, and a partition leaves the loop as soon as a round adds nothing to it.

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

suppression_ids as (
    -- Every round sorts and partitions the cells: on small integers instead of the key columns.
    -- cell_id follows the key order, so within an equation (all keys equal but one) it orders
    -- the cells as that hierarchy's values do; size_rank orders by count, then by cell_id.
    select
        *,
        row_number() over (order by cell_count, cell_id) as size_rank
    from (
        select
            dense_rank() over (order by {{ keys | join(', ') }}) as cell_id,
            dense_rank() over (order by {{ partition_by | join(', ') }}) as part_id,
            {%- for h in hierarchies %}
            {%- set equation = (partition_by + (hierarchies | reject('equalto', h) | list)) | join(', ') %}
            dense_rank() over (order by {{ equation }}) as equation_{{ loop.index }},
            {{ h }} = {{ total }} as is_total_{{ loop.index }},
            {%- endfor %}
            {{ count_column }} as cell_count,
            is_primary_suppressed
        from suppression_cells
    )
),

suppression_equations as (
    -- what never changes between rounds: an equation is one total with at least one child
    select
        cell_id,
        part_id,
        size_rank,
        {%- for h in hierarchies %}
        equation_{{ loop.index }},
        is_total_{{ loop.index }},
        count(*) filter (where is_total_{{ loop.index }}) over (partition by equation_{{ loop.index }}) = 1
            and count(*) filter (where not is_total_{{ loop.index }}) over (partition by equation_{{ loop.index }}) >= 1
            as is_equation_{{ loop.index }},
        {%- endfor %}
        is_primary_suppressed
    from suppression_ids
),

suppression_rounds (
    suppression_round, cell_id, part_id, size_rank,
    {%- for h in hierarchies %} equation_{{ loop.index }}, is_total_{{ loop.index }}, is_equation_{{ loop.index }},{% endfor %}
    is_hidden, any_added
) as (
    select
        0,
        cell_id,
        part_id,
        size_rank,
        {%- for h in hierarchies %}
        equation_{{ loop.index }},
        is_total_{{ loop.index }},
        is_equation_{{ loop.index }},
        {%- endfor %}
        is_primary_suppressed,
        true
    from suppression_equations

    union all

    -- Cells of different partitions never share an equation, so a partition in which the last
    -- round added nothing is final and leaves the loop; the others go round again.
    select
        suppression_round + 1,
        cell_id,
        part_id,
        size_rank,
        {%- for h in hierarchies %}
        equation_{{ loop.index }},
        is_total_{{ loop.index }},
        is_equation_{{ loop.index }},
        {%- endfor %}
        is_hidden or is_added,
        bool_or(is_added) over (partition by part_id)
    from (
        select
            *,
            not is_hidden and (
            {%- for h in hierarchies %}
                (
                    is_equation_{{ loop.index }}
                    and count(*) filter (where is_hidden) over (partition by equation_{{ loop.index }}) = 1
                    and case
                        -- the smallest visible child, or the total when no child is left visible
                        when is_total_{{ loop.index }} then
                            count(*) filter (where not is_total_{{ loop.index }} and not is_hidden)
                                over (partition by equation_{{ loop.index }}) = 0
                        else
                            min(size_rank) filter (where not is_total_{{ loop.index }} and not is_hidden)
                                over (partition by equation_{{ loop.index }}) = size_rank
                    end
                )
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
            ) as is_added
        from suppression_rounds
        where any_added
    )
),

suppression_final as (
    -- hiding only ever grows, so a cell's last state is whether any round hid it
    select
        cell_id,
        bool_or(is_hidden) as is_suppressed
    from suppression_rounds
    group by cell_id
),

suppression_keyed as (
    select
        suppression_cells.*,
        dense_rank() over (order by {{ keys | join(', ') }}) as suppression_cell_id
    from suppression_cells
)

select
    suppression_keyed.* exclude (suppression_cell_id),
    suppression_final.is_suppressed
from suppression_keyed
inner join suppression_final
    on suppression_keyed.suppression_cell_id = suppression_final.cell_id
{%- endmacro %}
