"""The auditor's packages in Superset: read the package store and serve it to controllers.

The pipeline (``year_end.package_store``) puts every package in
``<home>/exports/<verslagjaar>/<name>/`` with one rename, so a folder under a valid name is
always whole. This module lists those folders, checks each against its ``manifest.json`` and
streams one as a ZIP; ``create_blueprint`` serves that at ``/jaarafsluiting/`` to users with the
controller role (or Admin) only.

It runs inside Superset's environment, which has no ``outcome_monitor`` package:
``stack/superset.py`` copies this file next to ``superset_config.py``, which loads it by path
and registers the blueprint in ``BLUEPRINTS``. Hence the standard library at the top and Flask
only inside ``create_blueprint``; the pipeline imports the same file for the names and the listing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import logging
import os
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MANIFEST_NAME = "manifest.json"
STATUS_CLOSED = "afgesloten"
PROVISIONAL_PREFIX = "voorlopig"
# The controller role of stack/superset_security.py (ROLE_CONTROLLER; a unit test keeps them equal) and
# Superset's administrator role (AUTH_ROLE_ADMIN).
ALLOWED_ROLES = frozenset({"controller", "Admin"})
URL_PREFIX = "/jaarafsluiting"
LOGIN_URL = "/login/"
DASHBOARD_URL = "/superset/dashboard/controller/"
# <snapshot_id>-<UTC time> for a closed year, voorlopig-<UTC time> for an open one. Nothing else is
# ever looked up: no dots, no slashes, so a name can never leave its year's folder.
NAME_PATTERN = re.compile(r"(?:(?P<snapshot>[0-9a-f]{16})|voorlopig)-(?P<stamp>[0-9]{8}T[0-9]{6}Z)")
YEAR_PATTERN = re.compile(r"[0-9]{4}")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
CHUNK = 1 << 20

logger = logging.getLogger("outcome_monitor.jaarafsluiting")


def package_name(status: str, snapshot_id: str | None, created_at: dt.datetime) -> str:
    """The folder name of a package: which snapshot (or voorlopig) and when, in UTC."""
    stamp = created_at.astimezone(dt.UTC).strftime(STAMP_FORMAT)
    name = f"{snapshot_id}-{stamp}" if status == STATUS_CLOSED else f"{PROVISIONAL_PREFIX}-{stamp}"
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"geen geldige pakketnaam: {name!r} (snapshot-id {snapshot_id!r})")
    return name


@dataclass(frozen=True)
class Package:
    """One package folder of the store, with what its manifest says and what does not check out."""

    verslagjaar: int
    name: str
    folder: Path
    status: str | None  # afgesloten | voorlopig, as the manifest says
    snapshot_id: str | None
    created_at: str | None  # the manifest's aangemaakt_op (ISO, UTC)
    files: tuple[str, ...]  # the manifest's files plus the manifest itself
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def label(self) -> str:
        return "definitief" if self.status == STATUS_CLOSED else "voorlopig"


# --------------------------------------------------------------------------------------------
# checking a package against its manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _plain_name(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name


def file_problems(folder: Path, listed: dict) -> list[str]:
    """The files of `folder` against the manifest's entries (by name): present, same size and SHA-256,
    nothing extra. Also ``export-year --verify``'s check, so the auditor and the portal agree."""
    problems = []
    for file_name, entry in sorted(listed.items(), key=lambda item: str(item[0])):
        if not _plain_name(file_name) or not isinstance(entry, dict):
            problems.append(f"{file_name}: geen bestandsnaam binnen het pakket")
            continue
        path = folder / file_name
        if path.is_symlink() or not path.is_file():
            problems.append(f"{file_name}: ontbreekt (of is geen gewoon bestand)")
        elif path.stat().st_size != entry.get("bytes"):
            problems.append(f"{file_name}: grootte {path.stat().st_size} bytes, manifest zegt {entry.get('bytes')}")
        elif _sha256(path) != entry.get("sha256"):
            problems.append(f"{file_name}: SHA-256 wijkt af van het manifest (bestand gewijzigd)")
    for path in sorted(folder.iterdir()):
        if path.name != MANIFEST_NAME and path.name not in listed:
            problems.append(f"{path.name}: staat niet in het manifest")
    return problems


def _check(verslagjaar: int, name: str, folder: Path) -> Package:
    """Every listed file present, same size and SHA-256, nothing extra, and the manifest fits the name."""
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.is_symlink():  # it would be read, and zipped, from wherever it points
        return Package(verslagjaar, name, folder, None, None, None, (), (f"{MANIFEST_NAME} is geen gewoon bestand",))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = {entry["naam"]: entry for entry in manifest["bestanden"]}
    except FileNotFoundError:
        return Package(verslagjaar, name, folder, None, None, None, (), (f"{MANIFEST_NAME} ontbreekt",))
    except (OSError, ValueError, KeyError, TypeError) as error:
        problem = f"{MANIFEST_NAME} is geen geldig manifest ({error})"
        return Package(verslagjaar, name, folder, None, None, None, (), (problem,))
    problems = file_problems(folder, listed)
    status, snapshot_id = manifest.get("status"), manifest.get("snapshot_id")
    if manifest.get("verslagjaar") != verslagjaar:
        problems.append(f"{MANIFEST_NAME}: verslagjaar {manifest.get('verslagjaar')}, de map zegt {verslagjaar}")
    named = NAME_PATTERN.fullmatch(name)["snapshot"]  # None for voorlopig-...
    if snapshot_id != named or (status == STATUS_CLOSED) != (named is not None):
        problems.append(f"{MANIFEST_NAME}: status {status} met snapshot {snapshot_id} past niet bij de naam {name}")
    files = tuple(sorted({*(n for n in listed if _plain_name(n)), MANIFEST_NAME}))
    return Package(
        verslagjaar, name, folder, status, snapshot_id, manifest.get("aangemaakt_op"), files, tuple(problems)
    )


