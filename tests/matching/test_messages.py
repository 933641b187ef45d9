"""Mismatch wording: the sentences users already know from the other Pact tools."""

from __future__ import annotations

import re

import pytest

from pactstub.matching import rules
from pactstub.matching.body import Walk, compare_json, match_body
from pactstub.matching.http import match_headers, match_query
from pactstub.matching.report import Mismatch
from pactstub.model import Body, BodyRule, Matcher, RuleSet


def _json_messages(
    expected: object, actual: object, *, strict: bool = True, body_rules: tuple[BodyRule, ...] = ()
) -> list[str]:
    walk = Walk(body_rules, strict)
    compare_json(walk, (), expected, actual)
    return [str(m) for m in walk.found]


def _rule(path: str, tokens: tuple[str | int, ...], *matchers: Matcher) -> BodyRule:
    return BodyRule(path, tokens, RuleSet(matchers))


def test_equality_names_values_and_types() -> None:
    found = _json_messages({"one": {"a": {"status": "OK"}}}, {"one": {"a": {"status": "Lovely"}}})
    assert found == ["$.body.one.a.status -> Expected 'Lovely' (String) to be equal to 'OK' (String)"]


def test_unexpected_and_missing_keys_in_requests() -> None:
    assert _json_messages({"a": 1, "b": 2}, {"a": 1}) == [
        "$.body -> Expected a Map with keys [a, b] but received one with keys [a]"
    ]


def test_missing_keys_in_responses() -> None:
    assert _json_messages({"a": 1, "b": 2}, {"a": 1, "z": 0}, strict=False) == [
        "$.body -> Actual map is missing the following keys: b"
    ]


def test_list_locations_use_indexes() -> None:
    assert _json_messages({"runs": [{"id": 1}]}, {"runs": [{"id": 2}]}) == [
        "$.body.runs[0].id -> Expected 2 (Integer) to be equal to 1 (Integer)"
    ]


def test_list_length() -> None:
    assert _json_messages([1], [1, 2]) == [
        "$.body -> Expected a List with 1 elements but received 2 elements"
    ]


def test_min_size() -> None:
    rule = _rule("$.ids", ("ids",), Matcher("type", {"min": 3}))
    assert _json_messages({"ids": [1]}, {"ids": [1, 2]}, body_rules=(rule,)) == [
        "$.body.ids -> Expected [1,2] (Array) to have minimum size of 3"
    ]


def test_type_mismatch() -> None:
    assert _json_messages({"a": {}}, {"a": []}) == [
        "$.body.a -> Type mismatch: Expected [] (Array) to be the same type as {} (Object)"
    ]


@pytest.mark.parametrize(
    ("matcher", "actual", "message"),
    [
        (Matcher("regex", {"regex": r"\d+"}, re.compile(r"\d+")), "abc", r"Expected 'abc' to match '\d+'"),
        (Matcher("include", {"value": "xyz"}), "abc", "Expected 'abc' to include 'xyz'"),
        (Matcher("integer"), 1.5, "Expected 1.5 (Decimal) to be an integer"),
        (Matcher("decimal"), 2, "Expected 2 (Integer) to be a decimal number"),
        (Matcher("number"), "2", "Expected '2' (String) to be a number"),
        (Matcher("null"), 0, "Expected 0 (Integer) to be a null value"),
        (Matcher("boolean"), "no", "Expected 'no' (String) to match a boolean"),
        (Matcher("type"), 3, "Expected 3 (Integer) to be the same type as 'x' (String)"),
        (
            Matcher("date", {"format": "yyyy-MM-dd"}),
            "2024-13-01",
            "Expected '2024-13-01' to match a date pattern of 'yyyy-MM-dd'",
        ),
        (Matcher("notEmpty"), "", "Expected '' (String) to not be empty"),
    ],
)
def test_value_rule_messages(matcher: Matcher, actual: object, message: str) -> None:
    assert rules.check_json(matcher, "x", actual, False) == message


def test_status_code_rule() -> None:
    matcher = Matcher("statusCode", {"status": "success"})
    assert rules.status_problem(matcher, 204) is None
    assert rules.status_problem(matcher, 404) == "Expected status code 404 to be a success status"


def test_query_messages() -> None:
    found = match_query({"job_id": ("1",)}, {"job_id": ("2",), "x": ("y",)}, {})
    assert [str(m) for m in found] == [
        "query job_id -> Expected query parameter 'job_id' with value '1' but was '2'",
        "query x -> Unexpected query parameter 'x' received",
    ]


def test_header_messages() -> None:
    found = match_headers({"Offline-Token": ("t",)}, (), {}, strict=False)
    assert [m.to_json()["location"] for m in found] == ["header Offline-Token"]
    assert found[0].message == "Expected a header 'Offline-Token' but was missing"


def test_body_type_mismatch() -> None:
    found = match_body(
        Body("json", {"a": 1}, "application/json"), b"a=1", "text/plain", strict=True, rules=()
    )
    assert [m.kind for m in found] == ["body-type"]
    assert (
        found[0].message
        == "Expected a body of 'application/json' but the actual content type was 'text/plain'"
    )


def test_mismatch_json_is_serialisable() -> None:
    mismatch = Mismatch("body", "$.body", b"\xff", {"a": object()}, "m")
    assert mismatch.to_json()["expected"] == "\ufffd"
    assert isinstance(mismatch.to_json()["actual"], str)
