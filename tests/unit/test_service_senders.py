"""senders_of: who a file says sent it, for XML messages, ZIP bundles and tabular files."""

from __future__ import annotations

import sys
import zipfile

import pytest
from references import EXAMPLES_IJW, EXAMPLES_IWMO

from outcome_monitor.ingest.messages import MessageRejected, parse_message
from outcome_monitor.service.senders import TabularNotSupported, senders_of

JW323 = (EXAMPLES_IJW / "JW323.xml").read_bytes()
JW301 = (EXAMPLES_IJW / "JW301.xml").read_bytes()
DECLARATIE_CSV = (
    b"gemeente_code;aanbieder_agb;domein;declaratienummer;declaratie_begindatum;declaratie_einddatum;"
    b"referentienummer;toewijzingnummer;bsn;productcategorie;productcode;productperiode_begindatum;"
    b"productperiode_einddatum;volume;eenheid;tarief;bedrag;debet_credit\n"
    b"1680;12345678;jeugd;D1;2025-01-01;2025-01-31;R1;T1;999990019;45;45A48;2025-01-01;2025-01-31;"
    b"2;04;12,50;25,00;D\n"
)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def bundle(tmp_path, members: dict[str, bytes]):
    path = tmp_path / "bundel.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("example", "sender"),
    [
        (EXAMPLES_IJW / "JW323.xml", "65656055"),
        (EXAMPLES_IJW / "JW301.xml", "0384"),
        (EXAMPLES_IWMO / "WMO323.xml", "65656055"),
        (EXAMPLES_IJW / "JW305.xml", "65656055"),
    ],
)
def test_an_xml_message_is_sent_by_its_header_afzender(example, sender):
    assert senders_of(example, example.name) == {sender}


def test_an_xsd_invalid_message_still_names_its_sender(tmp_path):
    invalid = JW323.replace(b"<jw323:BerichtCode>", b"<jw323:Onbekend/><jw323:BerichtCode>", 1)
    with pytest.raises(MessageRejected, match="XSD"):
        parse_message(invalid)
    assert senders_of(write(tmp_path, "x.xml", invalid), "x.xml") == {"65656055"}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<niet-af",
        b"geen xml",
        b"<?xml version='1.0'?><a><Header><Afzender></Afzender></Header></a>",
        b'<!DOCTYPE a [<!ENTITY x "65656055">]><a><Header><Afzender>&x;</Afzender></Header></a>',
    ],
)
def test_unreadable_or_anonymous_files_name_nobody(tmp_path, data):
    assert senders_of(write(tmp_path, "x.xml", data), "x.xml") == set()


def test_a_bundle_names_the_sender_of_every_member(tmp_path):
    assert senders_of(bundle(tmp_path, {"a.xml": JW323, "b.xml": JW301}), "bundel.zip") == {"65656055", "0384"}


def test_unsafe_or_broken_members_name_nobody_but_do_not_hide_the_others(tmp_path):
    path = bundle(tmp_path, {"../JW301.xml": JW301, "kapot.xml": b"<a", "JW323.xml": JW323})
    assert senders_of(path, "bundel.zip") == {"65656055"}


def test_a_broken_zip_names_nobody(tmp_path):
    assert senders_of(write(tmp_path, "x.zip", b"PK\x03\x04kapot"), "x.zip") == set()


def test_a_csv_names_its_sender_column(tmp_path):
    assert senders_of(write(tmp_path, "declaraties.csv", DECLARATIE_CSV), "declaraties.csv") == {"12345678"}


def test_without_tabular_ingest_a_csv_is_not_supported(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "outcome_monitor.ingest.tabular", None)  # makes the import fail
    with pytest.raises(TabularNotSupported):
        senders_of(write(tmp_path, "declaraties.csv", DECLARATIE_CSV), "declaraties.csv")
