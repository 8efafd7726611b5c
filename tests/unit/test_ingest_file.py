"""Ingesting whole files: archive, raw zone, feedback report, duplicates, hostile input."""

import io
import json
import stat
import zipfile

import duckdb
import pytest
from references import EXAMPLES_IJW

from outcome_monitor.config import paths
from outcome_monitor.ingest import ingest_file

JW323 = EXAMPLES_IJW / "JW323.xml"


@pytest.fixture
def jw323_report(home):
    return ingest_file(JW323, paths())


def test_official_jw323_report_rejects_the_second_rn004_line(jw323_report):
    report = jw323_report
    assert report["counts"]["received"] == 5
    assert report["counts"]["accepted"] == 4 and report["counts"]["rejected"] == 1
    assert report["status"] == "partially_accepted"
    by_code = {finding["code"]: finding for finding in report["findings"]}
    assert set(by_code) == {"8021", "9319"}
    for finding in by_code.values():
        assert finding["severity"] == "afwijzing"
        assert finding["rows"] == [
            {"member": "JW323.xml", "line_number": 5, "referentienummer": "RN004", "toewijzingnummer": "10073"}
        ]
    assert "reeds aangeleverd" in by_code["8021"]["message"]
    assert "DeclaratiePeriode" in by_code["9319"]["message"]


def test_raw_zone_keeps_accepted_and_rejected_rows_without_bsn(home, jw323_report):
    folder = paths().raw_submission(jw323_report["submission_id"]) / "declaratie_regel"
    accepted = duckdb.sql(f"select * from '{folder}/accepted.parquet' order by line_number").fetchall()
    rejected = duckdb.sql(
        f"select line_number, referentienummer, status, finding_codes from '{folder}/rejected.parquet'"
    ).fetchall()
    assert len(accepted) == 4
    assert rejected == [(5, "RN004", "afgewezen", ["9319", "8021"])]
    everything = duckdb.sql(f"select * from read_parquet('{folder}/*.parquet')").fetchall()
    assert "999900006" not in repr(everything) and "999900018" not in repr(everything)


def test_archive_holds_the_bytes_read_only_under_their_hash(home, jw323_report):
    archived = paths().archive / jw323_report["sha256"][:2] / jw323_report["sha256"]
    assert archived.read_bytes() == JW323.read_bytes()
    assert not archived.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_feedback_report_is_written_as_json_and_dutch_html(home, jw323_report):
    folder = paths().feedback
    stored = json.loads((folder / f"{jw323_report['submission_id']}.json").read_text())
    assert stored["counts"] == jw323_report["counts"]
    page = (folder / f"{jw323_report['submission_id']}.html").read_text()
    assert "Gedeeltelijk geaccepteerd" in page and "RN004" in page and "8021" in page


def test_same_file_twice_is_a_duplicate_and_changes_nothing(home, jw323_report):
    before = sorted(p.relative_to(paths().raw) for p in paths().raw.rglob("*.parquet"))
    again = ingest_file(JW323, paths())
    assert again["status"] == "duplicate"
    assert again["submission_id"] == jw323_report["submission_id"]
    assert sorted(p.relative_to(paths().raw) for p in paths().raw.rglob("*.parquet")) == before


def test_bundle_with_a_broken_member_keeps_the_good_ones(home, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("JW323_goed.xml", JW323.read_bytes())
        archive.writestr("JW323_kapot.xml", JW323.read_bytes()[:500])
        archive.writestr("../ontsnapping.xml", JW323.read_bytes())
    bundle = tmp_path / "aanlevering.zip"
    bundle.write_bytes(buffer.getvalue())
    report = ingest_file(bundle, paths())
    assert report["counts"]["received"] == 5 and report["counts"]["accepted"] == 4
    assert report["counts"]["messages"] == 3 and report["counts"]["messages_rejected"] == 2
    assert report["status"] == "partially_accepted"
    codes = {finding["code"]: finding for finding in report["findings"]}
    assert codes["OM001"]["rows"][0]["member"] == "JW323_kapot.xml"
    assert codes["OM006"]["rows"][0]["member"] == "../ontsnapping.xml"
    assert not (tmp_path.parent / "ontsnapping.xml").exists()


def test_hostile_file_is_rejected_as_a_whole_and_kept(home, tmp_path):
    hostile = tmp_path / "xxe.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    report = ingest_file(hostile, paths())
    assert report["status"] == "rejected"
    assert [f["code"] for f in report["findings"]] == ["OM004"]
    assert (paths().archive / report["sha256"][:2] / report["sha256"]).exists()
    assert "root:" not in json.dumps(report)


def test_every_kind_as_a_template_csv_is_ingested_into_its_record_types(home, tmp_path):
    from outcome_monitor.ingest.kinds import KINDS
    from outcome_monitor.ingest.templates import write_templates

    written = write_templates(tmp_path / "templates")
    for kind in KINDS.values():
        example = next(path for path in written if path.name == f"aanlevering-{kind.name}.csv")
        report = ingest_file(example, paths())
        assert report["status"] == "accepted", (kind.name, report["findings"])
        assert report["counts"]["received"] > 0
        for record_type in report["counts"]["by_record_type"]:
            folder = paths().raw_submission(report["submission_id"]) / record_type
            table = duckdb.sql(f"select * from read_parquet('{folder}/*.parquet')")
            assert "bsn" not in table.columns


def test_a_template_workbook_filled_in_is_ingested_and_a_bad_cell_is_rejected_on_its_row(home, tmp_path):
    import openpyxl

    from outcome_monitor.ingest.templates import write_templates

    write_templates(tmp_path / "templates")
    workbook = openpyxl.load_workbook(tmp_path / "templates" / "aanlevering-uitkomst.xlsx")
    sheet = workbook["gegevens"]
    header = [cell.value for cell in sheet[1]]
    good = {
        "gemeente_code": "1680",
        "aanbieder_agb": "42100317",
        "domein": "jeugd",
        "toewijzingnummer": "T1",
        "bsn": "999993653",
        "meetdatum": "2025-03-31",
        "informant": "ouder",
        "tevredenheid": 8,
        "zonder_hulp_verder": "01",
        "doelrealisatie": 2,
    }
    sheet.append([good.get(name) for name in header])
    sheet.append([{**good, "meetdatum": "31/03/2025"}.get(name) for name in header])
    filled = tmp_path / "uitkomsten-2025-H1.xlsx"
    workbook.save(filled)

    report = ingest_file(filled, paths())
    assert report["counts"]["accepted"] == 1 and report["counts"]["rejected"] == 1
    (finding,) = [f for f in report["findings"] if f["code"] == "OM020"]
    assert finding["rows"][0]["line_number"] == 3 and "meetdatum" in finding["rows"][0]["detail"]
