"""The raw archive: every received file kept byte-identical, read-only, named by its SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from outcome_monitor.config import Paths


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    path: Path
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive_path(sha256: str) -> Path:
    """Where content `sha256` is kept, relative to the archive folder."""
    return Path(sha256[:2]) / sha256


def archive_file(
    source: Path,
    paths: Paths,
    original_name: str,
    received_at: datetime,
    *,
    submitted_by: str | None = None,
    sha256: str | None = None,
) -> ArchivedFile:
    """Copy `source` into the archive (once per content) and record this receipt beside it."""
    sha = sha256 or sha256_of(source)
    folder = paths.archive / sha[:2]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / sha
    if not target.exists():
        tmp = folder / f".{sha}.{os.getpid()}.tmp"
        shutil.copyfile(source, tmp)
        tmp.chmod(0o444)
        os.replace(tmp, target)
    # One line per receipt: the same content received twice is two receipts of one archived file.
    receipt = {
        "original_name": original_name,
        "received_at": received_at.isoformat(),
        "submitted_by": submitted_by,
        "size": target.stat().st_size,
    }
    with (folder / f"{sha}.receipts.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(receipt, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return ArchivedFile(sha, target, target.stat().st_size)
