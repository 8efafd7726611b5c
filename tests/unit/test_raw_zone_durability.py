"""A submission's files reach the disk before its commit; a bulk writer may leave that to one sync at the end."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from outcome_monitor import raw_zone
from outcome_monitor.config import Paths
from outcome_monitor.raw_schema import SCHEMAS


@pytest.fixture
def synced(monkeypatch) -> list[int]:
    """The file descriptors fsync'ed (the disk is the edge of the world here)."""
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(raw_zone.os, "fsync", counting)
    return calls


def _commit(tmp_path, durable: bool):
    paths = Paths(tmp_path)
    schema = SCHEMAS["afspraak"]
    tables = {"afspraak": {part: pa.Table.from_pylist([], schema=schema) for part in raw_zone.PARTS}}
    return raw_zone.commit_submission(paths, "s1", tables, {"manifest": {"submission_id": "s1"}}, durable=durable)


def test_a_durable_commit_syncs_every_file_and_folder(tmp_path, synced):
    final = _commit(tmp_path, durable=True)
    files = [p for p in final.rglob("*") if p.is_file()]
    folders = [final, *(p for p in final.rglob("*") if p.is_dir())]
    # every file, every folder of the submission, and the folder it was renamed into
    assert len(synced) == len(files) + len(folders) + 1


def test_a_bulk_commit_leaves_syncing_to_the_end(tmp_path, synced):
    final = _commit(tmp_path, durable=False)
    assert synced == []
    assert (final / "manifest.json").exists() and (final / "afspraak" / "accepted.parquet").exists()


def test_workers_side_by_side_write_the_schema_files_without_tripping_over_each_other(tmp_path):
    """Airflow's workers may ingest the first files of a fresh home at the same moment."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=raw_zone.ensure_schema_files, args=(Paths(tmp_path),)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * 6
    for record_type in SCHEMAS:
        assert Paths(tmp_path).raw_schema_file(record_type).exists()
    assert not list(tmp_path.rglob("*.tmp"))
