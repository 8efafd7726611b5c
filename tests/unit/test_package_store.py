"""The package store (year_end.package_store) and its read side (stack.package_portal), on real files.

The warehouse is the export tests' one (a closed 2024, an open 2025, hostile provider text), with
a snapshot id of the real form. Packages are made by the real export, placed, listed, checked
against their manifests, tampered with, zipped and unpacked again.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import zipfile
from pathlib import Path

import duckdb
import pytest
from package_checks import assert_totals_equal_warehouse
from test_year_end_export import _fill

from outcome_monitor.config import Paths
from outcome_monitor.stack import package_portal, superset_security
from outcome_monitor.year_end.export import ExportError, verify
from outcome_monitor.year_end.package_store import (
    STAGING_PREFIX,
    PackageStoreError,
    ensure_closed_package,
    store_package,
    stored_packages,
)

SNAPSHOT = "0123456789abcdef"
T1 = dt.datetime(2026, 4, 15, 9, 30, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 5, 1, 12, 0, 5, tzinfo=dt.UTC)


@pytest.fixture
def paths(home: Path) -> Paths:
    paths = Paths(home)
    paths.published.mkdir(parents=True)
    with duckdb.connect(str(paths.published_warehouse)) as con:
        _fill(con)
        con.execute("update rpt_controller__jaarstatus set snapshot_id = ? where verslagjaar = 2024", [SNAPSHOT])
    return paths


def _year_entries(paths: Paths, year: int) -> list[str]:
    return sorted(p.name for p in (paths.exports / str(year)).iterdir())


def _writable(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)


# --------------------------------------------------------------------------------------------


def test_a_closed_year_is_placed_whole_read_only_and_listed(paths):
    stored = store_package(paths, 2024, now=T1)
    assert stored.name == f"{SNAPSHOT}-20260415T093000Z" and stored.new
    assert stored.folder == paths.exports / "2024" / stored.name
    assert _year_entries(paths, 2024) == [stored.name], "no staging folder left behind"
    assert verify(stored.folder).ok
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in stored.folder.iterdir())

    (listed,) = stored_packages(paths, 2024)
    assert (listed.name, listed.status, listed.label, listed.snapshot_id) == (
        stored.name,
        "afgesloten",
        "definitief",
        SNAPSHOT,
    )
    assert listed.created_at == "2026-04-15T09:30:00+00:00" and listed.ok and listed.problems == ()
    assert "manifest.json" in listed.files and "jaarafsluiting-2024.xlsx" in listed.files
    assert package_portal.years(paths.exports) == [2024]
    assert assert_totals_equal_warehouse(stored.folder, paths.published_warehouse, 2024) >= 10


def test_an_open_year_needs_voorlopig_and_a_refusal_leaves_nothing(paths):
    with pytest.raises(ExportError, match="niet afgesloten"):
        store_package(paths, 2025, now=T1)
    assert _year_entries(paths, 2025) == [] and stored_packages(paths, 2025) == []

    stored = store_package(paths, 2025, voorlopig=True, now=T1)
    assert stored.name == "voorlopig-20260415T093000Z" and stored.snapshot_id is None
    (listed,) = stored_packages(paths, 2025)
    assert listed.ok and listed.label == "voorlopig" and listed.status == "voorlopig"


def test_packages_are_never_overwritten_and_newest_come_first(paths):
    first = store_package(paths, 2024, now=T1)
    with pytest.raises(PackageStoreError, match="bestaat al"):
        store_package(paths, 2024, now=T1)
    assert verify(first.folder).ok
    second = store_package(paths, 2024, now=T2)
    assert [p.name for p in stored_packages(paths, 2024)] == [second.name, first.name]
    assert _year_entries(paths, 2024) == sorted([first.name, second.name])


def test_a_half_written_package_is_never_listed_and_a_stale_one_is_cleared(paths):
    store_package(paths, 2024, now=T1)
    # What an export killed halfway leaves: a staging folder with part of the files.
    killed = paths.exports / "2024" / f"{STAGING_PREFIX}dood"
    (killed / "pakket").mkdir(parents=True)
    (killed / "pakket" / "manifest.json").write_text("{")
    assert [p.name for p in stored_packages(paths, 2024)] == [f"{SNAPSHOT}-20260415T093000Z"]
    old = (dt.datetime.now() - dt.timedelta(days=2)).timestamp()
    os.utime(killed, (old, old))
    store_package(paths, 2024, now=T2)
    assert not killed.exists()


def test_the_check_finds_tampered_missing_and_extra_files_like_the_auditors_verify(paths):
    stored = store_package(paths, 2024, now=T1)
    csv_file = stored.folder / "jaarafsluiting-2024-bevindingen.csv"
    _writable(csv_file)
    assert stored_packages(paths, 2024)[0].ok  # checked once: the result is kept until a file changes
    data = bytearray(csv_file.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")  # same size, other content
    mtime = csv_file.stat().st_mtime_ns
    csv_file.write_bytes(bytes(data))
    os.utime(csv_file, ns=(mtime, mtime))  # same size and time: the check must still see it
    (listed,) = stored_packages(paths, 2024)
    assert not listed.ok
    assert listed.problems == (
        "jaarafsluiting-2024-bevindingen.csv: SHA-256 wijkt af van het manifest (bestand gewijzigd)",
    )
    assert set(verify(stored.folder).problems) == set(listed.problems)

    (stored.folder / "LEESMIJ.txt").unlink()
    (stored.folder / "extra.csv").write_text("x")
    (listed,) = stored_packages(paths, 2024)
    assert {"LEESMIJ.txt: ontbreekt (of is geen gewoon bestand)", "extra.csv: staat niet in het manifest"} <= set(
        listed.problems
    )
    assert "niet beschikbaar" in package_portal.index_page(paths.exports)


def test_a_manifest_that_does_not_fit_its_folder_is_refused(paths):
    stored = store_package(paths, 2024, now=T1)
    other_year = paths.exports / "2023" / stored.name
    other_year.parent.mkdir()
    os.rename(stored.folder, other_year)
    (listed,) = stored_packages(paths, 2023)
    assert any("verslagjaar 2024, de map zegt 2023" in p for p in listed.problems)

    renamed = paths.exports / "2024" / "fedcba9876543210-20260415T093000Z"
    os.rename(other_year, renamed)
    (listed,) = stored_packages(paths, 2024)
    assert any("past niet bij de naam" in p for p in listed.problems)


def test_only_listed_names_inside_the_store_are_found(paths, tmp_path):
    stored = store_package(paths, 2024, now=T1)
    store = paths.exports
    assert package_portal.find(store, 2024, stored.name).ok
    secrets = paths.home / "secrets"
    secrets.mkdir()
    (secrets / "manifest.json").write_text('{"verslagjaar": 2024, "bestanden": []}')
    for year, name in [
        (2024, "../../secrets"),
        (2024, "..%2F..%2Fsecrets"),
        (2024, f"../2024/{stored.name}"),
        (2024, stored.name + "/"),
        (2024, "voorlopig-20990101T000000Z"),  # the right form, but no such package
        (2025, stored.name),  # another year's folder
        ("2024", stored.name),
        (-2024, stored.name),
        (99999, stored.name),
    ]:
        assert package_portal.find(store, year, name) is None, (year, name)

    # A link named like a package that points out of the store is neither listed nor found.
    outside = tmp_path / "buiten"
    outside.mkdir()
    link = store / "2024" / "voorlopig-20260101T000000Z"
    link.symlink_to(outside, target_is_directory=True)
    assert package_portal.find(store, 2024, link.name) is None
    assert [p.name for p in stored_packages(paths, 2024)] == [stored.name]
    # A file inside a package that is a link to elsewhere fails the check.
    target = stored.folder / "LEESMIJ.txt"
    target.unlink()
    target.symlink_to(secrets / "manifest.json")
    assert not package_portal.find(store, 2024, stored.name).ok
    # And so does a manifest that is a link (it would be read and zipped from wherever it points).
    second = store_package(paths, 2024, now=T2)
    (second.folder / "manifest.json").unlink()
    (second.folder / "manifest.json").symlink_to(stored.folder / "manifest.json")
    assert package_portal.find(store, 2024, second.name).problems == ("manifest.json is geen gewoon bestand",)


def test_the_zip_unpacks_to_a_folder_that_verifies(paths, tmp_path):
    stored = store_package(paths, 2024, now=T1)
    package = package_portal.find(paths.exports, 2024, stored.name)
    pieces = list(package_portal.zip_chunks(package))
    assert len(pieces) > 2, "sent in pieces, not built whole first"
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        prefix = f"jaarafsluiting-2024-{stored.name}/"
        assert sorted(names) == sorted(prefix + name for name in package.files)
        archive.extractall(tmp_path / "uitgepakt")
    unpacked = tmp_path / "uitgepakt" / prefix.rstrip("/")
    assert verify(unpacked).ok
    assert assert_totals_equal_warehouse(unpacked, paths.published_warehouse, 2024) >= 10


def test_a_close_reuses_its_own_intact_package_else_makes_one(paths):
    first = ensure_closed_package(paths, 2024, SNAPSHOT, now=T1)
    assert first.new
    again = ensure_closed_package(paths, 2024, SNAPSHOT, now=T2)
    assert not again.new and again.name == first.name
    broken = first.folder / "LEESMIJ.txt"
    broken.unlink()
    fresh = ensure_closed_package(paths, 2024, SNAPSHOT, now=T2)
    assert fresh.new and fresh.name == f"{SNAPSHOT}-20260501T120005Z"
    with pytest.raises(PackageStoreError, match="hoort bij snapshot"):
        ensure_closed_package(paths, 2024, "ffffffffffffffff", now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


def test_a_close_whose_package_cannot_be_stored_says_so_in_dutch(paths):
    from outcome_monitor.year_end.close import PackageNotStored, _store_package

    assert _store_package(paths, 2024, SNAPSHOT)["pakket"]["snapshot_id"] == SNAPSHOT
    paths.exports.rename(paths.home / "elders")
    paths.exports.write_text("geen map")  # the store cannot be written
    with pytest.raises(PackageNotStored, match=r"verslagjaar 2024 is afgesloten \(snapshot 0123456789abcdef\), maar"):
        _store_package(paths, 2024, SNAPSHOT)


def test_the_page_lists_every_year_in_dutch_and_escapes_what_it_shows(paths):
    assert "nog geen pakketten" in package_portal.index_page(paths.exports)
    closed = store_package(paths, 2024, now=T1)
    store_package(paths, 2025, voorlopig=True, now=T2)
    page = package_portal.index_page(paths.exports)
    assert page.index("Verslagjaar 2025") < page.index("Verslagjaar 2024")
    assert f'href="/jaarafsluiting/2024/{closed.name}/"' in page
    assert "definitief" in page and "voorlopig" in page and "klopt met manifest.json" in page
    assert "export_year" in page and "<script" not in page


def test_names_and_roles_agree_with_the_rest_of_the_stack():
    assert superset_security.ROLE_CONTROLLER in package_portal.ALLOWED_ROLES
    assert package_portal.ALLOWED_ROLES - {superset_security.ROLE_CONTROLLER} == {"Admin"}
    assert package_portal.package_name("afgesloten", SNAPSHOT, T1) == f"{SNAPSHOT}-20260415T093000Z"
    assert package_portal.package_name("voorlopig", None, T1.astimezone(dt.timezone(dt.timedelta(hours=2)))) == (
        "voorlopig-20260415T093000Z"
    )
    with pytest.raises(ValueError):
        package_portal.package_name("afgesloten", "../x", T1)