class _CheckedCache:
    """Checks keyed on the folder's entries (name, inode, size, modification and change time):
    hashing a large package on every page view would cost seconds. Writing a file changes its
    ctime, which (unlike mtime) cannot be set back, so no change to a file goes unseen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked: dict[Path, tuple[tuple, Package]] = {}

    @staticmethod
    def _signature(folder: Path) -> tuple:
        entries = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            info = entry.stat(follow_symlinks=False)
            entries.append((entry.name, info.st_mode, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
        return tuple(entries)

    def check(self, verslagjaar: int, name: str, folder: Path) -> Package:
        try:
            signature = self._signature(folder)
        except OSError as error:  # removed or unreadable meanwhile
            return Package(verslagjaar, name, folder, None, None, None, (), (f"map niet leesbaar ({error})",))
        with self._lock:
            cached = self._checked.get(folder)
        if cached and cached[0] == signature:
            return cached[1]
        package = _check(verslagjaar, name, folder)
        with self._lock:
            self._checked[folder] = (signature, package)
        return package


_cache = _CheckedCache()


# --------------------------------------------------------------------------------------------
# the store


def _inside(store: Path, folder: Path) -> bool:
    return folder.resolve().is_relative_to(store.resolve())


def _package_folders(store: Path, verslagjaar: int) -> dict[str, Path]:
    """Package folders of a year by name: valid names only (staging folders start with a dot)."""
    year_dir = store / str(verslagjaar)
    if not year_dir.is_dir() or year_dir.is_symlink():
        return {}
    return {
        entry.name: Path(entry.path)
        for entry in os.scandir(year_dir)
        if NAME_PATTERN.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
    }


def years(store: Path) -> list[int]:
    if not store.is_dir():
        return []
    return sorted(
        (int(entry.name) for entry in os.scandir(store) if YEAR_PATTERN.fullmatch(entry.name) and entry.is_dir()),
        reverse=True,
    )


def packages(store: Path, verslagjaar: int) -> list[Package]:
    """The year's packages, newest first, each checked against its manifest."""
    found = [
        _cache.check(verslagjaar, name, folder)
        for name, folder in _package_folders(store, verslagjaar).items()
        if _inside(store, folder)
    ]
    return sorted(found, key=lambda p: (NAME_PATTERN.fullmatch(p.name)["stamp"], p.name), reverse=True)


def find(store: Path, verslagjaar: int, name: str) -> Package | None:
    """The package `name` of `verslagjaar`, or None when that is not a listed package of the store.

    The name is only ever compared with the names the store lists, never joined into a path first.
    """
    if not isinstance(verslagjaar, int) or not 1000 <= verslagjaar <= 9999 or not NAME_PATTERN.fullmatch(name):
        return None
    folder = _package_folders(store, verslagjaar).get(name)
    if folder is None or not _inside(store, folder):
        return None
    return _cache.check(verslagjaar, name, folder)


