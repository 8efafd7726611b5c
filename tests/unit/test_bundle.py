"""Reading a submitted file: single messages, ZIP bundles, and the limits that keep both safe."""

import io
import zipfile

import pytest

from outcome_monitor.ingest.bundle import Limits, SubmissionRejected, members


def make_zip(path, entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_plain_file_is_one_member(tmp_path):
    file = tmp_path / "bericht.xml"
    file.write_bytes(b"<x/>")
    assert [(m.name, m.data) for m in members(file, "bericht.xml")] == [("bericht.xml", b"<x/>")]


def test_zip_members_are_read_in_order(tmp_path):
    file = make_zip(tmp_path / "b.zip", {"a.xml": b"<a/>", "b.xml": b"<b/>"})
    assert [(m.name, m.data) for m in members(file, "b.zip")] == [("a.xml", b"<a/>"), ("b.xml", b"<b/>")]


def test_path_tricks_in_member_names_are_refused_and_the_rest_is_read(tmp_path):
    file = make_zip(tmp_path / "b.zip", {"../../etc/evil.xml": b"<a/>", "/abs.xml": b"<a/>", "ok.xml": b"<ok/>"})
    result = list(members(file, "b.zip"))
    refused = [m for m in result if m.problem]
    assert {m.problem.code for m in refused} == {"OM006"} and len(refused) == 2
    assert [m.name for m in result if m.data] == ["ok.xml"]


def test_zip_bomb_member_is_refused_without_reading_it(tmp_path):
    file = make_zip(tmp_path / "bomb.zip", {"bomb.xml": b"0" * 20_000_000})
    (member,) = members(file, "bomb.zip")
    assert member.data is None and member.problem.code == "OM005"


def test_too_many_members_rejects_the_file(tmp_path):
    file = make_zip(tmp_path / "many.zip", {f"{i}.xml": b"<a/>" for i in range(20)})
    with pytest.raises(SubmissionRejected) as caught:
        list(members(file, "many.zip", Limits(max_members=10)))
    assert caught.value.code == "OM005"


def test_file_over_the_size_limit_is_rejected(tmp_path):
    file = tmp_path / "big.xml"
    file.write_bytes(b"<a/>" * 1000)
    with pytest.raises(SubmissionRejected) as caught:
        list(members(file, "big.xml", Limits(max_file_bytes=100)))
    assert caught.value.code == "OM005"


def test_empty_file_is_rejected(tmp_path):
    file = tmp_path / "leeg.xml"
    file.write_bytes(b"")
    with pytest.raises(SubmissionRejected) as caught:
        list(members(file, "leeg.xml"))
    assert caught.value.code == "OM001"


def test_corrupt_zip_is_rejected(tmp_path):
    file = tmp_path / "kapot.zip"
    file.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(SubmissionRejected) as caught:
        list(members(file, "kapot.zip"))
    assert caught.value.code == "OM001"
