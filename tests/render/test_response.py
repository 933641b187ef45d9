"""What the stub puts around a body: status and headers from the pact, content type by default."""

from __future__ import annotations

import json
from pathlib import Path

from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import pact_document


def test_a_templated_body_is_json_even_when_the_pact_gives_no_body(tmp_path: Path) -> None:
    pact = tmp_path / "bare.json"
    interaction = {
        "description": "a bare request",
        "request": {"method": "GET", "path": "/bare"},
        "response": {},
    }
    pact.write_text(json.dumps(pact_document(interaction)), encoding="utf-8")
    (tmp_path / "templates" / "bare").mkdir(parents=True)
    (tmp_path / "templates" / "bare" / "a-bare-request.json.j2").write_text('{"made": {{ 1 + 1 }}}', "utf-8")
    answer = Client(create_app([pact], templates=tmp_path / "templates")).get("/bare")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json == {"made": 2}


def test_the_pacts_own_content_type_is_kept() -> None:
    interaction = {
        "request": {"method": "GET", "path": "/x"},
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/vnd.api+json"},
            "body": {"a": 1},
        },
    }
    answer = Client(create_app([pact_document(interaction)])).get("/x")
    assert answer.headers["Content-Type"] == "application/vnd.api+json"
    assert answer.headers["Content-Length"] == str(len(answer.get_data()))
