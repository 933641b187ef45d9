"""Mismatch wording: the sentences users already know from the other Pact tools."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pactstub import load_pacts
from pactstub.matching.http import match_query, match_request, match_response
from pactstub.matching.report import Mismatch
from pactstub.model import ReceivedRequest, ReceivedResponse
from tests.conftest import pact_document

JSON = {"Content-Type": "application/json"}


def request_messages(
    expected: Any, actual: Any, rules: dict[str, Any] | None = None, **request: Any
) -> list[str]:
    """What a request with JSON body ``actual`` is told against a pact expecting ``expected``."""
    document: dict[str, Any] = {"method": "POST", "path": "/", "headers": JSON, "body": expected, **request}
    if rules:
        document["matchingRules"] = {"body": rules}
    (pact,) = load_pacts([pact_document({"request": document, "response": {}})])
    received = ReceivedRequest(
        "POST", "/", headers=(("Content-Type", "application/json"),), body=_json(actual)
    )
    return [str(m) for m in match_request(pact.interactions[0].request, received)]


def response_messages(expected: Any, actual: Any) -> list[str]:
    """What a provider's JSON response ``actual`` is told against a pact promising ``expected``."""
    (pact,) = load_pacts(
        [pact_document({"request": {"method": "GET", "path": "/"}, "response": {"body": expected}})]
    )
    received = ReceivedResponse(200, (("Content-Type", "application/json"),), _json(actual))
    return [str(m) for m in match_response(pact.interactions[0].response, received)]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_equality_names_values_and_types() -> None:
    found = request_messages({"one": {"a": {"status": "OK"}}}, {"one": {"a": {"status": "Lovely"}}})
    assert found == ["$.body.one.a.status -> Expected 'Lovely' (String) to be equal to 'OK' (String)"]


def test_unexpected_and_missing_keys_in_requests() -> None:
    assert request_messages({"a": 1, "b": 2}, {"a": 1}) == [
        "$.body -> Expected a Map with keys [a, b] but received one with keys [a]"
    ]


def test_missing_keys_in_responses() -> None:
    assert response_messages({"a": 1, "b": 2}, {"a": 1, "z": 0}) == [
        "$.body -> Actual map is missing the following keys: b"
    ]


def test_list_locations_use_indexes() -> None:
    assert request_messages({"runs": [{"id": 1}]}, {"runs": [{"id": 2}]}) == [
        "$.body.runs[0].id -> Expected 2 (Integer) to be equal to 1 (Integer)"
    ]


def test_list_length() -> None:
    assert request_messages([1], [1, 2]) == [
        "$.body -> Expected a List with 1 elements but received 2 elements"
    ]


def test_min_size() -> None:
    rules = {"$.ids": {"matchers": [{"match": "type", "min": 3}]}}
    assert request_messages({"ids": [1]}, {"ids": [1, 2]}, rules) == [
        "$.body.ids -> Expected [1,2] (Array) to have minimum size of 3"
    ]


def test_type_mismatch() -> None:
    assert request_messages({"a": {}}, {"a": []}) == [
        "$.body.a -> Type mismatch: Expected [] (Array) to be the same type as {} (Object)"
    ]


@pytest.mark.parametrize(
    ("matcher", "actual", "message"),
    [
        ({"match": "regex", "regex": r"\d+"}, "abc", r"Expected 'abc' to match '\d+'"),
        ({"match": "include", "value": "xyz"}, "abc", "Expected 'abc' to include 'xyz'"),
        ({"match": "integer"}, 1.5, "Expected 1.5 (Decimal) to be an integer"),
        ({"match": "decimal"}, 2, "Expected 2 (Integer) to be a decimal number"),
        ({"match": "number"}, "2", "Expected '2' (String) to be a number"),
        ({"match": "null"}, 0, "Expected 0 (Integer) to be a null value"),
        ({"match": "boolean"}, "no", "Expected 'no' (String) to match a boolean"),
        ({"match": "type"}, 3, "Expected 3 (Integer) to be the same type as 'x' (String)"),
        (
            {"match": "date", "format": "yyyy-MM-dd"},
            "2024-13-01",
            "Expected '2024-13-01' to match a date pattern of 'yyyy-MM-dd'",
        ),
        (
            {"match": "date"},
            "13/01/2024",
            "Expected '13/01/2024' to match a date pattern of 'ISO-8601 (yyyy-MM-dd)'",
        ),
        ({"match": "notEmpty"}, "", "Expected '' (String) to not be empty"),
    ],
)
def test_value_rule_messages(matcher: dict[str, Any], actual: object, message: str) -> None:
    rules = {"$.v": {"matchers": [matcher]}}
    assert request_messages({"v": "x"}, {"v": actual}, rules) == [f"$.body.v -> {message}"]


def test_status_code_rule() -> None:
    response = {
        "status": 200,
        "matchingRules": {"status": {"matchers": [{"match": "statusCode", "status": "success"}]}},
    }
    (pact,) = load_pacts([pact_document({"request": {"method": "GET", "path": "/"}, "response": response})])
    expected = pact.interactions[0].response
    assert match_response(expected, ReceivedResponse(204)) == []
    assert [str(m) for m in match_response(expected, ReceivedResponse(404))] == [
        "status -> Expected status code 404 to be a success status"
    ]


def test_query_messages() -> None:
    found = match_query({"job_id": ("1",)}, {"job_id": ("2",), "x": ("y",)}, {})
    assert [str(m) for m in found] == [
        "query job_id -> Expected query parameter 'job_id' with value '1' but was '2'",
        "query x -> Unexpected query parameter 'x' received",
    ]


def test_header_messages() -> None:
    request = {"method": "GET", "path": "/", "headers": {"Offline-Token": "t"}}
    (pact,) = load_pacts([pact_document({"request": request, "response": {}})])
    found = match_request(pact.interactions[0].request, ReceivedRequest("GET", "/"))
    assert [m.to_json()["location"] for m in found] == ["header Offline-Token"]
    assert found[0].message == "Expected a header 'Offline-Token' but was missing"


def test_body_type_mismatch() -> None:
    request = {"method": "POST", "path": "/", "headers": JSON, "body": {"a": 1}}
    (pact,) = load_pacts([pact_document({"request": request, "response": {}})])
    received = ReceivedRequest("POST", "/", headers=(("Content-Type", "text/plain"),), body=b"a=1")
    found = match_request(pact.interactions[0].request, received)
    assert [m.kind for m in found] == ["header", "body-type"]
    assert (
        found[1].message
        == "Expected a body of 'application/json' but the actual content type was 'text/plain'"
    )


def test_mismatch_json_is_serialisable() -> None:
    mismatch = Mismatch("body", "$.body", b"\xff", {"a": object()}, "m")
    assert mismatch.to_json()["expected"] == "\ufffd"
    assert isinstance(mismatch.to_json()["actual"], str)