def zip_name(package: Package) -> str:
    return f"jaarafsluiting-{package.verslagjaar}-{package.name}"


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream: zipfile then writes data descriptors, so the ZIP can be
    sent while it is made, without a temporary file or the whole package in memory."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_chunks(package: Package) -> Iterator[bytes]:
    """The package's files (as listed in its manifest, and the manifest) as a ZIP, in pieces.

    Every file sits under one folder named after the package, so unpacking gives a folder that
    ``outcome-monitor export-year --verify`` checks as it is.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in package.files:
            path = package.folder / name
            info = zipfile.ZipInfo.from_file(path, f"{zip_name(package)}/{name}")
            info.compress_type = zipfile.ZIP_DEFLATED
            zip64 = info.file_size >= zipfile.ZIP64_LIMIT  # unseekable output: say so before writing
            with path.open("rb") as source, archive.open(info, "w", force_zip64=zip64) as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    if data := sink.take():
                        yield data
            if data := sink.take():
                yield data
    yield sink.take()


# --------------------------------------------------------------------------------------------
# the web pages (Dutch), served by Superset


_STYLE = """
body { font-family: Inter, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1f1f1f; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.fout { color: #b3261e; } .goed { color: #1b6e20; } code { background: #f3f3f3; padding: 0 .2rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="nl"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n{body}\n"
        f'<p><a href="{DASHBOARD_URL}">Terug naar het dashboard Controller: jaarafsluiting</a></p>\n</body></html>\n'
    )


_HOW_TO = (
    "<p>Een nieuw pakket maken: start in Airflow de DAG <code>export_year</code> met het "
    "<code>verslagjaar</code>; zet <code>voorlopig</code> aan voor een jaar dat nog niet is afgesloten. "
    "Bij het afsluiten van een jaar (DAG <code>close_year</code> of <code>outcome-monitor close-year</code>) "
    "maakt de pipeline er zelf een. Kwamen er na de afsluiting nog aanleveringen binnen, dan geeft een nieuw "
    "pakket van hetzelfde jaar ze op het blad <em>Wijzigingen na afsluiting</em>; de cijfers van de snapshot "
    "blijven gelijk.</p>"
)


def _row(package: Package) -> str:
    if package.ok:
        check = '<span class="goed">klopt met manifest.json</span>'
        link = (
            f'<a href="{URL_PREFIX}/{package.verslagjaar}/{quote(package.name)}/">'
            f"{html.escape(zip_name(package))}.zip</a>"
        )
    else:
        shown = "; ".join(package.problems[:5]) + (" …" if len(package.problems) > 5 else "")
        check = f'<span class="fout">klopt NIET: {html.escape(shown)}</span>'
        link = "niet beschikbaar: maak een nieuw pakket"
    return (
        f"<tr><td>{html.escape(package.label)}</td><td><code>{html.escape(package.snapshot_id or '-')}</code></td>"
        f"<td>{html.escape(package.created_at or '-')}</td><td>{check}</td><td>{link}</td></tr>"
    )


def index_page(store: Path) -> str:
    parts = [
        "<p>Per verslagjaar de pakketten voor de accountant: het werkboek (XLSX), dezelfde bladen als CSV en "
        "<code>manifest.json</code> met de SHA-256 van elk bestand en het snapshot-id. Het nieuwste staat "
        "bovenaan. De accountant controleert een uitgepakt pakket met "
        "<code>outcome-monitor export-year --verify &lt;map&gt;</code> of met <code>sha256sum</code>.</p>",
        _HOW_TO,
    ]
    listed = [(year, packages(store, year)) for year in years(store)]
    listed = [(year, found) for year, found in listed if found]
    if not listed:
        parts.append("<p><strong>Er zijn nog geen pakketten.</strong></p>")
    for year, found in listed:
        rows = "\n".join(_row(package) for package in found)
        parts.append(
            f"<h2>Verslagjaar {year}</h2>\n<table><thead><tr><th>Status</th><th>Snapshot-id</th>"
            f"<th>Gemaakt op (UTC)</th><th>Controle</th><th>Downloaden</th></tr></thead>\n<tbody>\n{rows}\n"
            "</tbody></table>"
        )
    return _page("Accountantspakketten jaarafsluiting", "\n".join(parts))


def create_blueprint(store: Path, allowed_roles: Iterable[str] = ALLOWED_ROLES):
    """The Flask blueprint at /jaarafsluiting/: the list of packages and a ZIP download per package.

    Anonymous users are sent to the login page; logged-in users without an allowed role get 403.
    Superset (Flask-AppBuilder) puts the logged-in user in ``g.user`` before every request.
    """
    from flask import Blueprint, Response, g, redirect, request

    allowed = frozenset(allowed_roles)
    blueprint = Blueprint("jaarafsluiting", __name__, url_prefix=URL_PREFIX)

    def html_response(text: str, status: int = 200) -> Response:
        response = Response(text, status=status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        return response

    @blueprint.before_request
    def controllers_only():
        user = g.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            return redirect(f"{LOGIN_URL}?next={quote(request.path)}")
        if not {role.name for role in getattr(user, "roles", None) or ()} & allowed:
            logger.warning("jaarafsluiting: %s (geen controller) geweigerd voor %s", user.username, request.path)
            body = "<p>Deze pagina is alleen voor de controller van de gemeente.</p>"
            return html_response(_page("Geen toegang", body), 403)
        return None

    @blueprint.get("/")
    def index():
        return html_response(index_page(store))

    @blueprint.get("/<int:verslagjaar>/<naam>/")
    def download(verslagjaar: int, naam: str):
        package = find(store, verslagjaar, naam)
        if package is None:
            body = f"<p>Er is geen pakket {html.escape(naam)} van verslagjaar {verslagjaar}.</p>"
            return html_response(_page("Pakket niet gevonden", body), 404)
        if not package.ok:
            body = (
                "<p>Dit pakket klopt niet met zijn manifest en wordt niet gegeven:</p><ul>"
                + "".join(f"<li>{html.escape(problem)}</li>" for problem in package.problems)
                + f"</ul>{_HOW_TO}"
            )
            return html_response(_page("Pakket klopt niet", body), 409)
        logger.info("jaarafsluiting: pakket %s/%s gedownload door %s", verslagjaar, naam, g.user.username)
        response = Response(zip_chunks(package), mimetype="application/zip", direct_passthrough=True)
        response.headers["Content-Disposition"] = f'attachment; filename="{zip_name(package)}.zip"'
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return blueprint
