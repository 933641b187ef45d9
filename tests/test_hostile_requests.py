"""The malformed requests of the hardening issue, each answered below 500 with JSON, journaled and logged.

In process (``create_app`` and werkzeug's client), with and without the Epistemix templates;
the same requests go over a real socket in ``test_fuzz.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from pactstub import create_app
from pactstub.app import StubApp
from pactstub.journal import JournalEntry
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES
from tests.hostile import HAND_WRITTEN, Hostile, problems

BEYOND = "not a finite number (Infinity or beyond a 64-bit float's range)"


def send(client: Client, request: Hostile) -> TestResponse:
    return client.open(request.target, method=request.method, headers=request.headers, data=request.body)


def journal(app: StubApp) -> list[JournalEntry]:
    return app.journal.entries()


@pytest.fixture(params=[None, TEMPLATES], ids=["examples", "templates"])
def app(request: pytest.FixtureRequest) -> Any:
    made = create_app([EPX_PACT, S3_PACT], templates=request.param)
    yield made
    made.close()


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_every_case_is_answered_below_500_with_json_and_journaled(
    app: StubApp, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    request = HAND_WRITTEN[name]
    caplog.set_level("INFO", logger="pactstub")
    response = send(Client(app), request)
    assert problems(response.status_code, response.content_type, response.get_data()) == []
    if response.status_code >= 400 and request.method != "HEAD":
        assert response.content_type == "application/json"
    if not request.admin:
        (entry,) = journal(app)
        assert (entry.method, entry.status) == (request.method, response.status_code)
        said = [r.getMessage() for r in caplog.records if r.name == "pactstub"]
        lines = [line for line in said if line.startswith(f"{request.method} ")]
        assert len(lines) == 1
        assert f" {response.status_code} " in lines[0]


@pytest.mark.parametrize(
    ("name", "location", "message"),
    [
        ("json-nested-1000", "$.body", "nested deeper than 256 levels"),
        ("json-nested-100000", "$.body", "nested deeper than 256 levels"),
        ("json-nan", "$.body.tags", "NaN is not a JSON number"),
        ("json-infinity", "$.body.tags[1]", BEYOND),
        ("json-1e999", "$.body.tags", BEYOND),
        ("json-lone-surrogate", "$.body.tags[0]", "a string with a lone surrogate (not Unicode text)"),
        ("json-lone-surrogate-key", "$.body", "a key with a lone surrogate (not Unicode text)"),
    ],
)
def test_json_that_cannot_be_matched_is_refused_before_matching_naming_where(
    app: StubApp, name: str, location: str, message: str
) -> None:
    response = send(Client(app), HAND_WRITTEN[name])
    assert response.status_code == 400
    assert response.json == {"error": "bad request", "location": location, "message": message}
    (entry,) = journal(app)
    assert (entry.problem, entry.interaction, entry.closest) == ("bad-request", None, ())
    assert entry.explain() == f"POST /jobs/register: {location}: {message}"


def test_json_not_declared_as_json_is_a_mismatch_whose_explanation_is_json(app: StubApp) -> None:
    undeclared = HAND_WRITTEN["json-1e999"].headers.copy()
    del undeclared["Content-Type"]
    response = Client(app).post("/jobs/register", data=b'{"tags": 1e999}', headers=undeclared)
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "no interaction matched the request"
    messages = [mismatch["message"] for mismatch in response.json["mismatches"]]
    assert f"Failed to parse the actual body: '$.tags: {BEYOND}'" in messages
    assert problems(400, response.content_type, response.get_data()) == []


def test_a_nested_body_below_the_limit_is_still_matched(app: StubApp) -> None:
    nested = {"tags": json.loads("[" * 250 + "]" * 250)}
    response = Client(app).post(
        "/jobs/register", data=json.dumps(nested), headers=HAND_WRITTEN["json-nan"].headers
    )
    assert response.status_code == 400  # tags of the wrong shape: a mismatch, explained in JSON
    assert response.json is not None
    assert response.json["mismatches"][0]["location"].startswith("$.body.tags")


def test_a_reset_of_a_collection_named_with_a_nul_is_400_on_each_database(database_url: str) -> None:
    app = create_app([EPX_PACT], database_url=database_url)
    try:
        response = Client(app).post("/_pactstub/reset?collection=%00")
        assert response.status_code == 400
        assert response.json == {
            "error": "collection name '\\x00' must be printable text (no control characters)"
        }
    finally:
        app.close()


def test_the_journal_keeps_working_after_requests_it_could_not_have_stored(app: StubApp) -> None:
    client = Client(app)
    for name in ("json-lone-surrogate", "json-lone-surrogate-key", "json-1e999-as-text", "json-nan"):
        send(client, HAND_WRITTEN[name])
    response = client.get("/_pactstub/requests")
    assert response.status_code == 200
    assert problems(200, response.content_type, response.get_data()) == []
    assert len(response.json or []) == 4


def test_a_template_writing_a_number_that_is_not_finite_writes_its_name(
    tmp_path: Path, write_pact: Any
) -> None:
    pact = write_pact(
        {
            "consumer": {"name": "c"},
            "provider": {"name": "p"},
            "interactions": [
                {
                    "description": "big",
                    "request": {"method": "GET", "path": "/big"},
                    "response": {"status": 200},
                }
            ],
        },
        name="numbers.json",
    )
    (tmp_path / "templates" / "numbers").mkdir(parents=True)
    (tmp_path / "templates" / "numbers" / "big.json.j2").write_text(
        '{"big": {{ 1e308 * 10 }}}', encoding="utf-8"
    )
    app = create_app([pact], templates=tmp_path / "templates")
    response = Client(app).get("/big")
    app.close()
    assert response.status_code == 200
    assert response.json == {"big": "Infinity"}
