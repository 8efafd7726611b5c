"""Where the pipeline keeps its state, and the secrets it needs.

Everything lives under one folder, ``$OUTCOME_MONITOR_HOME`` (default ``./data``), so that a
demo, a test and a production volume differ only in that one variable.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

# Record types of the raw zone. A submission of kind `levering` yields start_zorg and stop_zorg rows.
RECORD_TYPES = (
    "toewijzing",
    "start_zorg",
    "stop_zorg",
    "declaratie_regel",
    "uitkomst",
    "zrm_meting",
    "clientervaring",
    "productieverantwoording",
    "afspraak",
    "contracttarief",
)


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def processing(self) -> Path:
        """Files claimed by the inbox watcher, waiting for (or in) their ingest run."""
        return self.home / "processing"

    @property
    def archive(self) -> Path:
        """Every received file, byte-identical, named by its SHA-256."""
        return self.home / "archive"

    @property
    def raw(self) -> Path:
        return self.home / "raw"

    @property
    def feedback(self) -> Path:
        return self.home / "feedback"

    @property
    def build(self) -> Path:
        return self.home / "build"

    @property
    def published(self) -> Path:
        return self.home / "published"

    @property
    def published_warehouse(self) -> Path:
        return self.published / "warehouse.duckdb"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def raw_submissions(self) -> Path:
        """One folder per committed submission: ``<submission_id>/<record_type>/{accepted,rejected}.parquet``."""
        return self.raw / "submissions"

    def raw_submission(self, submission_id: str) -> Path:
        return self.raw_submissions / submission_id

    def raw_schema_file(self, record_type: str) -> Path:
        # Beside the submissions, so dbt's one glob ``submissions/*/<record_type>/*.parquet`` matches it.
        return self.raw_submissions / "_schema" / record_type / "empty.parquet"

    @property
    def raw_staging(self) -> Path:
        """Where a submission is written before one rename commits it; outside dbt's glob."""
        return self.raw / "_staging"

    @property
    def exports(self) -> Path:
        """The auditor's packages: ``<verslagjaar>/<name>/`` (year_end.package_store), read by Superset."""
        return self.home / "exports"

    @property
    def uploads(self) -> Path:
        """Who submitted what through the submission service (JSON per submission id)."""
        return self.home / "uploads"


def home() -> Path:
    return Path(os.environ.get("OUTCOME_MONITOR_HOME", "data")).resolve()


def paths() -> Paths:
    return Paths(home())


def secret_file(path: Path, nbytes: int = 32) -> str:
    """Read a secret from `path`, creating it (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def pseudonym_key() -> bytes:
    """The municipality's key for BSN pseudonyms.

    Production passes it in ``OUTCOME_MONITOR_PSEUDONYM_KEY``; a demo or a test gets a random key
    kept in ``secrets/pseudonym.key``, so pseudonyms are stable across runs of one installation.
    """
    configured = os.environ.get("OUTCOME_MONITOR_PSEUDONYM_KEY")
    if configured:
        return configured.encode()
    return secret_file(paths().secrets / "pseudonym.key").encode()
