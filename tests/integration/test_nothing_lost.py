"""Nothing lost: a load killed half-way leaves nothing partial, a retry gives the same result, and
`outcome-monitor replay` rebuilds the raw zone from the archive with identical Parquet content."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from outcome_monitor.config import Paths
from outcome_monitor.generate import generate
from outcome_monitor.ingest import ingest_file
from outcome_monitor.raw_zone import committed_submissions
from outcome_monitor.replay import replay, same_parquet_content

KEY = "test-key-not-secret"
KILL_AFTER_SECOND_PARQUET = """
import os, signal, sys
from pathlib import Path
from outcome_monitor import raw_zone
from outcome_monitor.config import paths
from outcome_monitor.ingest import ingest_file

write, written = raw_zone.pq.write_table, []

def write_then_die(table, where, *args, **kwargs):
    write(table, where, *args, **kwargs)
    if "_staging" in str(where):  # the submission's own files, not the shared empty schema files
        written.append(where)
    if len(written) == 2:
        os.kill(os.getpid(), signal.SIGKILL)

raw_zone.pq.write_table = write_then_die
ingest_file(Path(sys.argv[1]), paths())
"""


def _env(home: Path, key: str = KEY) -> dict[str, str]:
    return {**os.environ, "OUTCOME_MONITOR_HOME": str(home), "OUTCOME_MONITOR_PSEUDONYM_KEY": key}


def _cli(home: Path, *args: str, key: str = KEY) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "outcome_monitor.cli", *args],
        env=_env(home, key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(home: Path, *args: str, key: str = KEY) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "outcome_monitor.cli", *args], env=_env(home, key), capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, seed=7, scale=0.5)
    return out / "submissions"


@pytest.fixture(scope="module")
def big_bundle(sample, tmp_path_factory) -> Path:
    """Every message of the sample region in one ZIP: four record types, about ten thousand rows."""
    target = tmp_path_factory.mktemp("big") / "alles.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for source in sorted(sample.glob("*.zip")):
            with zipfile.ZipFile(source) as bundle:
                for info in bundle.infolist():
                    out.writestr(f"{source.stem}--{info.filename}", bundle.read(info))
    return target


def _assert_only_complete_submissions(home: Path) -> list[str]:
    """Every committed submission folder has its manifest, report and every Parquet file it lists."""
    paths = Paths(home)
    committed = committed_submissions(paths)
    for submission_id in committed:
        folder = paths.raw_submission(submission_id)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert (folder / "report.json").exists()
        for entry in manifest["files"]:
            table = pq.read_table(folder / entry["record_type"] / f"{entry['part']}.parquet")
            assert table.num_rows == entry["rows"], (submission_id, entry)
    return committed


def test_kill_9_half_way_leaves_nothing_partial_and_a_retry_gives_the_same_result(big_bundle, tmp_path):
    clean = tmp_path / "clean"
    started = time.monotonic()
    done = _run(clean, "ingest", str(big_bundle))
    full_run = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    clean_report = json.loads(done.stdout)
    assert clean_report["counts"]["received"] > 5000
    assert len(clean_report["counts"]["by_record_type"]) >= 4  # XML and tabular record types

    # Kills spread over the whole run (imports, parsing, validation), each in a home of its own ...
    for fraction in (0.4, 0.9):
        home = tmp_path / f"killed-at-{fraction}"
        process = _cli(home, "ingest", str(big_bundle))
        time.sleep(full_run * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        committed = _assert_only_complete_submissions(home)
        if process.returncode == -signal.SIGKILL:
            assert committed == []
    killed = tmp_path / "killed"
    # ... and, deterministically, in the middle of writing the staging folder: a real child process
    # that SIGKILLs itself right after its second Parquet file is written (fault injection at the
    # moment of our choosing; everything else is the real code).
    dying = subprocess.Popen(
        [sys.executable, "-c", KILL_AFTER_SECOND_PARQUET, str(big_bundle)],
        env=_env(killed), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _, stderr = dying.communicate(timeout=300)
    assert dying.returncode == -signal.SIGKILL, stderr
    staged = list(Paths(killed).raw_staging.glob(f"*.{dying.pid}/*/*.parquet"))
    assert len(staged) == 2, "the kill came mid-write: two files staged, the rest not"
    assert _assert_only_complete_submissions(killed) == []

    retry = _run(killed, "ingest", str(big_bundle))
    assert retry.returncode == 0, retry.stderr
    report = json.loads(retry.stdout)
    assert report["status"] == clean_report["status"] and report["counts"] == clean_report["counts"]
    (submission_id,) = _assert_only_complete_submissions(killed)
    assert same_parquet_content(Paths(clean).raw_submission(submission_id), Paths(killed).raw_submission(submission_id))
    # The same content once more changes nothing.
    again = json.loads(_run(killed, "ingest", str(big_bundle)).stdout)
    assert again["status"] == "duplicate"
    assert _assert_only_complete_submissions(killed) == [submission_id]


def test_replay_rebuilds_identical_parquet_from_the_archive_and_notices_a_different_key(
    sample, tmp_path, monkeypatch
):
    home = tmp_path / "home"
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(home))
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", KEY)
    files = sorted(sample.iterdir())[:12]
    for file in files:
        ingest_file(file, Paths(home))
    before = committed_submissions(Paths(home))
    assert len(before) == len(files)

    same = _run(home, "replay")
    assert same.returncode == 0, same.stdout + same.stderr
    summary = json.loads(same.stdout)
    assert summary["submissions"] == len(files) and summary["identical"] == len(files)
    assert summary["different"] == [] and not any((home / "replay").iterdir())

    # A rotated pseudonymisation key changes every client_pseudonym: replay must see that ...
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "a-new-key")
    rotated = replay(Paths(home))
    assert not rotated.is_identical and len(rotated.different) == len(files)
    # ... and --apply swaps the rebuilt raw zone in, keeping the old one aside.
    applied = replay(Paths(home), apply=True)
    assert applied.applied_aside.is_dir()
    assert committed_submissions(Paths(home)) == before
    assert replay(Paths(home)).is_identical
