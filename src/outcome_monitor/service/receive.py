"""Receive a multipart upload straight to disk, enforcing the size limit while reading.

Starlette's form parser spools a whole file before the handler sees it, so a limit checked
afterwards still lets a client fill the disk. Here the body is parsed as it streams in: file bytes
go to a private staging file and the upload stops at the first byte past the limit.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

MAX_FIELD_BYTES = 4096
MAX_PARTS = 16


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class BadUpload(Exception):
    """The request is not the multipart form we expect; the message is Dutch, for the sender."""


@dataclass
class ReceivedUpload:
    path: Path  # the staged bytes; the caller moves or deletes it
    client_name: str  # the name as the client sent it: sanitise before use
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    file_name: str | None = None
    value: bytearray = field(default_factory=bytearray)


async def receive_upload(request: Request, staging: Path, max_bytes: int, file_field: str = "file") -> ReceivedUpload:
    """Stream the body; return the staged file and the small text fields beside it."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadUpload("Stuur het bestand als multipart/form-data met een veld 'file'.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise UploadTooLarge(max_bytes)  # refused before reading: the form overhead is never this big

    staging.mkdir(parents=True, exist_ok=True)
    target = staging / f"{secrets.token_hex(16)}.upload"
    state = _State(target, max_bytes, file_field)
    parser = MultipartParser(boundary, state.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if state.error:
                raise state.error
        parser.finalize()
        if state.error:
            raise state.error
        if state.file_name is None or (not state.file_name and state.size == 0):  # a form sent without a file
            raise BadUpload(f"Er is geen bestand meegestuurd in het veld '{file_field}'.")
    except BaseException:
        state.close()
        target.unlink(missing_ok=True)
        raise
    state.close()
    return ReceivedUpload(target, state.file_name, state.size, state.digest.hexdigest(), state.fields)


class _State:
    """The parser's callbacks; errors are kept and raised by the reading loop."""

    def __init__(self, target: Path, max_bytes: int, file_field: str) -> None:
        self.target, self.max_bytes, self.file_field = target, max_bytes, file_field
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.parts = 0
        self.fields: dict[str, str] = {}
        self.file_name: str | None = None
        self.handle = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.error: Exception | None = None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda data, start, end: self.header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.error = self.error or BadUpload("Het formulier bevat te veel velden.")
        self.part = _Part()

    def on_header_end(self) -> None:
        self.part.headers[self.header_field.decode("latin-1").lower()] = self.header_value.decode("utf-8", "replace")
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", ""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_name = options.get(b"filename")
        if self.part.name == self.file_field and raw_name is not None:
            if self.file_name is not None:
                self.error = self.error or BadUpload("Stuur één bestand per aanlevering.")
                return
            self.file_name = raw_name.decode("utf-8", "replace")
            fd = os.open(self.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self.handle = os.fdopen(fd, "wb")
            self.part.file_name = self.file_name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error:
            return
        chunk = data[start:end]
        if self.part.file_name is not None and self.handle is not None:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                self.error = UploadTooLarge(self.max_bytes)
                return
            self.digest.update(chunk)
            self.handle.write(chunk)
        else:
            self.part.value.extend(chunk)
            if len(self.part.value) > MAX_FIELD_BYTES:
                self.error = BadUpload(f"Het veld '{self.part.name}' is te lang.")

    def on_part_end(self) -> None:
        if self.part.file_name is None and self.part.name:
            self.fields[self.part.name] = self.part.value.decode("utf-8", "replace")

    def close(self) -> None:
        if self.handle is not None and not self.handle.closed:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
