"""Why something a provider sent cannot be accepted: a finding code and a Dutch explanation."""

from __future__ import annotations


class Rejected(Exception):
    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code = code
        self.message = message  # Dutch, for the provider's feedback report
        self.detail = detail  # where exactly: a line number, a member name, the parser's words


class SubmissionRejected(Rejected):
    """The file as a whole cannot be read."""


class MessageRejected(Rejected):
    """One message (a file, or a member of a ZIP bundle) cannot be accepted."""
