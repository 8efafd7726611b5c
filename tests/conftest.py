"""Shared fixtures: every test gets its own OUTCOME_MONITOR_HOME, never the developer's ./data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# Airflow writes its config where AIRFLOW_HOME points: never into the developer's home.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(folder))
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "test-key-not-secret")
    return folder
