"""Parsing iJw/iWmo messages: the official examples, and hostile or broken input."""

from datetime import date

import pytest
from references import EXAMPLES_IJW, EXAMPLES_IWMO

from outcome_monitor.ingest.messages import MessageRejected, parse_message

JW323 = (EXAMPLES_IJW / "JW323.xml").read_bytes()


def rejection(data: bytes) -> MessageRejected:
    with pytest.raises(MessageRejected) as caught:
        parse_message(data)
    return caught.value


def test_official_jw323_gives_five_lines_with_their_fields():
    message = parse_message(JW323)
    assert message.message_type.berichtcode == "JW323"
    assert message.message_type.domein == "jeugd"
    assert message.header["afzender"] == "65656055" and message.header["ontvanger"] == "0384"
    assert [r["referentienummer"] for r in message.records] == ["RN001", "RN002", "RN003", "RN004", "RN004"]
    last = message.records[-1]
    assert last["period_start_date"] == date(2026, 3, 1)
    assert last["declaratie_begindatum"] == date(2026, 4, 1)
    assert (last["volume"], last["tarief_cents"], last["bedrag_cents"]) == (14, 1500, 21000)
    assert last["bsn"] == "999900018"


@pytest.mark.parametrize(
    ("example", "code", "record_type", "rows"),
    [
        (EXAMPLES_IJW / "JW301.xml", "JW301", "toewijzing", 2),
        (EXAMPLES_IJW / "JW305.xml", "JW305", "start_zorg", 2),
        (EXAMPLES_IJW / "JW307.xml", "JW307", "stop_zorg", 2),
        (EXAMPLES_IWMO / "WMO301.xml", "WMO301", "toewijzing", 1),
        (EXAMPLES_IWMO / "WMO307.xml", "WMO307", "stop_zorg", 2),
        (EXAMPLES_IWMO / "WMO323.xml", "WMO323", "declaratie_regel", 4),
    ],
)
def test_official_examples_parse(example, code, record_type, rows):
    message = parse_message(example.read_bytes())
    assert message.message_type.berichtcode == code
    assert message.message_type.record_type == record_type
    assert len(message.records) == rows


def test_toewijzing_keeps_no_name_or_address():
    message = parse_message((EXAMPLES_IJW / "JW301.xml").read_bytes())
    flat = repr(message.records)
    for personal in ("Wit", "Tom", "Van Woustraat", "9999XX", "2010-02-14", "abc@def.com"):
        assert personal not in flat


def test_stop_has_reason_and_end_date():
    message = parse_message((EXAMPLES_IJW / "JW307.xml").read_bytes())
    assert message.records[0]["reden_beeindiging"] == "31"
    assert message.records[0]["einddatum"] == date(2026, 7, 17)


def test_unsupported_message_type_is_named():
    problem = rejection((EXAMPLES_IJW / "JW315.xml").read_bytes())
    assert problem.code == "OM003" and "JW315" in problem.message


def test_xsd_violation_names_the_line_and_problem():
    broken = JW323.replace(b"<jw323:GeleverdVolume>4</jw323:GeleverdVolume>", b"", 1)
    problem = rejection(broken)
    assert problem.code == "0001"
    assert "JW323" in problem.message and "regel" in problem.detail and "Eenheid" in problem.detail


def test_truncated_xml_is_not_well_formed():
    problem = rejection(JW323[: len(JW323) // 2])
    assert problem.code == "OM001" and "regel" in problem.detail


def test_empty_and_binary_input_is_rejected():
    assert rejection(b"").code == "OM001"
    assert rejection(b"\x00\x01\x02\xff" * 50).code == "OM001"


def test_external_entity_is_refused_before_parsing():
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<jw323:Bericht xmlns:jw323="http://www.istandaarden.nl/ijw/3_2/jw323/schema">&e;</jw323:Bericht>'
    )
    problem = rejection(hostile)
    assert problem.code == "OM004"


def test_entity_expansion_bomb_is_refused():
    lol = b'<!ENTITY a "lollollollollollollollollollol">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
    )
    hostile = b'<?xml version="1.0"?><!DOCTYPE bomb [' + lol + b"]><bomb>&j;</bomb>"
    assert rejection(hostile).code == "OM004"


def test_foreign_xml_is_not_an_istandaarden_message():
    assert rejection(b"<html><body>hallo</body></html>").code == "OM002"
