"""One upload, from the request body to a decision: refused, checked (dry run) or delivered.

The API and the upload page share this path, so both refuse the same files with the same
Dutch messages. Refusals carry the HTTP status the caller answers with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from outcome_monitor.config import Paths
from outcome_monitor.service import submissions
from outcome_monitor.service.names import safe_file_name
from outcome_monitor.service.receive import BadUpload, UploadTooLarge, receive_upload
from outcome_monitor.service.senders import TabularNotSupported, senders_of
from outcome_monitor.service.tokens import Principal

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
TRUE_VALUES = {"1", "true", "on", "ja", "yes"}


class Refused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class Settings:
    paths: Paths
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class Outcome:
    original_name: str
    dry_run: bool
    report: dict[str, Any] | None = None  # dry run
    delivered: submissions.Delivered | None = None  # real delivery


# Dry runs run the whole ingest in this process: one at a time keeps memory and CPU predictable.
_DRY_RUNS = threading.Lock()


async def take_upload(
    request: Request,
    settings: Settings,
    principal: Principal,
    *,
    dry_run: bool,
    form_check: Callable[[dict[str, str]], bool] | None = None,
) -> Outcome:
    """Receive, check and act on one upload; raise Refused with a Dutch message otherwise."""
    try:
        received = await receive_upload(request, submissions.staging_folder(settings.paths), settings.max_upload_bytes)
    except UploadTooLarge as error:
        raise Refused(413, f"Het bestand is groter dan toegestaan (maximaal {_megabytes(error.limit)}).") from None
    except BadUpload as error:
        raise Refused(400, str(error)) from None
    try:
        if form_check is not None and not form_check(received.fields):
            raise Refused(403, "Het formulier is verlopen of komt niet van deze pagina. Laad de pagina opnieuw.")
        dry_run = dry_run or received.fields.get("alleen_controleren", "").lower() in TRUE_VALUES
        name = safe_file_name(received.client_name)
        try:
            senders = await run_in_threadpool(senders_of, received.path, name)
        except TabularNotSupported:
            raise Refused(415, "CSV-, XLSX- en JSON-bestanden kunnen hier nog niet worden aangeleverd.") from None
        _check_sender(senders, principal, dry_run)
        if dry_run:
            report = await run_in_threadpool(_one_dry_run_at_a_time, received.path, name)
            return Outcome(name, True, report=report)
        delivered = await run_in_threadpool(
            submissions.deliver, settings.paths, received.path, received.sha256, name, principal
        )
        return Outcome(name, False, delivered=delivered)
    finally:
        received.path.unlink(missing_ok=True)


def _one_dry_run_at_a_time(staged, name: str) -> dict[str, Any]:
    with _DRY_RUNS:
        return submissions.dry_run(staged, name)


def _check_sender(senders: set[str], principal: Principal, dry_run: bool) -> None:
    if senders and senders != {principal.code}:
        named = ", ".join(sorted(senders))
        raise Refused(
            403,
            f"De afzender in dit bestand is {named}, maar u bent ingelogd als {principal.label}. "
            f"U kunt alleen bestanden aanleveren waarin u zelf de afzender bent.",
        )
    if not senders and not dry_run:
        # Nobody to hold responsible for the file: refuse it, but a dry run may still explain why.
        raise Refused(
            422,
            "De afzender van dit bestand kon niet worden gelezen: het is geen leesbaar iJw- of iWmo-bericht "
            "of een bundel daarvan. Gebruik 'alleen controleren' (dry_run=true) om de bevindingen te zien.",
        )


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
