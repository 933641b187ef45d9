"""The stub's own endpoints under ``/_pactstub/``: state, reset, journal."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from pactstub import create_app
from pactstub.loading import load_pacts
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES

HEADERS = {
    "Offline-Token": "Bearer t",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}


@pytest.fixture
def stub() -> Client:
    return Client(create_app([EPX_PACT, S3_PACT], templates=TEMPLATES))


def register(stub: Client) -> int:
    response = stub.post("/jobs/register", data=json.dumps({"tags": ["t"]}), headers=HEADERS)
    assert response.status_code == 200
    assert response.json is not None
    return int(response.json["id"])


def test_state_shows_counters_and_collection_sizes(stub: Client) -> None:
    register(stub)
    register(stub)
    state = stub.get("/_pactstub/state").json
    assert state is not None
    assert state["counters"]["jobs"] == 124
    assert state["collections"]["jobs"] == 2


def test_reset_restarts_counters_and_clears_records_and_journal(stub: Client) -> None:
    assert register(stub) == 123
    response = stub.post("/_pactstub/reset")
    assert response.status_code == 200
    assert stub.get("/_pactstub/requests").json == []
    state = stub.get("/_pactstub/state").json
    assert state is not None
    assert state["collections"].get("jobs", 0) == 0
    assert register(stub) == 123


def test_reset_of_one_collection_keeps_the_others(stub: Client) -> None:
    job = register(stub)
    runs = {
        "runRequests": [
            {
                **json.loads(EPX_PACT.read_text())["interactions"][4]["request"]["body"]["runRequests"][0],
                "jobId": job,
            }
        ]
    }
    assert stub.post("/runs", data=json.dumps(runs), headers=HEADERS).status_code == 200
    stub.post("/_pactstub/reset?collection=runs")
    state = stub.get("/_pactstub/state").json
    assert state is not None
    assert state["collections"].get("runs", 0) == 0
    assert state["collections"]["jobs"] == 1
    assert len(stub.get("/_pactstub/requests").json or []) == 2


def test_the_journal_can_be_cleared(stub: Client) -> None:
    register(stub)
    assert stub.delete("/_pactstub/requests").status_code == 204
    assert stub.get("/_pactstub/requests").json == []


def test_an_unknown_admin_endpoint_lists_the_known_ones(stub: Client) -> None:
    response = stub.get("/_pactstub/nothing")
    assert response.status_code == 404
    assert response.json is not None
    assert "/_pactstub/reset" in response.json["endpoints"]


def test_the_admin_prefix_is_never_matched_against_the_pact(tmp_path: Path) -> None:
    pact = tmp_path / "p.json"
    interaction = {
        "description": "x",
        "request": {"method": "GET", "path": "/_pactstub/state"},
        "response": {},
    }
    pact.write_text(json.dumps({"interactions": [interaction]}), encoding="utf-8")
    body = Client(create_app([pact])).get("/_pactstub/state").json
    assert body is not None
    assert "counters" in body


def test_interactions_say_what_is_loaded_from_where_and_since_when() -> None:
    epx, s3 = load_pacts([EPX_PACT, S3_PACT])
    started = datetime.now(UTC)
    shown = Client(create_app([EPX_PACT, {"interactions": []}, s3])).get("/_pactstub/interactions").json
    assert shown is not None
    assert [(p["name"], p["kind"], p["source"], p["label"], p["interactions"]) for p in shown["pacts"]] == [
        ("epx-epistemix", "file", str(EPX_PACT), "epx-epistemix.json", len(epx.interactions)),
        ("pact-1", "memory", "<pact 1>", "<pact 1>", 0),
        ("epx-s3", "memory", str(S3_PACT), str(S3_PACT), len(s3.interactions)),  # handed over parsed
    ]
    assert started <= datetime.fromisoformat(shown["loaded_at"]) <= datetime.now(UTC)
    assert shown["failed_reload"] is None


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_admin_body_beyond_the_body_limit_is_refused_with_413(framing: str) -> None:
    app = create_app([EPX_PACT], max_body_size=1000)
    body = json.dumps({"status": 503, "padding": "x" * 50_000}).encode()
    environ = EnvironBuilder(
        "/_pactstub/faults", method="PUT", input_stream=io.BytesIO(body), content_type="application/json"
    ).get_environ()
    if framing == "chunked":  # as a server hands over a chunked body: no length, the stream ends
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    response = run_wsgi_app(app, environ, buffered=True)
    assert response[1].startswith("413")
    assert "error" in json.loads(b"".join(response[0]))
    assert Client(app).get("/_pactstub/faults").json == {"faults": []}, "nothing was set"
    app.close()
