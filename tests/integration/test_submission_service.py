"""The submission service over real HTTP: a uvicorn server in its own process, a temporary home.

The server is started the way the demo starts it (``stack.submission_service.start``) with a small
upload limit; tokens are issued into its home, and the test plays the inbox watcher and Airflow by
calling ``ingest_file`` on the delivered file itself.
"""

from __future__ import annotations

import io
import json
import socket
import zipfile
from pathlib import Path

import pytest
import requests
from references import EXAMPLES_IJW, REPO_ROOT

from outcome_monitor.config import Paths
from outcome_monitor.service import tokens
from outcome_monitor.service.openapi import COMMITTED
from outcome_monitor.stack import submission_service

pytestmark = pytest.mark.integration

LIMIT = 256 * 1024
JW323 = (EXAMPLES_IJW / "JW323.xml").read_bytes()  # sender aanbieder 65656055
JW301 = (EXAMPLES_IJW / "JW301.xml").read_bytes()  # sender gemeente 0384
PROVIDER, MUNICIPALITY, OTHER_PROVIDER = (
    tokens.Principal("aanbieder", "65656055"),
    tokens.Principal("gemeente", "0384"),
    tokens.Principal("aanbieder", "12345678"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    paths = Paths(tmp_path_factory.mktemp("service-home"))
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        # The server gets its own pseudonym key file in its home, as in production without the variable.
        patch.delenv("OUTCOME_MONITOR_PSEUDONYM_KEY", raising=False)
        submission_service.start(paths, port, max_upload_bytes=LIMIT)
    try:
        assert submission_service.is_running(paths)
        yield {"url": f"http://127.0.0.1:{port}", "paths": paths}
    finally:
        submission_service.stop(paths)
        assert not submission_service.is_running(paths)


@pytest.fixture(scope="module")
def token_of(server):
    issued = {p: tokens.issue(server["paths"], p).token for p in (PROVIDER, MUNICIPALITY, OTHER_PROVIDER)}
    return issued.__getitem__


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # no proxy between the test and 127.0.0.1
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def multipart(file_name: bytes, content: bytes, boundary: str = "grens1234") -> tuple[bytes, dict[str, str]]:
    """A multipart body built by hand, so the file name reaches the server byte for byte."""
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + file_name
        + b'"\r\n'
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def submit(http, server, token, name, content, **params):
    return http.post(
        f"{server['url']}/api/v1/submissions",
        files={"file": (name, content)},
        headers=bearer(token) if token else {},
        params=params,
        timeout=120,
    )


def test_requests_without_a_valid_token_get_401(server, http):
    url = server["url"]
    for headers in ({}, bearer("geen-echt-token"), {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        upload = http.post(f"{url}/api/v1/submissions", files={"file": ("JW323.xml", JW323)}, headers=headers)
        listing = http.get(f"{url}/api/v1/submissions", headers=headers)
        for response in (upload, listing):
            assert response.status_code == 401, response.text
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert "Geen geldig aanlevertoken" in response.json()["detail"]
    assert tree(server["paths"].inbox) == []


def test_a_revoked_token_is_refused(server, http):
    issued = tokens.issue(server["paths"], PROVIDER)
    url = f"{server['url']}/api/v1/submissions"
    assert http.get(url, headers=bearer(issued.token)).status_code == 200
    assert tokens.revoke(server["paths"], issued.token_id)
    assert http.get(url, headers=bearer(issued.token)).status_code == 401


def test_a_file_of_another_sender_is_refused_and_stored_nowhere(server, token_of, http):
    response = submit(http, server, token_of(OTHER_PROVIDER), "JW323.xml", JW323)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "65656055" in detail and "aanbieder 12345678" in detail and "zelf de afzender" in detail
    # A municipality cannot deliver a provider's declaration, nor a provider a municipality's assignment.
    assert submit(http, server, token_of(MUNICIPALITY), "JW323.xml", JW323).status_code == 403
    assert submit(http, server, token_of(PROVIDER), "JW301.xml", JW301).status_code == 403
    assert tree(server["paths"].inbox) == []
    assert [name for name in tree(server["paths"].home / "uploads") if name.endswith(".json")] == []


def test_a_bundle_is_refused_when_any_member_has_another_sender(server, token_of, http):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("JW323.xml", JW323)
        bundle.writestr("JW301.xml", JW301)
    for principal in (PROVIDER, MUNICIPALITY):
        response = submit(http, server, token_of(principal), "bundel.zip", buffer.getvalue())
        assert response.status_code == 403
        assert "0384, 65656055" in response.json()["detail"]


def test_dry_run_returns_the_report_and_stores_nothing(server, token_of, http):
    paths = server["paths"]
    response = submit(http, server, token_of(PROVIDER), "JW323.xml", JW323, dry_run="true")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "gecontroleerd" and body["status"] == "partially_accepted"
    assert body["status_nl"] == "Gedeeltelijk geaccepteerd"
    report = body["report"]
    assert report["dry_run"] is True
    assert report["counts"]["accepted"] == 4 and report["counts"]["rejected"] == 1
    assert {finding["code"] for finding in report["findings"]} == {"8021", "9319"}
    for folder in (paths.inbox, paths.processing, paths.archive, paths.raw, paths.feedback):
        assert tree(folder) == [], folder
    assert tree(paths.home / "uploads") in ([], [".staging"])
    # Nothing to follow up: the dry-run id is unknown to the status endpoint.
    status = http.get(f"{server['url']}/api/v1/submissions/{body['submission_id']}", headers=bearer(token_of(PROVIDER)))
    assert status.status_code == 404


def test_an_unreadable_file_is_refused_but_a_dry_run_explains_why(server, token_of, http):
    response = submit(http, server, token_of(PROVIDER), "kapot.xml", b"<niet-af")
    assert response.status_code == 422
    assert "afzender van dit bestand kon niet worden gelezen" in response.json()["detail"]
    checked = submit(http, server, token_of(PROVIDER), "kapot.xml", b"<niet-af", dry_run="true")
    assert checked.status_code == 200
    assert checked.json()["status"] == "rejected"
    assert [finding["code"] for finding in checked.json()["report"]["findings"]] == ["OM001"]
    assert tree(server["paths"].inbox) == []


def test_an_upload_lands_complete_in_the_inbox_and_shows_its_report_after_ingest(server, token_of, http, monkeypatch):
    from outcome_monitor.ingest import ingest_file
    from outcome_monitor.ingest.submission import manifest_path

    paths, url = server["paths"], server["url"]
    response = submit(http, server, token_of(PROVIDER), "JW323.xml", JW323)
    assert response.status_code == 202, response.text
    accepted = response.json()
    submission_id = accepted["submission_id"]
    assert submission_id == accepted["sha256"][:20] and len(submission_id) == 20
    assert accepted["state"] == "ontvangen"
    assert response.headers["Location"] == accepted["status_url"] == f"/api/v1/submissions/{submission_id}"

    # In the inbox complete, under a content-addressed name; nothing half-written next to it.
    assert tree(paths.inbox) == [f"{submission_id}-JW323.xml"]
    delivered = paths.inbox / f"{submission_id}-JW323.xml"
    assert delivered.read_bytes() == JW323
    assert tree(paths.home / "uploads" / ".staging") == []
    sidecar = json.loads((paths.home / "uploads" / f"{submission_id}.json").read_text())
    assert (sidecar["submitted_by"], sidecar["submitted_by_kind"]) == ("65656055", "aanbieder")
    assert sidecar["original_name"] == "JW323.xml" and sidecar["sha256"] == accepted["sha256"]

    mine = http.get(f"{url}{accepted['status_url']}", headers=bearer(token_of(PROVIDER)))
    assert mine.status_code == 200
    assert mine.json()["state"] == "ontvangen" and mine.json()["report"] is None
    assert mine.json()["submitted_by"] == {"kind": "aanbieder", "code": "65656055"}
    # The receiving municipality and another provider do not see it.
    for other in (MUNICIPALITY, OTHER_PROVIDER):
        assert http.get(f"{url}{accepted['status_url']}", headers=bearer(token_of(other))).status_code == 404
        listed = http.get(f"{url}/api/v1/submissions", headers=bearer(token_of(other))).json()["submissions"]
        assert submission_id not in {item["submission_id"] for item in listed}
    listed = http.get(f"{url}/api/v1/submissions", headers=bearer(token_of(PROVIDER))).json()["submissions"]
    assert [item["submission_id"] for item in listed if item["submission_id"] == submission_id] == [submission_id]

    # Airflow's part, done here: ingest the inbox file as the DAG would.
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(paths.home))
    monkeypatch.delenv("OUTCOME_MONITOR_PSEUDONYM_KEY", raising=False)
    report = ingest_file(delivered, paths, original_name=delivered.name)
    assert report["submission_id"] == submission_id

    done = http.get(f"{url}{accepted['status_url']}", headers=bearer(token_of(PROVIDER))).json()
    assert done["state"] == "verwerkt" and done["status"] == "partially_accepted"
    assert done["status_nl"] == "Gedeeltelijk geaccepteerd"
    assert done["report"]["counts"] == report["counts"]
    manifest = json.loads(manifest_path(paths, submission_id).read_text())
    assert manifest["submitted_by"] == "65656055"  # ingest found who delivered it in the sidecar
    assert {finding["code"] for finding in done["report"]["findings"]} == {"8021", "9319"}


def test_a_municipality_delivers_its_own_assignment(server, token_of, http):
    response = submit(http, server, token_of(MUNICIPALITY), "JW301.xml", JW301)
    assert response.status_code == 202, response.text
    assert (server["paths"].inbox / f"{response.json()['submission_id']}-JW301.xml").read_bytes() == JW301


@pytest.mark.parametrize(
    ("client_name", "kept_as"),
    [
        (b"../../../../tmp/evil.xml", "evil.xml"),
        (b"C:\\\\Users\\\\x\\\\..\\\\jw.xml", "jw.xml"),
        (b"nul\x00byte.xml", "nulbyte.xml"),
        (b".verborgen.part", "verborgen.part_"),
    ],
)
def test_path_tricks_in_the_file_name_are_neutralised(server, token_of, http, client_name, kept_as):
    content = JW323.replace(b"RN004", b"RN-" + kept_as.encode()[:20])  # a new id per case
    body, headers = multipart(client_name, content)
    response = http.post(
        f"{server['url']}/api/v1/submissions", data=body, headers={**headers, **bearer(token_of(PROVIDER))}
    )
    assert response.status_code == 202, response.text
    assert response.json()["original_name"] == kept_as
    expected = server["paths"].inbox / f"{response.json()['submission_id']}-{kept_as}"
    assert expected.read_bytes() == content
    assert not (server["paths"].home.parent / "evil.xml").exists() and not Path("/tmp/evil.xml").exists()


def test_files_over_the_limit_get_413_whether_announced_or_streamed(server, token_of, http):
    too_big = JW323 + b"<!--" + b"x" * LIMIT + b"-->"
    announced = submit(http, server, token_of(PROVIDER), "groot.xml", too_big)
    assert announced.status_code == 413
    assert "groter dan toegestaan" in announced.json()["detail"]

    # Chunked, without Content-Length: the limit must hold while the body streams in.
    body, headers = multipart(b"groot.xml", too_big)
    chunks = (body[start : start + 8192] for start in range(0, len(body), 8192))
    streamed = http.post(
        f"{server['url']}/api/v1/submissions", data=chunks, headers={**headers, **bearer(token_of(PROVIDER))}
    )
    assert streamed.request.headers.get("Transfer-Encoding") == "chunked"
    assert streamed.status_code == 413
    assert tree(server["paths"].home / "uploads" / ".staging") == []
    assert not any("groot" in name for name in tree(server["paths"].inbox))


def test_tabular_files_are_refused_until_tabular_ingest_exists_then_checked_for_their_sender(server, token_of, http):
    # A complete declaratie row (docs/aanlevering.md) from aanbieder 12345678, sent with another provider's token.
    csv = (
        b"gemeente_code;aanbieder_agb;domein;declaratienummer;declaratie_begindatum;declaratie_einddatum;"
        b"referentienummer;toewijzingnummer;bsn;productcategorie;productcode;productperiode_begindatum;"
        b"productperiode_einddatum;volume;eenheid;tarief;bedrag;debet_credit\n"
        b"1680;12345678;jeugd;D1;2025-01-01;2025-01-31;R1;T1;999990019;45;45A48;2025-01-01;2025-01-31;"
        b"2;04;12,50;25,00;D\n"
    )
    response = submit(http, server, token_of(PROVIDER), "declaraties.csv", csv)
    try:
        from outcome_monitor.ingest.tabular import parse_tabular  # noqa: F401
    except ImportError:
        assert response.status_code == 415
        assert "CSV" in response.json()["detail"]
    else:
        assert response.status_code == 403, response.text
        assert "12345678" in response.json()["detail"]
    assert not any(name.endswith(".csv") for name in tree(server["paths"].inbox))


def test_the_served_openapi_document_is_the_committed_one(server, http):
    served = http.get(f"{server['url']}/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(COMMITTED.read_text())
    assert COMMITTED.is_relative_to(REPO_ROOT)
