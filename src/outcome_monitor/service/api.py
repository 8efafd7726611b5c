"""The JSON API under /api/v1: deliver a file, check it (dry run), follow its state. Bearer tokens only.

The API never accepts the upload page's cookie: a cookie is sent by the browser on its own, a
bearer token only by a client that holds it, so the API needs no CSRF protection.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from outcome_monitor.feedback import STATUS_NL
from outcome_monitor.service import submissions
from outcome_monitor.service.intake import Refused, Settings, take_upload
from outcome_monitor.service.tokens import Principal, verify

SUBMISSION_ID = re.compile(r"^[0-9a-f]{20}$")
bearer = HTTPBearer(
    auto_error=False,
    description="Het persoonlijke aanlevertoken van de aanbieder of gemeente (`outcome-monitor tokens issue`).",
)
router = APIRouter(prefix="/api/v1", tags=["aanleveringen"])


class Problem(BaseModel):
    detail: str = Field(description="Wat er mis is, in het Nederlands.")


class PrincipalOut(BaseModel):
    kind: str = Field(description="aanbieder of gemeente")
    code: str = Field(description="AGB-code (8 cijfers) of CBS-gemeentecode (4 cijfers)")


class SubmissionAccepted(BaseModel):
    submission_id: str = Field(description="De eerste 20 tekens van de SHA-256 van de inhoud.")
    sha256: str
    state: str = Field(description="`ontvangen`: het bestand wacht op verwerking.")
    original_name: str = Field(description="De (opgeschoonde) bestandsnaam.")
    received_at: str
    status_url: str


class DryRunResult(BaseModel):
    submission_id: str
    state: str = Field(description="`gecontroleerd`: er is niets opgeslagen.")
    original_name: str
    status: str = Field(description="accepted, partially_accepted, rejected of duplicate")
    status_nl: str
    report: dict[str, Any] = Field(description="Het terugkoppelingsrapport, zoals na een echte aanlevering.")


class SubmissionSummary(BaseModel):
    submission_id: str
    state: str = Field(description="`ontvangen` (wacht op verwerking) of `verwerkt` (rapport beschikbaar)")
    state_nl: str
    original_name: str | None
    submitted_by: PrincipalOut | None
    received_at: str | None
    status: str | None = Field(description="De status uit het rapport, zodra het er is.")
    status_nl: str | None


class SubmissionState(SubmissionSummary):
    report: dict[str, Any] | None = Field(description="Het terugkoppelingsrapport, zodra het er is.")


class SubmissionList(BaseModel):
    submissions: list[SubmissionSummary]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def principal_of(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    principal = verify(settings_of(request).paths, credentials.credentials if credentials else None)
    if principal is None:
        raise HTTPException(
            401,
            "Geen geldig aanlevertoken: stuur 'Authorization: Bearer <token>' met een token dat niet is ingetrokken.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(principal_of)]
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "Het bestand."}},
                    "required": ["file"],
                }
            }
        },
    }
}
_ERRORS = {
    401: {"model": Problem, "description": "Geen, een onbekend of een ingetrokken token."},
}


@router.post(
    "/submissions",
    status_code=202,
    response_model=SubmissionAccepted,
    summary="Een bestand aanleveren (of met dry_run=true alleen controleren)",
    openapi_extra=_UPLOAD_BODY,
    responses={
        200: {"model": DryRunResult, "description": "dry_run=true: het rapport; er is niets opgeslagen."},
        **_ERRORS,
        400: {"model": Problem, "description": "Geen multipart-formulier of geen bestand."},
        403: {"model": Problem, "description": "De afzender in het bestand is niet de houder van het token."},
        413: {"model": Problem, "description": "Het bestand is groter dan toegestaan."},
        415: {"model": Problem, "description": "Een bestandssoort die hier (nog) niet wordt verwerkt."},
        422: {"model": Problem, "description": "De afzender van het bestand is niet te lezen."},
    },
)
async def submit(
    request: Request,
    principal: PrincipalDep,
    dry_run: Annotated[bool, Query(description="Alleen controleren: het rapport, zonder iets op te slaan.")] = False,
):
    settings = settings_of(request)
    try:
        outcome = await take_upload(request, settings, principal, dry_run=dry_run)
    except Refused as refused:
        return JSONResponse({"detail": refused.message}, status_code=refused.status_code)
    if outcome.dry_run:
        report = outcome.report
        return JSONResponse(
            DryRunResult(
                submission_id=report["submission_id"],
                state="gecontroleerd",
                original_name=outcome.original_name,
                status=report["status"],
                status_nl=STATUS_NL.get(report["status"], report["status"]),
                report=report,
            ).model_dump(),
            status_code=200,
        )
    delivered = outcome.delivered
    status_url = f"/api/v1/submissions/{delivered.submission_id}"
    body = SubmissionAccepted(
        submission_id=delivered.submission_id,
        sha256=delivered.sidecar["sha256"],
        state=submissions.RECEIVED,
        original_name=outcome.original_name,
        received_at=delivered.sidecar["received_at"],
        status_url=status_url,
    )
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": status_url})


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionState,
    summary="De stand van een aanlevering, met het rapport zodra het er is",
    responses={**_ERRORS, 404: {"model": Problem, "description": "Onbekend, of niet door u aangeleverd."}},
)
def submission(submission_id: str, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    state = None
    if SUBMISSION_ID.match(submission_id):
        state = submissions.state_for(settings_of(request).paths, submission_id, principal)
    if state is None:
        raise HTTPException(404, "Deze aanlevering bestaat niet of is niet door u aangeleverd.")
    return state


@router.get(
    "/submissions",
    response_model=SubmissionList,
    summary="Uw aanleveringen via deze dienst, nieuwste eerst",
    responses=_ERRORS,
)
def own_submissions(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    return {"submissions": submissions.list_for(settings_of(request).paths, principal)}
