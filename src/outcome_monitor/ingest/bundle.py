"""What a submitted file contains: one XML message, or a ZIP bundle ("aanlevering") of them.

A ZIP is read in memory, member by member, under hard limits, and never extracted to disk, so
path tricks in member names cannot write anywhere and a zip bomb stops at the first limit.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from outcome_monitor.ingest.rejection import SubmissionRejected

ZIP_MAGIC = b"PK\x03\x04"
MAX_FILE_BYTES_VARIABLE = "OUTCOME_MONITOR_MAX_FILE_BYTES"


@dataclass(frozen=True)
class Limits:
    # Operators set the largest accepted file in OUTCOME_MONITOR_MAX_FILE_BYTES.
    max_file_bytes: int = field(default_factory=lambda: int(os.environ.get(MAX_FILE_BYTES_VARIABLE, 512 << 20)))
    max_members: int = 50_000
    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_compression_ratio: int = 200


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes | None  # None when the member itself was refused; see `problem`
    problem: SubmissionRejected | None = None


def members(path: Path, display_name: str, limits: Limits | None = None) -> Iterator[Member]:
    """Yield the messages in a submitted file, refusing unsafe members one by one."""
    limits = limits or Limits()
    size = path.stat().st_size
    if size == 0:
        raise SubmissionRejected("OM001", "Het bestand is leeg.")
    if size > limits.max_file_bytes:
        raise SubmissionRejected(
            "OM005", "Het bestand is groter dan toegestaan.", f"{size} bytes, maximaal {limits.max_file_bytes}"
        )
    with path.open("rb") as handle:
        head = handle.read(4)
    if head != ZIP_MAGIC:
        yield Member(display_name, path.read_bytes())
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise SubmissionRejected("OM001", "Het ZIP-bestand is beschadigd.", str(error)) from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > limits.max_members:
            raise SubmissionRejected(
                "OM005", "De bundel bevat te veel bestanden.", f"{len(infos)}, maximaal {limits.max_members}"
            )
        declared_total = sum(info.file_size for info in infos)
        if declared_total > limits.max_total_bytes:
            raise SubmissionRejected("OM005", "De bundel is uitgepakt groter dan toegestaan.")
        for info in infos:
            yield _read_member(archive, info, limits)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> Member:
    name = info.filename
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name or ":" in name:
        return Member(name, None, SubmissionRejected("OM006", "Ongeldige bestandsnaam in de bundel.", name))
    if info.file_size > limits.max_member_bytes:
        return Member(name, None, SubmissionRejected("OM005", "Bestand in de bundel is te groot.", name))
    if info.compress_size and info.file_size / info.compress_size > limits.max_compression_ratio:
        return Member(name, None, SubmissionRejected("OM005", "Verdachte compressieverhouding (zipbom).", name))
    try:
        with archive.open(info) as handle:
            # Declared sizes can lie: read at most one byte past the limit and check.
            data = handle.read(limits.max_member_bytes + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as error:
        return Member(name, None, SubmissionRejected("OM001", "Bestand in de bundel is onleesbaar.", str(error)))
    if len(data) > limits.max_member_bytes:
        return Member(name, None, SubmissionRejected("OM005", "Bestand in de bundel is te groot.", name))
    return Member(name, data)
