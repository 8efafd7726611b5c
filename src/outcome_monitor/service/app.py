"""The FastAPI application: the JSON API, the upload page and a health check.

Run it with ``outcome-monitor serve``; ``stack/submission_service.py`` starts it in the background.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from outcome_monitor.config import paths, pseudonym_key, secret_file
from outcome_monitor.service import api, pages, submissions
from outcome_monitor.service.intake import DEFAULT_MAX_UPLOAD_BYTES, Settings

TITLE = "Aanleverdienst outcome monitor"
DESCRIPTION = """Aanbieders (AGB-code) en gemeenten (CBS-gemeentecode) leveren hier hun bestanden aan:
iJw- en iWmo-berichten (XML) of ZIP-bundels daarvan. Elk verzoek draagt een persoonlijk token
(`Authorization: Bearer <token>`); een bestand wordt alleen aangenomen als de afzender in het bestand
de houder van het token is. Zie docs/api.md voor voorbeelden."""


def _warm_ingest() -> None:
    """Import the ingest libraries (Great Expectations: seconds) before the first dry run needs them."""
    with contextlib.suppress(Exception):
        import great_expectations  # noqa: F401


def create_app(settings: Settings | None = None, *, warm: bool = True) -> FastAPI:
    settings = settings or Settings(paths())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Resolved here, once: a dry run must never be the one that creates the pseudonym key.
        pseudonym_key()
        app.state.csrf_secret = secret_file(settings.paths.secrets / "submission-service-csrf.key").encode()
        shutil.rmtree(submissions.staging_folder(settings.paths), ignore_errors=True)  # a crash's leftovers
        if warm:
            threading.Thread(target=_warm_ingest, name="warm-ingest", daemon=True).start()
        yield

    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version="1.0.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load their assets from CDNs; the machine is offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/health", include_in_schema=False, response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    return app


__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "Settings", "create_app"]
