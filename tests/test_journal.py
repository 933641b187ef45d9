"""What the journal keeps of a request: credentials masked, bodies cut to a size, bounded in bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import EPX_PACT
from tests.hostile import EPX_HEADERS

SECRETS = {
    "Authorization": "Basic dXNlcjpwYXNz",
    "Cookie": "session=abc",
    "X-Api-Key": "key-123",
    "X-Team-Secret": "team-456",
}


def journaled_headers(**options: Any) -> dict[str, str]:
    app = create_app([EPX_PACT], **options)
    client = Client(app, use_cookies=False)  # the Cookie header goes as written
    client.post("/jobs/register", data=json.dumps({"tags": ["a"]}), headers={**EPX_HEADERS, **SECRETS})
    entries = client.get("/_pactstub/requests").json
    app.close()
    assert entries is not None
    return dict(entries[-1]["request"]["headers"])


def test_credential_headers_are_masked_by_default() -> None:
    headers = journaled_headers()
    masked = ("Authorization", "Cookie", "X-Api-Key", "Offline-Token")
    assert {name: headers[name] for name in masked} == dict.fromkeys(masked, "***")
    assert headers["X-Team-Secret"] == "team-456"
    assert headers["Fredcli-Version"] == "0.4.0"


def test_the_masked_headers_can_be_chosen() -> None:
    headers = journaled_headers(masked_headers=["X-Team-Secret", "authorization"])
    assert (headers["X-Team-Secret"], headers["Authorization"]) == ("***", "***")
    assert headers["Offline-Token"] == EPX_HEADERS["Offline-Token"]


def test_a_credential_that_does_not_match_is_masked_in_its_mismatch_and_the_log_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app([EPX_PACT])
    client = Client(app)
    token = "Token s3cr3t-value, other"  # the pact wants "Bearer ..."
    answer = client.post(
        "/jobs/register", data=json.dumps({"tags": ["a"]}), headers={**EPX_HEADERS, "Offline-Token": token}
    )
    journaled = client.get("/_pactstub/requests").text
    app.close()
    assert answer.status_code == 400
    assert "s3cr3t" in answer.text, "the sender is told what it sent"
    (entry,) = json.loads(journaled)
    (mismatch,) = entry["closest"][0]["mismatches"]
    assert mismatch["location"] == "header Offline-Token"
    assert mismatch["actual"] == "***"
    assert "***" in mismatch["message"]
    assert "s3cr3t" not in journaled
    assert not [r for r in caplog.records if "s3cr3t" in r.getMessage()]


def test_a_body_is_kept_up_to_the_limit_and_marked_cut() -> None:
    app = create_app([EPX_PACT], journal_body_limit=16)
    body = json.dumps({"tags": ["x" * 100]})
    Client(app).post("/jobs/register", data=body, headers=EPX_HEADERS)
    (entry,) = app.journal.entries()
    app.close()
    assert entry.request.body == body[:16]
    assert (entry.request.body_size, entry.request.body_truncated) == (len(body), True)


def test_the_journal_is_bounded_in_bytes_keeping_the_newest() -> None:
    app = create_app([EPX_PACT], journal_bytes=20_000, journal_body_limit=4096)
    client = Client(app)
    for index in range(40):
        big = json.dumps({"tags": [f"{index:02}" + "x" * 5_000_000]})
        client.post("/jobs/register", data=big, headers=EPX_HEADERS)
    entries = app.journal.entries()
    total, size = app.journal_table.totals()
    app.close()
    assert size <= 20_000
    assert 1 < total < 40
    assert [entry.request.body[11:13] for entry in entries] == [f"{i:02}" for i in range(40 - total, 40)]


def test_sequence_numbers_never_go_back_after_the_journal_is_cleared(tmp_path: Any) -> None:
    """A client polling ``?after=N`` keeps seeing new requests after someone clears the journal."""
    app = create_app([EPX_PACT], database_url=f"sqlite:///{tmp_path}/store.sqlite3")
    client = Client(app)
    for _ in range(3):
        client.post("/jobs/register", data=json.dumps({"tags": []}), headers=EPX_HEADERS)
    last = json.loads(client.get("/_pactstub/requests").data)[-1]["sequence"]
    assert client.delete("/_pactstub/requests").status_code == 204
    client.post("/jobs/register", data=json.dumps({"tags": []}), headers=EPX_HEADERS)
    newer = json.loads(client.get(f"/_pactstub/requests?after={last}").data)
    app.close()
    assert [entry["sequence"] > last for entry in newer] == [True]
