"""Shared fixtures: every test gets its own OUTCOME_MONITOR_HOME, never the developer's ./data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "istandaarden"
EXAMPLES_IJW = SHARED_REFERENCE / "ijw-3.2" / "voorbeeldberichten"
EXAMPLES_IWMO = SHARED_REFERENCE / "iwmo-3.2" / "voorbeeldberichten"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# Airflow writes its config where AIRFLOW_HOME points: never into the developer's home.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(folder))
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "test-key-not-secret")
    return folder
