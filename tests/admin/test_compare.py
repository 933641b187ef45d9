"""A journaled request beside the request its closest interaction expects, mismatches marked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from pactstub.admin.compare import Comparison, Row, compare, json_lines
from pactstub.app import StubApp
from tests.conftest import pact_document

INTERACTION: dict[str, Any] = {
    "description": "a run submission",
    "request": {
        "method": "POST",
        "path": "/runs",
        "query": {"dry": ["false"]},
        "headers": {"Content-Type": "application/json", "Offline-Token": "Bearer t"},
        "body": {"tags": ["a"], "user": {"id": 1, "name": "ann"}},
    },
    "response": {"status": 201},
}


@pytest.fixture
def app(write_pact: Any) -> StubApp:
    return create_app([write_pact(pact_document(INTERACTION))])


def compared(app: StubApp, body: Any, query: str = "dry=false", **headers: str) -> Comparison:
    """Send a request, then compare its journal entry with the interaction, as the dashboard does."""
    sent = {"Content-Type": "application/json", "Offline-Token": "Bearer t", **headers}
    Client(app).post(f"/runs?{query}", data=json.dumps(body), headers=sent)
    entry = app.journal.entries()[-1]
    mismatches = entry.closest[0].mismatches if entry.closest else ()
    return compare(app.contract.pacts[0].interactions[0].request, entry, mismatches)


def row(comparison: Comparison, part: str) -> Row:
    return next(r for r in comparison.rows if r.part == part)


def marked(lines: Any) -> list[str]:
    return [line.text.strip() for line in lines if line.missed]


def test_the_lines_under_a_body_mismatch_are_marked_on_both_sides(app: StubApp) -> None:
    comparison = compared(app, {"tags": "a", "user": {"id": 1, "name": "ann"}})
    body = row(comparison, "body")
    assert body.missed
    assert marked(body.expected) == ['"tags": [', '"a"', "],"]
    assert marked(body.actual) == ['"tags": "a",']
    assert all("$.body.tags" in message for message in body.messages)
    assert not row(comparison, "method").missed
    assert not row(comparison, "path").missed


def test_a_mismatch_deep_in_the_body_marks_only_its_line(app: StubApp) -> None:
    body = row(compared(app, {"tags": ["a"], "user": {"id": 2, "name": "ann"}}), "body")
    assert marked(body.expected) == ['"id": 1,']
    assert marked(body.actual) == ['"id": 2,']


def test_a_missing_header_is_its_own_row_and_credentials_stay_masked(app: StubApp) -> None:
    comparison = compared(app, INTERACTION["request"]["body"], **{"Offline-Token": "Basic x"})
    token = row(comparison, "header Offline-Token")
    assert token.missed
    assert [line.text for line in token.expected] == ["Bearer t"]
    assert [line.text for line in token.actual] == ["***"], "the journal masks credentials"
    assert not row(comparison, "header Content-Type").missed


def test_query_parameters_are_rows_with_unexpected_ones_too(app: StubApp) -> None:
    comparison = compared(app, INTERACTION["request"]["body"], query="dry=true&debug=1")
    dry = row(comparison, "query dry")
    assert dry.missed
    assert ([line.text for line in dry.expected], [line.text for line in dry.actual]) == (
        ["dry=false"],
        ["dry=true"],
    )
    debug = row(comparison, "query debug")
    assert debug.missed
    assert debug.expected == []


def test_a_body_that_is_not_json_is_shown_as_text_and_marked_whole(app: StubApp) -> None:
    Client(app).post("/runs?dry=false", data="tags=a", headers={"Offline-Token": "Bearer t"})
    entry = app.journal.entries()[-1]
    comparison = compare(app.contract.pacts[0].interactions[0].request, entry, entry.closest[0].mismatches)
    body = row(comparison, "body")
    assert [line.text for line in body.actual] == ["tags=a"]
    assert all(line.missed for line in (*body.expected, *body.actual))


def test_without_an_interaction_only_the_actual_side_is_shown(app: StubApp) -> None:
    Client(app).get("/elsewhere")
    entry = app.journal.entries()[-1]
    comparison = compare(None, entry, ())
    assert [(r.part, r.expected, [line.text for line in r.actual]) for r in comparison.rows[:2]] == [
        ("method", [], ["GET"]),
        ("path", [], ["/elsewhere"]),
    ]


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, {"b": None}], "c d": {}, "e": []},
        [],
        "text",
        {"nested": [[1, 2], {"x": "ü"}]},
    ],
    ids=["mixed", "empty-list", "scalar", "nested"],
)
def test_json_lines_print_as_json_dumps_does(value: Any) -> None:
    assert "\n".join(text for _, text in json_lines(value)) == json.dumps(value, indent=2, ensure_ascii=False)


def test_json_lines_know_each_line_s_location() -> None:
    lines = json_lines({"runs": [{"id": 1}], "odd key": True})
    assert [path for path, _ in lines] == [
        "$.body",
        "$.body.runs",
        "$.body.runs[0]",
        "$.body.runs[0].id",
        "$.body.runs[0]",
        "$.body.runs",
        "$.body['odd key']",
        "$.body",
    ]
