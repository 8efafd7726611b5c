"""Hostile files, one after another in one ingest process: each is rejected (or made inert) within
seconds and bounded memory, is kept in the archive, and never stops the good file after it."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from references import EXAMPLES_IJW

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE bomb [<!ENTITY a "lollollollollollollollollollol">'
    + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
    + b"]><bomb>&j;</bomb>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<jw323:Bericht xmlns:jw323="http://www.istandaarden.nl/ijw/3_2/jw323/schema">&e;</jw323:Bericht>'
)


def _zip_bomb() -> bytes:
    """Looks like a workbook, inflates to a gigabyte."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"0" * (1 << 20)
            for _ in range(1024):
                member.write(block)
    return buffer.getvalue()


def _hostile_files(folder: Path) -> dict[str, bytes]:
    declaratie_header = (
        "gemeente_code;aanbieder_agb;domein;declaratienummer;declaratie_begindatum;declaratie_einddatum;"
        "referentienummer;toewijzingnummer;bsn;productcategorie;productcode;productperiode_begindatum;"
        "productperiode_einddatum;volume;eenheid;tarief;bedrag;debet_credit\r\n"
    )
    formula_row = (
        '1680;42100317;jeugd;D1;01-01-2025;31-01-2025;"=HYPERLINK(""http://x"";""y"")";T1;999993653;45;45A03;'
        "01-01-2025;31-01-2025;2;04;10,00;25,00;D\r\n"  # 9346: echoed in the report
    )
    files = {
        "xxe.xml": XXE,
        "billion-laughs.xml": BILLION_LAUGHS,
        "truncated.xml": (EXAMPLES_IJW / "JW323.xml").read_bytes()[:700],
        "invalid-utf8.csv": declaratie_header.encode() + b"\xff\xfe\x00\x81 junk\r\n",
        "junk.xml": os.urandom(4096),
        "empty.csv": b"",
        "zipbomb.xlsx": _zip_bomb(),
        "too-big.xml": b"<x/>" + b" " * (3 << 20),
        "formula.csv": (declaratie_header + formula_row).encode("utf-8"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_hostile_files_are_rejected_fast_with_bounded_memory_and_the_next_file_still_counts(tmp_path):
    names = list(_hostile_files(tmp_path))
    good = EXAMPLES_IJW / "JW323.xml"
    env = {
        **os.environ,
        "OUTCOME_MONITOR_HOME": str(tmp_path / "home"),
        "OUTCOME_MONITOR_PSEUDONYM_KEY": "test-key-not-secret",
        "OUTCOME_MONITOR_MAX_FILE_BYTES": str(2 << 20),  # the configurable size limit: 2 MiB here
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "outcome_monitor.cli", "ingest", *(str(tmp_path / n) for n in names), str(good)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert result.returncode == 0, result.stderr
    reports = {Path(r["file_name"]).name: r for r in map(json.loads, result.stdout.splitlines())}

    expected_codes = {
        "xxe.xml": "OM004", "billion-laughs.xml": "OM004", "truncated.xml": "OM001", "invalid-utf8.csv": "OM007",
        "junk.xml": "OM001", "empty.csv": "OM001", "zipbomb.xlsx": "OM005", "too-big.xml": "OM005",
    }
    for name, code in expected_codes.items():
        report = reports[name]
        assert report["status"] == "rejected", (name, report)
        assert code in {finding["code"] for finding in report["findings"]}, (name, report["findings"])
        assert all(finding["message"] for finding in report["findings"])
    # A formula in a field is data, never a formula: kept as text, escaped in the Dutch report.
    formula = reports["formula.csv"]
    assert formula["counts"]["received"] == 1, formula["findings"]
    html = (tmp_path / "home" / "feedback" / f"{formula['submission_id']}.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;http://x&quot;;&quot;y&quot;)" in html
    assert 'href="http://x"' not in html
    # The good file after all of them is processed as if nothing happened.
    assert reports["JW323.xml"]["status"] == "partially_accepted"
    assert reports["JW323.xml"]["counts"]["accepted"] == 4
    # Every file, hostile or not, is kept byte-identical in the archive.
    archived = list((tmp_path / "home" / "archive").glob("*/*[0-9a-f]"))
    assert len([p for p in archived if not p.name.endswith(".jsonl")]) == len(names) + 1
    # Seconds, not minutes; and memory bounded although the bomb inflates to a gigabyte.
    assert elapsed < 120, elapsed
    assert peak_mb < 1024, peak_mb
