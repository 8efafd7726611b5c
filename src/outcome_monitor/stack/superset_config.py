"""Superset configuration for the outcome monitor (copied verbatim to ``<home>/superset/``).

This file is not imported by the ``outcome_monitor`` package: ``stack/superset.py`` copies it to
``$OUTCOME_MONITOR_HOME/superset/superset_config.py`` and points ``SUPERSET_CONFIG_PATH`` at the
copy. Every path is derived from the copy's own location, so the file holds no environment-specific
paths and no secrets: the secret key is read from ``<home>/secrets/superset-secret-key`` (mode 0600),
which the set-up generates once.

The auditor's packages (``<home>/exports/``, read-only in production) are served to controllers at
``/jaarafsluiting/`` by the blueprint in ``package_portal.py``, which the set-up copies next to this
file (standard library and Flask only: this environment has no ``outcome_monitor`` package).

Production (docker-compose) sets three variables instead: ``SUPERSET_SECRET_KEY``,
``OUTCOME_MONITOR_SUPERSET_DB_URL`` (PostgreSQL metadata) and ``OUTCOME_MONITOR_REDIS_URL`` (cache).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_SUPERSET_DIR = Path(__file__).resolve().parent  # <home>/superset
_HOME = _SUPERSET_DIR.parent

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or (_HOME / "secrets" / "superset-secret-key").read_text().strip()

# Metadata (users, dashboards, charts) in SQLite next to this file unless a server database is
# configured; the analytics data is the published DuckDB file, registered read-only by the import.
SQLALCHEMY_DATABASE_URI = (
    os.environ.get("OUTCOME_MONITOR_SUPERSET_DB_URL")
    or f"sqlite:///{_SUPERSET_DIR / 'superset.db'}?check_same_thread=false"
)
DATA_DIR = str(_SUPERSET_DIR)
UPLOAD_FOLDER = str(_SUPERSET_DIR / "uploads")

APP_NAME = "Uitkomstenmonitor"

FEATURE_FLAGS = {
    # Render every chart of a dashboard at once (also off-screen): the council reads the whole
    # page, and headless screenshots and tests need all charts, not only the visible ones.
    "DASHBOARD_VIRTUALIZATION": False,
    # Dashboards can be granted per role (council, provider, controller).
    "DASHBOARD_RBAC": True,
    # Markdown headers are text, not HTML.
    "ESCAPE_MARKDOWN_HTML": True,
    # No Jinja in SQL, no sub-queries in ad-hoc expressions, no alert/report workers.
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALLOW_ADHOC_SUBQUERY": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "TAGGING_SYSTEM": False,
    "SSH_TUNNELING": False,
    "ENABLE_SUPERSET_META_DB": False,
}

# Only the registered, read-only DuckDB database; never SQLite or file-reading drivers.
PREVENT_UNSAFE_DB_CONNECTIONS = True
SHOW_STACKTRACE = False

# Dutch interface and number formats (1.234,5 and € 1.234).
BABEL_DEFAULT_LOCALE = "nl"
LANGUAGES = {
    "nl": {"flag": "nl", "name": "Nederlands"},
    "en": {"flag": "us", "name": "English"},
}
D3_FORMAT = {
    "decimal": ",",
    "thousands": ".",
    "grouping": [3],
    "currency": ["€ ", ""],
}
D3_TIME_FORMAT = {
    "dateTime": "%a %e %B %Y %X",
    "date": "%d-%m-%Y",
    "time": "%H:%M:%S",
    "periods": ["", ""],
    "days": ["zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"],
    "shortDays": ["zo", "ma", "di", "wo", "do", "vr", "za"],
    "months": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "shortMonths": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
}
CURRENCIES = ["EUR"]

# One local server: in-process rate-limit storage, no Celery, nothing loaded from the internet.
RATELIMIT_STORAGE_URI = "memory://"
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # plain http on 127.0.0.1; put TLS in front in production

# Several gunicorn workers (docker-compose) share one cache and one rate-limit store in Redis.
_REDIS_URL = os.environ.get("OUTCOME_MONITOR_REDIS_URL")
if _REDIS_URL:
    CACHE_CONFIG = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": _REDIS_URL, "CACHE_KEY_PREFIX": "superset_"}
    DATA_CACHE_CONFIG = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": _REDIS_URL, "CACHE_KEY_PREFIX": "data_"}
    RATELIMIT_STORAGE_URI = _REDIS_URL


def _package_portal():
    """package_portal.py beside this file, loaded by path (registered so its dataclasses resolve)."""
    path = _SUPERSET_DIR / "package_portal.py"
    spec = importlib.util.spec_from_file_location("uitkomstenmonitor_package_portal", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# /jaarafsluiting/: the auditor's packages for the controller role (and Admin) only.
BLUEPRINTS = [_package_portal().create_blueprint(_HOME / "exports")]
