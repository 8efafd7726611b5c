"""What a snapshot was made from: the raw submissions (with the hashes of their archived files)
and the code (package version, git commit, a hash of the dbt project)."""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths
from outcome_monitor.ingest.archive import sha256_of
from outcome_monitor.raw_zone import committed_submissions, read_document
from outcome_monitor.year_end.layout import YearEndError

REPO_ROOT = Path(__file__).resolve().parents[3]
# What decides the warehouse's figures besides the data (build.DBT_PROJECT_DIR is the same folder).
DBT_PARTS = ("dbt_project.yml", "macros", "models", "seeds")


def submissions_manifest(paths: Paths) -> list[dict[str, Any]]:
    """Every committed submission of the raw zone, with the SHA-256 of its archived file re-computed.

    A hand-made raw zone (tests) may lack a manifest.json: such a submission is listed without hash.
    Raises YearEndError if an archived file is missing or no longer has the hash it is named by.
    """
    listed = []
    for submission_id in committed_submissions(paths):
        manifest = read_document(paths, submission_id, "manifest") or {}
        entry = {
            "submission_id": submission_id,
            "file_name": manifest.get("file_name"),
            "received_at": manifest.get("received_at"),
            "sha256": manifest.get("sha256"),
            "archive_path": manifest.get("archive_path"),
        }
        if manifest.get("archive_path"):
            archived = paths.archive / manifest["archive_path"]
            if not archived.is_file():
                raise YearEndError(f"aanlevering {submission_id}: archiefbestand {archived} ontbreekt")
            actual = sha256_of(archived)
            if actual != manifest["sha256"]:
                raise YearEndError(
                    f"aanlevering {submission_id}: archiefbestand {archived} heeft SHA-256 {actual}, "
                    f"verwacht {manifest['sha256']}"
                )
        listed.append(entry)
    return listed


def tree_sha256(root: Path, parts: tuple[str, ...] = DBT_PARTS) -> str:
    """One SHA-256 over the relative path and content of every file under `parts` of `root`."""
    digest = hashlib.sha256()
    files = []
    for part in parts:
        target = root / part
        files += [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def git_commit(repo: Path = REPO_ROOT) -> dict[str, Any] | None:
    """HEAD and whether the work tree differs from it; None outside a git checkout (an installed wheel)."""
    if not (repo / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def code_version(dbt_project_dir: Path) -> dict[str, Any]:
    try:
        package_version = metadata.version("outcome-monitor")
    except metadata.PackageNotFoundError:
        package_version = None
    return {
        "package_version": package_version,
        "git": git_commit(),
        "dbt_project_sha256": tree_sha256(dbt_project_dir),
        "dbt_project_hashed": list(DBT_PARTS),
    }
