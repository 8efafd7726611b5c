"""Uploaded file names: whatever the client sends, what is kept is one plain, visible name."""

from __future__ import annotations

import pytest

from outcome_monitor.service.names import FALLBACK_NAME, safe_file_name


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("JW323.xml", "JW323.xml"),
        ("../../x.xml", "x.xml"),
        ("/etc/passwd", "passwd"),
        ("C:\\x", "x"),
        ("C:\\Users\\zorg\\..\\declaratie.zip", "declaratie.zip"),
        ("C:x.xml", "C_x.xml"),
        ("a\x00b.xml", "ab.xml"),
        ("x.xml\x00.exe", "x.xml.exe"),
        ("regel\r\nX-Header: 1.xml", "regelX-Header_ 1.xml"),
        ("\u202egnp.xml", "gnp.xml"),  # right-to-left override: a control character
        ("..", FALLBACK_NAME),
        ("", FALLBACK_NAME),
        (None, FALLBACK_NAME),
        (".bashrc", "bashrc"),
        ("bestand.part", "bestand.part_"),
        ("bestand.PART", "bestand.part_"),
        ("déclaratie mei (2).zip", "déclaratie mei (2).zip"),
        ("a<b>|c*?.xml", "a_b_c_.xml"),
    ],
)
def test_names_are_neutralised(sent, kept):
    assert safe_file_name(sent) == kept


def test_long_names_are_cut_keeping_the_extension():
    kept = safe_file_name("é" * 300 + ".xml")
    assert kept.endswith(".xml")
    assert len(kept.encode("utf-8")) <= 120
    kept.encode("utf-8").decode("utf-8")  # not cut inside a character


def test_result_is_never_hidden_partial_or_a_path():
    for sent in ["./.x.part", "....part", "/", "\\\\server\\share\\.part", ". .", "\x00"]:
        kept = safe_file_name(sent)
        assert kept and not kept.startswith(".") and not kept.endswith(".part")
        assert "/" not in kept and "\\" not in kept and "\x00" not in kept
