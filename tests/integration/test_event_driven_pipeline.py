"""The real path: files dropped into the inbox of a running Airflow end up published, correctly.

Starts the four Airflow components on SQLite in a temporary home, drops a generated region's
submissions into the inbox, waits until the transform DAG has published them all, and compares
the published warehouse with the generator's ground truth.
"""

from __future__ import annotations

import json
import re
import socket
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from references import EXAMPLES_IJW, REPO_ROOT

from outcome_monitor.config import Paths
from outcome_monitor.stack import airflow
from outcome_monitor.stack.demo import drop_into_inbox, submission_ids, wait_until_published

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from datetime import date

    from outcome_monitor.generate import generate

    out = tmp_path_factory.mktemp("region")
    truth = generate(out, seed=7, scale=0.1, defect_rate=0.03, start=date(2025, 1, 1), end=date(2025, 12, 31))
    return out, json.loads(Path(truth).read_text())


@pytest.fixture(scope="module")
def published(region, tmp_path_factory):
    """Run Airflow, drop every submission, wait for publication; yields (paths, seconds, files)."""
    out, _ = region
    home = Paths(tmp_path_factory.mktemp("home"))
    port = free_port()
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(home.home))
    try:
        airflow.init(home, REPO_ROOT, port)
        airflow.start(home, REPO_ROOT, port)
        files = sorted((out / "submissions").iterdir())
        started = time.monotonic()
        drop_into_inbox(files, home.inbox)
        wait_until_published(home, submission_ids(files), timeout=900)
        elapsed = time.monotonic() - started
        print(f"\n{len(files)} submissions published {elapsed:.1f} s after landing in the inbox")
        yield home, port, files
    finally:
        airflow.stop(home)
        monkeypatch.undo()


def warehouse(home: Paths):
    return duckdb.connect(str(home.published_warehouse), read_only=True)


def test_every_submission_has_a_feedback_report_and_an_empty_inbox(published, region):
    home, _, files = published
    reports = [json.loads(p.read_text()) for p in home.feedback.glob("*.json")]
    assert sorted(r["file_name"] for r in reports) == sorted(f.name for f in files)
    assert list(home.inbox.iterdir()) == [] and list(home.processing.iterdir()) == []


def test_published_declaration_lines_match_the_ground_truth(published, region):
    home, _, _ = published
    _, truth = region
    expected = truth["expected"]["declaratie"]
    with warehouse(home) as con:
        received, rejected = con.execute(
            "select count(*), count(*) filter (where status = 'afgewezen') from fct_declaration_line"
        ).fetchone()
        monthly = dict(
            ((g, m), c)
            for g, m, c in con.execute(
                "select gemeente_code, strftime(period_start_date, '%Y-%m'), "
                "sum(case when debet_credit = 'C' then -bedrag_cents else bedrag_cents end)::bigint "
                "from fct_declaration_line where status = 'geaccepteerd' group by all"
            ).fetchall()
        )
    assert received == expected["lines_received"]
    assert rejected == expected["lines_rejected"]
    assert monthly == {
        (row["gemeente_code"], row["month"]): row["bedrag_cents"]
        for row in expected["accepted_net_cents_by_gemeente_month"]
    }


def test_every_injected_defect_is_rejected_with_its_code(published, region):
    home, _, _ = published
    _, truth = region
    declaration_defects = [d for d in truth["defects"] if d["record_type"] == "declaratie_regel"]
    assert declaration_defects, "the region should contain injected declaration defects"
    with warehouse(home) as con:
        for defect in declaration_defects:
            status, codes = con.execute(
                "select status, finding_codes from fct_declaration_line where member_name = ? and line_number = ?",
                [defect["member"], defect["line_number"]],
            ).fetchone()
            assert status == "afgewezen", defect
            assert defect["expected_code"] in codes, defect


def test_published_indicators_match_the_ground_truth(published, region):
    home, _, _ = published
    _, truth = region
    expected = {
        (i["indicator_code"], i["gemeente_code"], i["aanbieder_agb"], i["period"]): (i["numerator"], i["denominator"])
        for i in truth["expected"]["indicators"]
        if i["denominator"] > 0
    }
    assert expected
    with warehouse(home) as con:
        rows = con.execute(
            "select indicator_code, gemeente_code, aanbieder_agb, period, numerator, denominator "
            "from fct_indicator where indicator_code in ('UITVAL', 'VOLGENS_PLAN') and domein = 'jeugd' "
            "and productcategorie = '*' and gemeente_code <> '*' and period like '%-H_' and denominator > 0"
        ).fetchall()
    published_figures = {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in rows}
    assert published_figures == expected


def values_in_messages(out: Path, element: bytes) -> set[bytes]:
    found: set[bytes] = set()
    for bundle in (out / "submissions").iterdir():
        with zipfile.ZipFile(bundle) as archive:
            for name in archive.namelist():
                found.update(re.findall(rb"<\w+:" + element + rb">([^<]+)</", archive.read(name)))
    return found


def test_no_bsn_or_contact_detail_in_clear_outside_the_raw_archive(published, region):
    home, _, _ = published
    out, _ = region
    bsns = values_in_messages(out, b"Bsn")
    postcodes = values_in_messages(out, b"Postcode")
    phones = values_in_messages(out, b"Telefoonnummer")
    assert len(bsns) > 50 and postcodes and phones
    pattern = re.compile(b"|".join(bsns | postcodes | phones))
    offenders = [
        path
        for path in home.home.rglob("*")
        if path.is_file() and home.archive not in path.parents and pattern.search(path.read_bytes())
    ]
    assert offenders == []
    # Parquet and DuckDB compress: ask them, column by column, too.
    with warehouse(home) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        text = "".join(repr(con.execute(f'select * from "{schema}"."{name}"').fetchall()) for schema, name in tables)
    parquet = f"{home.raw}/submissions/*/*/*.parquet"
    raw = repr(duckdb.sql(f"select * from read_parquet('{parquet}', union_by_name=true)").fetchall())
    assert not [b for b in bsns if b.decode() in text or b.decode() in raw]


def test_one_more_file_is_published_within_a_minute(published):
    home, _, _ = published
    example = EXAMPLES_IJW / "JW323.xml"
    started = time.monotonic()
    drop_into_inbox([example], home.inbox)
    wait_until_published(home, submission_ids([example]), timeout=180)
    latency = time.monotonic() - started
    print(f"\nlatency inbox -> published for one file: {latency:.1f} s")
    assert latency < 60
    report = json.loads(next(home.feedback.glob(f"{next(iter(submission_ids([example])))}.json")).read_text())
    assert report["counts"] == {**report["counts"], "received": 5, "accepted": 4, "rejected": 1}
