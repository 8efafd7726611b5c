"""Submission tokens: only hashes on disk, constant-time checks, revocation, the CLI."""

from __future__ import annotations

import hashlib
import json
import stat
import threading

import pytest

from outcome_monitor.cli import main
from outcome_monitor.config import paths
from outcome_monitor.service import tokens
from outcome_monitor.service.tokens import Principal

PROVIDER = Principal("aanbieder", "12345678")
MUNICIPALITY = Principal("gemeente", "1690")


def test_issued_token_is_stored_only_as_its_hash_in_a_private_file(home):
    issued = tokens.issue(paths(), PROVIDER)
    file = tokens.token_file(paths())
    text = file.read_text()
    assert issued.token not in text
    assert hashlib.sha256(issued.token.encode()).hexdigest() in text
    assert len(issued.token) >= 43  # token_urlsafe(32)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    (entry,) = json.loads(text)["tokens"]
    assert entry["principal"] == {"kind": "aanbieder", "code": "12345678"}
    assert entry["token_id"] == issued.token_id and entry["revoked_at"] is None and entry["created_at"]
    assert [p.name for p in file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_verify_returns_the_principal_of_an_active_token_only(home):
    provider = tokens.issue(paths(), PROVIDER)
    municipality = tokens.issue(paths(), MUNICIPALITY)
    assert tokens.verify(paths(), provider.token) == PROVIDER
    assert tokens.verify(paths(), municipality.token) == MUNICIPALITY
    assert tokens.verify(paths(), provider.token + "x") is None
    assert tokens.verify(paths(), "") is None and tokens.verify(paths(), None) is None
    assert tokens.revoke(paths(), provider.token_id)
    assert tokens.verify(paths(), provider.token) is None
    assert tokens.verify(paths(), municipality.token) == MUNICIPALITY
    assert not tokens.revoke(paths(), provider.token_id)  # already revoked
    assert not tokens.revoke(paths(), "tok_bestaatniet")


def test_verify_without_a_token_file_refuses_everything(home):
    assert tokens.verify(paths(), "anything") is None


def test_listing_never_shows_a_token_or_its_hash(home):
    issued = tokens.issue(paths(), PROVIDER)
    listed = tokens.listing(paths())
    assert listed == [
        {
            "token_id": issued.token_id,
            "principal": PROVIDER.as_dict(),
            "created_at": listed[0]["created_at"],
            "revoked_at": None,
        }
    ]
    assert issued.token not in json.dumps(listed)


@pytest.mark.parametrize(
    ("kind", "code"),
    [("aanbieder", "1234567"), ("aanbieder", "1234567A"), ("gemeente", "169"), ("gemeente", "01690"), ("zorg", "1")],
)
def test_principals_must_have_a_well_formed_code(kind, code):
    with pytest.raises(ValueError):
        Principal(kind, code)


def test_concurrent_issues_lose_no_token(home):
    issued: list[tokens.IssuedToken] = []

    def issue_some():
        for _ in range(10):
            issued.append(tokens.issue(paths(), PROVIDER))

    threads = [threading.Thread(target=issue_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens.listing(paths())) == 40
    assert all(tokens.verify(paths(), one.token) == PROVIDER for one in issued)


def test_demo_tokens_verify_and_are_stored_privately(home):
    demo = tokens.issue_demo_tokens(paths(), [PROVIDER, MUNICIPALITY])
    assert set(demo) == {"aanbieder 12345678", "gemeente 1690"}
    assert tokens.verify(paths(), demo["gemeente 1690"]) == MUNICIPALITY
    stored = tokens.store_demo_tokens(paths(), demo)
    assert json.loads(stored.read_text()) == demo
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_cli_prints_the_token_once_and_lists_without_it(home, capsys):
    assert main(["tokens", "issue", "--gemeente", "1690"]) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert tokens.verify(paths(), token) == MUNICIPALITY
    assert "niet opnieuw getoond" in printed.err
    (entry,) = tokens.listing(paths())
    assert main(["tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert entry["token_id"] in listed and token not in listed
    assert main(["tokens", "revoke", entry["token_id"]]) == 0
    assert tokens.verify(paths(), token) is None
    assert main(["tokens", "revoke", entry["token_id"]]) == 1
    assert main(["tokens", "issue", "--aanbieder", "123"]) == 2
    assert "8 cijfers" in capsys.readouterr().err
