"""Merging a build's relational findings into the providers' feedback reports.

No dbt: the published warehouse is a real DuckDB file with just the three tables the module reads,
filled by hand (the integration test test_relational_rules.py runs it on a real build).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
from fixtures_raw import write_ingest_report

from outcome_monitor.config import Paths
from outcome_monitor.feedback import write_report
from outcome_monitor.relational_feedback import merge_report, update_feedback_reports

INGEST = {
    "submission_id": "S1",
    "file_name": "decl.xml",
    "sha256": "a" * 64,
    "received_at": "2025-03-05T10:00:00+00:00",
    "status": "partially_accepted",
    "counts": {"received": 4, "accepted": 3, "rejected": 1, "messages": 1, "messages_rejected": 0},
    "findings": [
        {"code": "8021", "severity": "afwijzing", "message": "ReferentieNummer is reeds aangeleverd.",
         "rows": [{"member": "decl.xml", "line_number": 4, "referentienummer": "R1"}]},
    ],
}  # fmt: skip

NOT_ASSIGNED = {"code": "9338", "severity": "afwijzing", "message": "Geen toewijzing.", "rows": []}


def warehouse(path, findings=(), lines=()):
    """A published warehouse with fct_finding, fct_declaration_line and rpt_build_info rows."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create table rpt_build_info as select 'inv-1' as dbt_invocation_id, "
                    "timestamptz '2025-03-06 08:00:00+00' as built_at")  # fmt: skip
        con.execute(
            "create table fct_finding (submission_id varchar, code varchar, severity varchar, message varchar, "
            "member_name varchar, line_number integer, referentienummer varchar, toewijzingnummer varchar, "
            "source varchar)"
        )
        con.execute(
            "create table fct_declaration_line (submission_id varchar, ingest_status varchar, status varchar, "
            "is_superseded boolean)"
        )
        for finding in findings:
            con.execute("insert into fct_finding values (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(finding))
        for line in lines:
            con.execute("insert into fct_declaration_line values (?, ?, ?, ?)", list(line))
    return path


def test_merge_keeps_the_ingest_report_and_merges_findings_per_code():
    relational = {
        "findings": [
            {"code": "8021", "severity": "afwijzing", "message": "ander bericht",
             "rows": [{"member": "decl.xml", "line_number": 2, "referentienummer": "R9"}]},
            NOT_ASSIGNED | {"rows": [{"member": "decl.xml", "line_number": 1, "referentienummer": "R0"}]},
        ],
        "counts": {"rejected": 2, "superseded": 1},
        "evaluated_at": "2025-03-06 08:00:00+00",
        "build_id": "inv-1",
    }  # fmt: skip
    merged = merge_report(INGEST, relational)
    assert merged["ingest"] == INGEST
    assert [finding["code"] for finding in merged["findings"]] == ["8021", "9338"]
    assert [row["line_number"] for row in merged["findings"][0]["rows"]] == [4, 2]
    assert merged["findings"][0]["message"] == "ReferentieNummer is reeds aangeleverd."
    assert (merged["counts"]["accepted"], merged["counts"]["rejected"], merged["counts"]["superseded"]) == (1, 3, 1)
    assert merged["status"] == "partially_accepted"
    assert (merged["build_id"], merged["relational_evaluated_at"]) == ("inv-1", "2025-03-06 08:00:00+00")
    assert INGEST["counts"]["accepted"] == 3  # the input is not modified


def test_all_lines_rejected_by_relational_checks_make_the_submission_rejected():
    ingest = INGEST | {"counts": {**INGEST["counts"], "accepted": 3, "rejected": 0}, "findings": []}
    merged = merge_report(ingest, {"findings": [NOT_ASSIGNED], "counts": {"rejected": 3, "superseded": 0}})
    assert (merged["counts"]["accepted"], merged["status"]) == (0, "rejected")


def test_update_rewrites_changed_reports_only_and_undoes_findings_that_disappear(tmp_path):
    paths = Paths(tmp_path / "home")
    write_ingest_report(paths, "S1", INGEST)
    write_report(INGEST, paths.feedback)
    db = tmp_path / "warehouse.duckdb"

    finding = ("S1", "9338", "afwijzing", "Geen toewijzing.", "decl.xml", 1, "R0", "T9", "relationeel")
    lines = [("S1", "geaccepteerd", "afgewezen", False), ("S1", "geaccepteerd", "geaccepteerd", True)]
    assert update_feedback_reports(warehouse(db, [finding], lines), paths) == ["S1"]
    report = json.loads((paths.feedback / "S1.json").read_text(encoding="utf-8"))
    assert report["findings"][1] == {
        "code": "9338", "severity": "afwijzing", "message": "Geen toewijzing.",
        "rows": [{"member": "decl.xml", "line_number": 1, "referentienummer": "R0", "toewijzingnummer": "T9"}],
    }  # fmt: skip
    assert (report["counts"]["accepted"], report["counts"]["rejected"], report["counts"]["superseded"]) == (2, 2, 1)
    assert report["build_id"] == "inv-1"
    assert "Geen toewijzing." in (paths.feedback / "S1.html").read_text(encoding="utf-8")

    # The same verdict again: nothing is rewritten.
    assert update_feedback_reports(db, paths) == []

    # The toewijzing arrived: the finding is gone, the report goes back to ingest's counts.
    assert update_feedback_reports(warehouse(db), paths) == ["S1"]
    report = json.loads((paths.feedback / "S1.json").read_text(encoding="utf-8"))
    assert report["findings"] == INGEST["findings"]
    assert (report["counts"]["accepted"], report["counts"]["rejected"], report["counts"]["superseded"]) == (3, 1, 0)
    assert update_feedback_reports(db, paths) == []


def test_without_a_raw_report_the_ingest_part_of_the_feedback_report_is_used(tmp_path):
    paths = Paths(tmp_path / "home")
    write_report(INGEST, paths.feedback)  # only the feedback file, as before the raw zone kept reports
    finding = ("S1", "9338", "afwijzing", "Geen toewijzing.", "decl.xml", 1, "R0", None, "relationeel")
    db = warehouse(tmp_path / "w.duckdb", [finding], [("S1", "geaccepteerd", "afgewezen", False)])
    assert update_feedback_reports(db, paths) == ["S1"]
    first = json.loads((paths.feedback / "S1.json").read_text(encoding="utf-8"))
    assert first["ingest"] == INGEST
    # Run again: the ingest part is taken from the report's "ingest" key, never merged twice.
    assert update_feedback_reports(db, paths) == []
    assert json.loads((paths.feedback / "S1.json").read_text(encoding="utf-8")) == first
    assert [finding["code"] for finding in first["findings"]] == ["8021", "9338"]


def test_a_submission_without_any_ingest_report_is_skipped(tmp_path):
    paths = Paths(tmp_path / "home")
    finding = ("S2", "9338", "afwijzing", "Geen toewijzing.", "decl.xml", 1, "R0", None, "relationeel")
    db = warehouse(tmp_path / "w.duckdb", [finding], [("S2", "geaccepteerd", "afgewezen", False)])
    assert update_feedback_reports(db, paths) == []
    assert not (paths.feedback / "S2.json").exists()


def test_every_ingest_code_has_its_severity_and_a_message_in_the_seed_bevindingen():
    """fct_finding takes severity, message and classification from the seed: it must know every code."""
    repo = Path(__file__).resolve().parents[2]
    with (repo / "dbt_project" / "seeds" / "bevindingen.csv").open(encoding="utf-8", newline="") as handle:
        seeded = {row["code"]: row for row in csv.DictReader(handle)}
    for suite in sorted((repo / "expectations").glob("ingest_*.json")):
        for expectation in json.loads(suite.read_text(encoding="utf-8"))["expectations"]:
            meta = expectation["meta"]
            assert meta["code"] in seeded, f"{suite.name}: code {meta['code']} ontbreekt in bevindingen.csv"
            assert seeded[meta["code"]]["severity"] == meta["severity"], f"{suite.name}: {meta['code']}"
    assert all(row["message"] and row["classificatie"] in ("fout", "onzekerheid", "geen") for row in seeded.values())
    relational = {"9338", "9384", "9307", "9308", "9321", "9322", "0611", "8021", "8017", "OM201", "OM202"}
    assert relational <= set(seeded)
    assert {code for code, row in seeded.items() if row["severity"] == "signalering"} == {"OM201", "OM202"}
