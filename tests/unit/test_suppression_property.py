"""Secondary suppression, proved on random tables: the very SQL the dbt models run, in DuckDB.

`dbt_project/macros/suppression.sql` (macro ``suppress_cells``) is plain Jinja, so it is rendered
here with jinja2 exactly as dbt renders it for ``int_indicator__publication_raad`` and
``_aanbieder``. Hypothesis draws tables of counts with one to three hierarchies (each value of a
hierarchy, and ``*`` for the sum of its values), builds every total, drops cells whose
denominator is 0 (fct_indicator has no such rows) and checks what a reader could do with the
result: no cell under its threshold is visible, and no suppressed cell's numerator or
denominator equals a published total minus its visible siblings (or a suppressed total the sum of
its visible children).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import duckdb
import jinja2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MACRO = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "suppression.sql"
TOTAL = "*"


def suppression_sql(relation: str, partition_by: list[str], hierarchies: list[str]) -> str:
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        MACRO.read_text(encoding="utf-8")
        + "{{ suppress_cells(relation, partition_by, hierarchies, count_column='n', threshold_column='min_n') }}"
    )
    return template.render(relation=relation, partition_by=partition_by, hierarchies=hierarchies)


def run_suppression(cells: list[dict], hierarchies: list[str]) -> list[dict]:
    columns = ["part", *hierarchies, "numerator", "denominator", "n", "min_n"]
    with duckdb.connect() as con:
        con.execute(
            "create table cells (part varchar, "
            + ", ".join(f"{h} varchar" for h in hierarchies)
            + ", numerator bigint, denominator bigint, n bigint, min_n bigint)"
        )
        if cells:
            con.executemany(
                f"insert into cells values ({', '.join('?' for _ in columns)})",
                [[cell[c] for c in columns] for cell in cells],
            )
        cursor = con.execute(suppression_sql("cells", ["part"], hierarchies))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def cube(leaves: dict[tuple, tuple[int, int]], n_dims: int) -> dict[tuple, tuple[int, int]]:
    """Every cell: each dimension a value or '*', summed over the leaves below it."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for key, (num, den) in leaves.items():
        for mask in itertools.product((False, True), repeat=n_dims):
            cell = tuple(TOTAL if star else value for value, star in zip(key, mask, strict=True))
            totals[cell][0] += num
            totals[cell][1] += den
    return {cell: (num, den) for cell, (num, den) in totals.items() if den > 0}


@st.composite
def tables(draw):
    n_dims = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 4)) for _ in range(n_dims)]
    cells = []
    for part in ("A", "B")[: draw(st.integers(1, 2))]:
        threshold = draw(st.sampled_from((10, 30)))
        leaves = {}
        for key in itertools.product(*[[f"v{i}" for i in range(size)] for size in sizes]):
            den = draw(st.integers(0, 3 * threshold))
            leaves[key] = (draw(st.integers(0, den)), den)
        for key, (num, den) in cube(leaves, n_dims).items():
            cell = {"part": part, "numerator": num, "denominator": den, "n": den, "min_n": threshold}
            cell.update({f"h{i}": value for i, value in enumerate(key)})
            cells.append(cell)
    return [f"h{i}" for i in range(n_dims)], cells


def derivable_cells(result: list[dict], hierarchies: list[str]) -> list[tuple]:
    """Suppressed cells a reader recomputes from one equation: total minus visible siblings, or the
    sum of visible children. Returns (hierarchy, cell key) for each."""
    by_key = {(r["part"], *(r[h] for h in hierarchies)): r for r in result}
    found = []
    for position, h in enumerate(hierarchies, start=1):
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for key, row in by_key.items():
            groups[key[:position] + key[position + 1 :]].append(row)
        for rows in groups.values():
            parents = [r for r in rows if r[h] == TOTAL]
            children = [r for r in rows if r[h] != TOTAL]
            if not parents or not children:
                continue
            (parent,) = parents
            for child in children:
                siblings = [r for r in children if r is not child]
                if (
                    child["is_suppressed"]
                    and not parent["is_suppressed"]
                    and not any(s["is_suppressed"] for s in siblings)
                ):
                    recomputed = (
                        parent["numerator"] - sum(s["numerator"] for s in siblings),
                        parent["denominator"] - sum(s["denominator"] for s in siblings),
                    )
                    if recomputed == (child["numerator"], child["denominator"]):
                        found.append((h, child["part"], *(child[x] for x in hierarchies)))
            if parent["is_suppressed"] and all(not c["is_suppressed"] for c in children):
                found.append((h, parent["part"], *(parent[x] for x in hierarchies)))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_no_small_cell_is_visible_and_no_suppressed_cell_can_be_recomputed(table) -> None:
    hierarchies, cells = table
    result = run_suppression(cells, hierarchies)
    assert len(result) == len(cells)  # every cell comes back, once
    for row in result:
        if row["n"] < row["min_n"]:
            assert row["is_suppressed"] and row["is_primary_suppressed"], row
    assert derivable_cells(result, hierarchies) == []
    # the figures themselves are untouched: hiding them is the rpt_ models' job
    original = {(c["part"], *(c[h] for h in hierarchies)): (c["numerator"], c["denominator"]) for c in cells}
    assert {(r["part"], *(r[h] for h in hierarchies)): (r["numerator"], r["denominator"]) for r in result} == original


def test_the_smallest_visible_sibling_is_suppressed_with_a_small_one() -> None:
    """By hand: gemeente g1 (n=5) is under 10; total 47 = 5 + 12 + 30. g1 alone would be 47 - 12 - 30,
    so the smallest other sibling, g2 (12), is hidden too; g3 and the total stay visible."""
    cells = [
        {"part": "A", "h0": g, "numerator": num, "denominator": den, "n": den, "min_n": 10}
        for g, num, den in (("g1", 2, 5), ("g2", 6, 12), ("g3", 10, 30), (TOTAL, 18, 47))
    ]
    result = {r["h0"]: (r["is_primary_suppressed"], r["is_suppressed"]) for r in run_suppression(cells, ["h0"])}
    assert result == {"g1": (True, True), "g2": (False, True), "g3": (False, False), TOTAL: (False, False)}


def test_suppression_spreads_along_every_hierarchy_until_stable() -> None:
    """Two hierarchies (gemeente x aanbieder). (g1, a1) = 4 is small. Round 1: in g1's row the
    smallest visible sibling (g1, a2) = 11 goes, in a1's column (g2, a1) = 25. Round 2: a2's column
    (*, a2) = 11 + 20 and g2's row now each hold one hidden cell, so (g2, a2) = 20 goes too. Then no
    equation holds exactly one hidden cell, and the totals all stay visible."""
    leaves = {("g1", "a1"): (1, 4), ("g1", "a2"): (5, 11), ("g2", "a1"): (9, 25), ("g2", "a2"): (7, 20)}
    cells = [
        {"part": "A", "h0": g, "h1": a, "numerator": num, "denominator": den, "n": den, "min_n": 10}
        for (g, a), (num, den) in cube(leaves, 2).items()
    ]
    result = run_suppression(cells, ["h0", "h1"])
    hidden = {(r["h0"], r["h1"]) for r in result if r["is_suppressed"]}
    assert hidden == {("g1", "a1"), ("g1", "a2"), ("g2", "a1"), ("g2", "a2")}
    assert derivable_cells(result, ["h0", "h1"]) == []


def test_an_empty_table_gives_an_empty_result() -> None:
    assert run_suppression([], ["h0"]) == []
