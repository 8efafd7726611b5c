"""What the service does with a received file: validate it (dry run), or hand it to the inbox.

A delivered file becomes visible in the inbox only complete: it is written as ``.part``, synced
and renamed, because the inbox watcher claims any file whose name does not end in ``.part``.
Before that, a sidecar in ``uploads/<submission_id>.json`` records who sent it and when, so the
archive and the status endpoint know the submitter even when the content names several parties.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths
from outcome_monitor.feedback import STATUS_NL
from outcome_monitor.ingest.submission import submission_id_for
from outcome_monitor.service.tokens import Principal

RECEIVED, PROCESSED = "ontvangen", "verwerkt"
STATE_NL = {RECEIVED: "Ontvangen, wacht op verwerking", PROCESSED: "Verwerkt", "gecontroleerd": "Alleen gecontroleerd"}


def uploads_folder(paths: Paths) -> Path:
    return paths.home / "uploads"


def staging_folder(paths: Paths) -> Path:
    """Where uploads stream to before they are checked; hidden, and never watched."""
    return uploads_folder(paths) / ".staging"


def sidecar_path(paths: Paths, submission_id: str) -> Path:
    return uploads_folder(paths) / f"{submission_id}.json"


@dataclass(frozen=True)
class Delivered:
    submission_id: str
    inbox_path: Path
    sidecar: dict[str, Any]


def deliver(
    paths: Paths,
    staged: Path,
    sha256: str,
    original_name: str,
    principal: Principal,
    received_at: datetime | None = None,
) -> Delivered:
    """Record the submitter, then move the staged file into the inbox, complete or not at all."""
    submission_id = submission_id_for(sha256)
    sidecar = {
        "submission_id": submission_id,
        "sha256": sha256,
        "original_name": original_name,
        # The code alone, as ingest records it in the manifest and the archive receipts.
        "submitted_by": principal.code,
        "submitted_by_kind": principal.kind,
        "received_at": (received_at or datetime.now(UTC)).isoformat(),
    }
    _write_json_atomically(sidecar_path(paths, submission_id), sidecar)
    paths.inbox.mkdir(parents=True, exist_ok=True)
    # Content-addressed, so unique: the same name can only be overwritten by the same bytes.
    final = paths.inbox / f"{submission_id}-{original_name}"
    part = final.with_name(final.name + ".part")
    try:
        os.replace(staged, part)
    except OSError:  # staging on another file system: copy, then sync
        shutil.copyfile(staged, part)
        staged.unlink()
    with part.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(part, final)
    _fsync_folder(paths.inbox)
    return Delivered(submission_id, final, sidecar)


def dry_run(staged: Path, original_name: str) -> dict[str, Any]:
    """The full ingest, against a throw-away home: the report, and nothing stored anywhere.

    The pseudonym key still comes from the real configuration (``pseudonym_key()`` reads the
    environment, not the throw-away home); the app resolves it at start-up, so a dry run never
    creates it, and the pseudonyms it computes are thrown away with the temporary home.
    """
    from outcome_monitor.ingest import ingest_file  # heavy: only when a file is checked

    with tempfile.TemporaryDirectory(prefix="om-dry-run-") as folder:
        report = ingest_file(staged, Paths(Path(folder)), original_name=original_name)
    return {**report, "dry_run": True}


def submitted_by(paths: Paths, submission_id: str) -> dict[str, Any] | None:
    path = sidecar_path(paths, submission_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def report_of(paths: Paths, submission_id: str) -> dict[str, Any] | None:
    path = paths.feedback / f"{submission_id}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _submitter(sidecar: dict[str, Any]) -> Principal:
    return Principal(sidecar["submitted_by_kind"], sidecar["submitted_by"])


def _senders_in(report: dict[str, Any]) -> set[str]:
    sender = report.get("sender")
    return {sender} if isinstance(sender, str) else set(sender or ())


def state_for(paths: Paths, submission_id: str, principal: Principal) -> dict[str, Any] | None:
    """The state of a submission as the principal may see it; None if it is not theirs (or unknown)."""
    sidecar = submitted_by(paths, submission_id)
    report = report_of(paths, submission_id)
    mine = sidecar is not None and _submitter(sidecar) == principal
    if not mine and not (report is not None and principal.code in _senders_in(report)):
        return None
    state = PROCESSED if report is not None else RECEIVED
    return {
        "submission_id": submission_id,
        "state": state,
        "state_nl": STATE_NL[state],
        "original_name": (sidecar or {}).get("original_name") or (report or {}).get("file_name"),
        "submitted_by": _submitter(sidecar).as_dict() if sidecar else None,
        "received_at": (sidecar or report or {}).get("received_at"),
        "status": report["status"] if report else None,
        "status_nl": STATUS_NL.get(report["status"], report["status"]) if report else None,
        "report": report,
    }


def list_for(paths: Paths, principal: Principal) -> list[dict[str, Any]]:
    """The principal's own submissions through this service, newest first, without the reports."""
    own = []
    folder = uploads_folder(paths)
    for path in folder.glob("*.json") if folder.exists() else ():
        sidecar = json.loads(path.read_text(encoding="utf-8"))
        if _submitter(sidecar) == principal:
            state = state_for(paths, sidecar["submission_id"], principal)
            if state is not None:
                own.append({key: value for key, value in state.items() if key != "report"})
    return sorted(own, key=lambda item: item["received_at"] or "", reverse=True)


def _write_json_atomically(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")  # unique per writer, threads included
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(content, handle, ensure_ascii=False, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
