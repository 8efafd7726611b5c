"""The DuckDB rule engine keeps one connection per thread and process: same verdicts from threads and
from a forked child (Airflow forks every task from its worker) as from the main thread."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

from outcome_monitor.validation import sql_rules
from outcome_monitor.validation.row_checks import DUCKDB, check_rows

LINE = {
    "domein": "jeugd",
    "aanbieder_agb": "65656055",
    "gemeente_code": "1731",
    "bsn": "999900006",
    "declaratie_begindatum": "2026-04-01",
    "declaratie_einddatum": "2026-04-30",
    "referentienummer": "RN001",
    "productcategorie": "45",
    "productcode": "45A03",
    "period_start_date": "2026-04-01",
    "period_end_date": "2026-04-30",
    "volume": 4,
    "eenheid": "04",
    "tarief_cents": 1250,
    "bedrag_cents": 5000,
    "debet_credit": "D",
}
# Row i breaks the gemeente code list (a lookup table) when i is odd, the tariff rule when i % 3 == 0.
ROWS = [
    {**LINE, "referentienummer": f"RN{i}", "gemeente_code": "9999" if i % 2 else "1731",
     "bedrag_cents": 5001 if i % 3 == 0 else 5000}
    for i in range(40)
]  # fmt: skip


def _codes() -> list[list[str]]:
    return check_rows("declaratie_regel", ROWS, DUCKDB).codes_per_row


def _codes_in_child(queue) -> None:
    queue.put(_codes())


def test_expected_codes_per_row():
    codes = _codes()
    assert [("S300" in c, "9346" in c) for c in codes] == [(i % 2 == 1, i % 3 == 0) for i in range(40)]


def test_threads_get_their_own_connection_and_the_same_verdicts():
    expected = _codes()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _codes(), range(12)))
    assert all(result == expected for result in results)


def test_a_forked_child_opens_its_own_connection():
    expected = _codes()  # the parent's connection exists before the fork
    parent_connection = sql_rules._connection()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_codes_in_child, args=(queue,))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert result == expected
    assert sql_rules._connection() is parent_connection  # the parent's stays in use
