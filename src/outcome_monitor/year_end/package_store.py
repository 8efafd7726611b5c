"""The package store: every auditor's package the pipeline made, for controllers to download.

    exports/<verslagjaar>/<snapshot_id>-<UTC time>/   a closed year's package (definitief)
    exports/<verslagjaar>/voorlopig-<UTC time>/       an open year's package
    exports/<verslagjaar>/.in-aanmaak-<random>/       being written; never listed

A package is written by ``export.export_year`` inside a private staging folder of its year, made
read-only and then renamed into place, so a listed name always holds a whole package. Packages
are never overwritten: a new one of the same snapshot (after post-closing changes arrived, made
by the ``export_year`` DAG) gets its own time in its name. Superset serves the store read-only
(``stack.package_portal``, which also owns the names and the listing).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths
from outcome_monitor.stack import package_portal
from outcome_monitor.year_end.export import MANIFEST_NAME, ExportError, export_year
from outcome_monitor.year_end.layout import fsync_dir

STAGING_PREFIX = ".in-aanmaak-"
# A staging folder this old belongs to an export that was killed (the largest take minutes).
STALE_STAGING_S = 24 * 3600


class PackageStoreError(ExportError):
    """A package was made but cannot be placed in the store; the message (Dutch) says why."""


@dataclass(frozen=True)
class StoredPackage:
    verslagjaar: int
    name: str
    folder: Path
    status: str
    snapshot_id: str | None
    created_at: str
    new: bool  # False when an existing package of the same snapshot was reused

    def summary(self) -> dict[str, Any]:
        return {
            "verslagjaar": self.verslagjaar,
            "pakket": self.name,
            "map": str(self.folder),
            "status": self.status,
            "snapshot_id": self.snapshot_id,
            "aangemaakt_op": self.created_at,
            "nieuw": self.new,
        }


def _remove_stale_staging(year_dir: Path) -> None:
    cutoff = time.time() - STALE_STAGING_S
    for entry in year_dir.glob(f"{STAGING_PREFIX}*"):
        if entry.is_dir() and entry.stat().st_mtime < cutoff:
            _make_writable(entry)
            shutil.rmtree(entry, ignore_errors=True)


def _make_writable(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)


def _make_read_only(folder: Path) -> None:
    """Files read-only for everyone: a package is what it was when its manifest was written."""
    for path in folder.iterdir():
        path.chmod(0o444)


def store_package(
    paths: Paths, verslagjaar: int, *, voorlopig: bool = False, now: dt.datetime | None = None
) -> StoredPackage:
    """Export `verslagjaar` from the published warehouse into the store; returns where it is.

    A closed year is exported with its snapshot id; an open one only with `voorlopig`. Raises
    ExportError (Dutch) when the package cannot be made; nothing then appears in the store.
    """
    verslagjaar = int(verslagjaar)
    year_dir = paths.exports / str(verslagjaar)
    year_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(year_dir)
    staging = year_dir / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        result = export_year(verslagjaar, staging / "pakket", paths.published_warehouse, voorlopig=voorlopig, now=now)
        manifest = json.loads((result.out / MANIFEST_NAME).read_text(encoding="utf-8"))
        created_at = dt.datetime.fromisoformat(manifest["aangemaakt_op"])
        try:
            name = package_portal.package_name(result.status, result.snapshot_id, created_at)
        except ValueError as error:
            raise PackageStoreError(f"{error}: het pakket krijgt geen plaats in {paths.exports}") from error
        _make_read_only(result.out)
        target = year_dir / name
        try:
            os.rename(result.out, target)  # fails onto an existing package: never overwritten
        except OSError as error:
            raise PackageStoreError(
                f"pakket {target} bestaat al (twee pakketten in dezelfde seconde?); probeer het opnieuw"
            ) from error
        fsync_dir(year_dir)
    finally:
        _make_writable(staging)
        shutil.rmtree(staging, ignore_errors=True)
    return StoredPackage(
        verslagjaar, name, target, result.status, result.snapshot_id, manifest["aangemaakt_op"], new=True
    )


def stored_packages(paths: Paths, verslagjaar: int) -> list[package_portal.Package]:
    """The year's packages in the store, newest first, each checked against its manifest."""
    return package_portal.packages(paths.exports, int(verslagjaar))


def ensure_closed_package(
    paths: Paths, verslagjaar: int, snapshot_id: str, now: dt.datetime | None = None
) -> StoredPackage:
    """The package of a close: an intact one of `snapshot_id` already in the store (a retried
    close), else a new one from the published warehouse, which must show that snapshot."""
    for package in stored_packages(paths, verslagjaar):
        if package.ok and package.snapshot_id == snapshot_id:
            return StoredPackage(
                verslagjaar, package.name, package.folder, package.status, snapshot_id, package.created_at, new=False
            )
    stored = store_package(paths, verslagjaar, now=now)
    if stored.snapshot_id != snapshot_id:
        raise PackageStoreError(
            f"het pakket {stored.folder} hoort bij snapshot {stored.snapshot_id}, de afsluiting bij {snapshot_id}: "
            "de gepubliceerde gegevens zijn intussen veranderd; maak een nieuw pakket met de DAG export_year"
        )
    return stored
