"""Response templates through the public interface: ``create_app`` + werkzeug's test client."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from pactstub.errors import TemplateError

ECHO_PACT = {
    "consumer": {"name": "tests"},
    "provider": {"name": "echo"},
    "interactions": [
        {
            "description": "An echo request!",
            "request": {"method": "POST", "path": "/echo", "body": {"text": "hello"}},
            "response": {
                "status": 201,
                "headers": {"Content-Type": "application/json"},
                "body": {"text": "hello", "id": 7},
            },
            "matchingRules": {},
        },
        {
            "description": "a plain request",
            "request": {"method": "GET", "path": "/plain"},
            "response": {"status": 200, "body": {"plain": True}},
        },
        {
            "description": "a numbered request",
            "request": {"method": "POST", "path": "/numbered", "headers": {"X-Kind": "thing"}},
            "response": {"status": 200, "body": {"id": 40}},
        },
        {
            "description": "a query request",
            "request": {"method": "GET", "path": "/query", "query": "a=1&a=2&b=x"},
            "response": {"status": 200, "body": {}},
        },
    ],
    "metadata": {"pactSpecification": {"version": "2.0.0"}},
}
# the echo request's body matches by type, so any text reaches the template
ECHO_PACT["interactions"][0]["request"]["matchingRules"] = {"$.body.text": {"match": "type"}}  # type: ignore[index]


@pytest.fixture
def pact_file(tmp_path: Path) -> Path:
    path = tmp_path / "echo-pact.json"
    path.write_text(json.dumps(ECHO_PACT), encoding="utf-8")
    return path


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    (folder / "echo-pact").mkdir(parents=True)
    return folder


def write(templates: Path, name: str, text: str) -> Path:
    path = templates / "echo-pact" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def client(pact_file: Path, templates: Path, **options: Any) -> Client:
    return Client(create_app([pact_file], templates=templates, **options))


def test_a_template_renders_the_body_and_keeps_the_pacts_status_and_headers(
    pact_file: Path, templates: Path
) -> None:
    write(
        templates,
        "an-echo-request.json.j2",
        '{"text": {{ request.body.text }}, "id": {{ example.id + 1 }}, "method": {{ request.method }}}',
    )
    response = client(pact_file, templates).post("/echo", json={"text": "bye"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_json() == {"text": "bye", "id": 8, "method": "POST"}


def test_an_interaction_without_a_template_answers_its_example(pact_file: Path, templates: Path) -> None:
    write(templates, "an-echo-request.json.j2", "{}")
    response = client(pact_file, templates).get("/plain")
    assert response.get_json() == {"plain": True}


def test_request_values_full_of_quotes_braces_and_template_code_come_back_intact(
    pact_file: Path, templates: Path
) -> None:
    write(
        templates, "an-echo-request.json.j2", '{"text": {{ request.body.text }}, "raw": {{ request.text }}}'
    )
    nasty = (
        'say "hi" }{ ]} {{ 7 * 7 }} {% for x in range(3) %}x{% endfor %}'
        ' \\" \\n {{ request }} \u00e9 </script>'
    )
    body = json.dumps({"text": nasty})
    response = client(pact_file, templates).post("/echo", data=body, content_type="application/json")
    assert response.status_code == 201
    assert response.get_json() == {"text": nasty, "raw": body}


def test_every_expression_is_written_as_a_json_literal(pact_file: Path, templates: Path) -> None:
    write(
        templates,
        "a-query-request.json.j2",
        '{"n": {{ 1 + 1 }}, "none": {{ none }}, "t": {{ true }}, "list": {{ [1, "a", none] }},'
        ' "map": {{ {"k": request.query} }}, "url": {{ base_url ~ "/x" }}, "now": {{ now() }}}',
    )
    response = client(pact_file, templates).get("/query?a=1&a=2&b=x")
    document = response.get_json()
    assert document["n"] == 2
    assert document["none"] is None
    assert document["t"] is True
    assert document["list"] == [1, "a", None]
    assert document["map"] == {"k": {"a": ["1", "2"], "b": ["x"]}}
    assert document["url"] == "http://localhost/x"
    assert document["now"].endswith("Z")


def test_a_template_that_raises_answers_500_naming_file_and_line(
    pact_file: Path, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(
        templates,
        "an-echo-request.json.j2",
        '{\n  "text": {{ request.body.text }},\n  "oops": {{ request.body.missing.deeper }}\n}\n',
    )
    with caplog.at_level(logging.ERROR, logger="pactstub"):
        response = client(pact_file, templates).post("/echo", json={"text": "x"})
    assert response.status_code == 500
    document = response.get_json()
    assert document["error"] == "template failed"
    assert document["template"] == str(path)
    assert document["line"] == 3
    assert "missing" in document["message"]
    assert any(str(path) in record.getMessage() for record in caplog.records)


def test_an_undefined_name_is_an_error_not_an_empty_string(pact_file: Path, templates: Path) -> None:
    write(templates, "an-echo-request.json.j2", '{"a": 1,\n"b": {{ nmae }}}')
    response = client(pact_file, templates).post("/echo", json={"text": "x"})
    assert response.status_code == 500
    assert response.get_json()["line"] == 2
    assert "nmae" in response.get_json()["message"]


def test_a_template_whose_output_is_not_json_answers_500(pact_file: Path, templates: Path) -> None:
    path = write(templates, "an-echo-request.json.j2", '{"text": {{ request.body.text }},}')
    response = client(pact_file, templates).post("/echo", json={"text": "x"})
    assert response.status_code == 500
    document = response.get_json()
    assert document["template"] == str(path)
    assert "not valid JSON" in document["message"]


def test_a_value_json_cannot_hold_is_an_error(pact_file: Path, templates: Path) -> None:
    write(templates, "an-echo-request.json.j2", '{"x": {{ range }}}')
    response = client(pact_file, templates).post("/echo", json={"text": "x"})
    assert response.status_code == 500
    assert "cannot be written as JSON" in response.get_json()["message"]


def test_the_sandbox_refuses_python_internals(pact_file: Path, templates: Path) -> None:
    write(templates, "an-echo-request.json.j2", '{"x": {{ request.__class__.__mro__ }}}')
    response = client(pact_file, templates).post("/echo", json={"text": "x"})
    assert response.status_code == 500
    assert "unsafe" in response.get_json()["message"]


def test_a_syntax_error_fails_at_load_naming_file_and_line(pact_file: Path, templates: Path) -> None:
    path = write(templates, "an-echo-request.json.j2", '{\n"text": {{ request.body.text }},\n{% if %}\n}')
    with pytest.raises(TemplateError) as raised:
        create_app([pact_file], templates=templates)
    assert raised.value.template == str(path)
    assert raised.value.line == 3
    assert "syntax error" in raised.value.message


def test_a_syntax_error_in_a_partial_fails_at_load(pact_file: Path, templates: Path) -> None:
    write(templates, "an-echo-request.json.j2", '{% include "echo-pact/_part.j2" %}')
    path = write(templates, "_part.j2", "{{ oops(")
    with pytest.raises(TemplateError) as raised:
        create_app([pact_file], templates=templates)
    assert raised.value.template == str(path)
    assert raised.value.line == 1


def test_a_partial_can_be_included(pact_file: Path, templates: Path) -> None:
    write(templates, "an-echo-request.json.j2", '{"a": {% include "echo-pact/_part.j2" %}}')
    write(templates, "_part.j2", "{{ request.body.text }}")
    response = client(pact_file, templates).post("/echo", json={"text": "inner"})
    assert response.get_json() == {"a": "inner"}


def test_a_template_for_no_known_interaction_fails_at_load_listing_the_slugs(
    pact_file: Path, templates: Path
) -> None:
    path = write(templates, "an-echo-reqest.json.j2", "{}")
    with pytest.raises(TemplateError) as raised:
        create_app([pact_file], templates=templates)
    assert raised.value.template == str(path)
    message = str(raised.value)
    assert "an-echo-reqest" in message
    assert "known slugs: a-numbered-request, a-plain-request, a-query-request, an-echo-request" in message


def test_a_missing_templates_folder_fails_at_load(pact_file: Path, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        create_app([pact_file], templates=tmp_path / "nowhere")


def test_next_id_save_and_find_keep_state_between_requests(pact_file: Path, templates: Path) -> None:
    write(
        templates,
        "a-numbered-request.json.j2",
        '{% set thing = save("things", {"id": next_id("things", example.id),'
        ' "kind": request.headers["x-kind"]}) %}'
        '{"id": {{ thing.id }}, "all": {{ find("things", kind="thing") }},'
        ' "none": {{ find("things", kind="x") }}}',
    )
    stub = client(pact_file, templates)
    first = stub.post("/numbered", headers={"X-Kind": "thing"}).get_json()
    second = stub.post("/numbered", headers={"X-Kind": "thing"}).get_json()
    assert (first["id"], second["id"]) == (40, 41)
    assert [thing["id"] for thing in second["all"]] == [40, 41]
    assert all(thing["created_at"].endswith("Z") for thing in second["all"])
    assert second["none"] == []


def test_templates_cannot_change_the_example_for_later_requests(pact_file: Path, templates: Path) -> None:
    """The example is read-only: a template that tries to change it fails, and the next one sees it whole."""
    path = write(
        templates,
        "an-echo-request.json.j2",
        '{% if "x-change" in request.headers %}{% do example.update({"id": 9}) %}{% endif %}'
        '{"id": {{ example.id }}}',
    )
    stub = client(pact_file, templates)
    failed = stub.post("/echo", json={"text": "x"}, headers={"X-Change": "1"})
    assert failed.status_code == 500
    assert failed.get_json()["template"] == str(path)
    assert stub.post("/echo", json={"text": "x"}).get_json() == {"id": 7}


def test_the_no_match_template_overrides_the_no_match_body(pact_file: Path, templates: Path) -> None:
    write(
        templates,
        "_no_match.json.j2",
        "{% set first = no_match.mismatches[0] %}"
        '{"description": {{ first.location ~ ": " ~ first.message }},'
        ' "closest": {{ no_match.closest[0].interaction }}}',
    )
    response = client(pact_file, templates).post("/numbered", headers={"X-Kind": "other"})
    assert response.status_code == 400
    document = response.get_json()
    assert document["closest"] == "a numbered request"
    assert document["description"].startswith("header X-Kind: ")
    assert "other" in document["description"]


def test_without_a_no_match_template_the_explanation_is_answered(pact_file: Path, templates: Path) -> None:
    response = client(pact_file, templates).post("/numbered", headers={"X-Kind": "other"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "no interaction matched the request"


def test_a_failing_no_match_template_answers_500_with_the_explanation(
    pact_file: Path, templates: Path
) -> None:
    path = write(templates, "_no_match.json.j2", "{{ no_match.nothing_here }}")
    response = client(pact_file, templates).post("/numbered", headers={"X-Kind": "other"})
    assert response.status_code == 500
    document = response.get_json()
    assert document["template"] == str(path)
    assert document["no_match"]["error"] == "no interaction matched the request"


def test_the_listing_shows_which_interaction_has_a_template(pact_file: Path, templates: Path) -> None:
    path = write(templates, "an-echo-request.json.j2", "{}")
    stub = client(pact_file, templates)
    rows = stub.get("/_pactstub/interactions").get_json()["interactions"]
    assert {row["description"]: row["template"] for row in rows} == {
        "An echo request!": str(path),
        "a plain request": None,
        "a numbered request": None,
        "a query request": None,
    }


def test_a_folder_for_a_pact_not_served_is_only_a_warning(
    pact_file: Path, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (templates / "other-pact").mkdir()
    (templates / "other-pact" / "anything.json.j2").write_text("{}", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pactstub"):
        create_app([pact_file], templates=templates)
    assert any("other-pact" in record.getMessage() for record in caplog.records)
