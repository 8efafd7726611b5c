"""Submission tokens: one random token per principal (an aanbieder's AGB or a gemeente's CBS code).

Only the SHA-256 of a token is stored, so the token file leaks nothing that opens the service; the
clear token is shown once when it is issued. The file is rewritten atomically (0600) under a lock,
and the server reads it on every request, so a revocation takes effect at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths

TOKEN_FILE = "submission-tokens.json"
DEMO_TOKEN_FILE = "demo-tokens.json"
_CODE_PATTERN = {"aanbieder": re.compile(r"^\d{8}$"), "gemeente": re.compile(r"^\d{4}$")}


@dataclass(frozen=True)
class Principal:
    """Who holds a token: ``kind`` is aanbieder (8-digit AGB) or gemeente (4-digit CBS code)."""

    kind: str
    code: str

    def __post_init__(self) -> None:
        pattern = _CODE_PATTERN.get(self.kind)
        if pattern is None:
            raise ValueError(f"onbekend soort afzender {self.kind!r}: aanbieder of gemeente")
        if not pattern.match(self.code):
            length = 8 if self.kind == "aanbieder" else 4
            raise ValueError(f"{self.kind}code {self.code!r} moet uit precies {length} cijfers bestaan")

    @property
    def label(self) -> str:
        return f"{self.kind} {self.code}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code}


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    principal: Principal
    token: str  # the clear token: shown once, never stored


def token_file(paths: Paths) -> Path:
    return paths.secrets / TOKEN_FILE


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["tokens"]


def write_private_json(path: Path, content: Any) -> None:
    """Write JSON readable by the owner only, atomically: a reader sees the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle, ensure_ascii=False, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(paths: Paths) -> Iterator[Path]:
    """Serialise read-modify-write of the token file between CLI calls."""
    path = token_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        os.close(fd)


def issue(paths: Paths, principal: Principal, now: datetime | None = None) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    token_id = f"tok_{secrets.token_hex(6)}"
    with _locked(paths) as path:
        entries = _read(path)
        entries.append(
            {
                "token_id": token_id,
                "principal": principal.as_dict(),
                "sha256": _digest(token),
                "created_at": (now or datetime.now(UTC)).isoformat(),
                "revoked_at": None,
            }
        )
        write_private_json(path, {"tokens": entries})
    return IssuedToken(token_id, principal, token)


def revoke(paths: Paths, token_id: str, now: datetime | None = None) -> bool:
    """Mark a token revoked (kept for the record); False if there is no such active token."""
    with _locked(paths) as path:
        entries = _read(path)
        for entry in entries:
            if entry["token_id"] == token_id and entry["revoked_at"] is None:
                entry["revoked_at"] = (now or datetime.now(UTC)).isoformat()
                write_private_json(path, {"tokens": entries})
                return True
    return False


def listing(paths: Paths) -> list[dict[str, Any]]:
    """Every token's id, principal and dates: never the token, never its hash."""
    return [
        {key: entry[key] for key in ("token_id", "principal", "created_at", "revoked_at")}
        for entry in _read(token_file(paths))
    ]


def verify(paths: Paths, presented: str | None) -> Principal | None:
    """The principal of an active token, or None (unknown, revoked, or no token at all)."""
    if not presented:
        return None
    digest = _digest(presented)
    found = None
    for entry in _read(token_file(paths)):
        # Compare against every entry in constant time, so timing says nothing about the file.
        if hmac.compare_digest(digest, entry["sha256"]) and entry["revoked_at"] is None:
            found = Principal(**entry["principal"])
    return found


def issue_demo_tokens(paths: Paths, principals: Iterable[Principal]) -> dict[str, str]:
    """Issue one token per principal for the demo; returns {principal label: clear token}."""
    return {principal.label: issue(paths, principal).token for principal in principals}


def store_demo_tokens(paths: Paths, tokens: dict[str, str]) -> Path:
    """Keep the demo's clear tokens in secrets/demo-tokens.json (0600), so the demo can print them."""
    target = paths.secrets / DEMO_TOKEN_FILE
    write_private_json(target, tokens)
    return target
