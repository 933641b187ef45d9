"""Loading pact files of every specification version, and refusing bad ones clearly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pactstub import load_pacts
from pactstub.cli import main
from tests.conftest import pact_document


def only_interaction(document: dict[str, Any]) -> Any:
    (pact,) = load_pacts([document])
    (interaction,) = pact.interactions
    return interaction


class TestVersionsAreNormalisedIntoOneModel:
    def test_v2_query_string_and_v3_query_map_are_the_same(self) -> None:
        v2 = only_interaction(
            pact_document(
                {"request": {"method": "GET", "path": "/", "query": "a=1&b=2&a=3"}, "response": {}},
                version="2.0.0",
            )
        )
        v3 = only_interaction(
            pact_document(
                {
                    "request": {"method": "GET", "path": "/", "query": {"a": ["1", "3"], "b": ["2"]}},
                    "response": {},
                }
            )
        )
        assert v2.request.query == v3.request.query == {"a": ("1", "3"), "b": ("2",)}

    def test_v2_flat_rules_and_v3_categories_are_the_same(self) -> None:
        v2 = only_interaction(
            pact_document(
                {
                    "request": {
                        "method": "GET",
                        "path": "/",
                        "matchingRules": {
                            "$.body.id": {"match": "type"},
                            "$.headers.X-Id": {"regex": "\\d+"},
                            "$.query.q": {"match": "type"},
                        },
                    },
                    "response": {},
                },
                version="2.0.0",
            )
        )
        v3 = only_interaction(
            pact_document(
                {
                    "request": {
                        "method": "GET",
                        "path": "/",
                        "matchingRules": {
                            "body": {"$.id": {"matchers": [{"match": "type"}]}},
                            "header": {"X-Id": {"matchers": [{"match": "regex", "regex": "\\d+"}]}},
                            "query": {"q": {"matchers": [{"match": "type"}]}},
                        },
                    },
                    "response": {},
                }
            )
        )
        for interaction in (v2, v3):
            rules = interaction.request.rules
            assert [rule.tokens for rule in rules.body.rules] == [("id",)]
            assert rules.header["x-id"].matchers[0].kind == "regex"
            assert rules.query["q"].matchers[0].kind == "type"

    def test_v4_bodies_are_unwrapped_and_messages_skipped(self) -> None:
        document = pact_document(
            {
                "type": "Synchronous/HTTP",
                "request": {
                    "method": "POST",
                    "path": "/",
                    "body": {"content": {"a": 1}, "contentType": "application/json"},
                },
                "response": {"status": 200},
            },
            {"type": "Asynchronous/Messages", "contents": {"content": "x"}},
            version="4.0",
        )
        (pact,) = load_pacts([document])
        assert len(pact.interactions) == 1
        body = pact.interactions[0].request.body
        assert body is not None
        assert body.value == {"a": 1}
        assert len(pact.skipped) == 1

    def test_v1_provider_state_is_kept(self) -> None:
        interaction = only_interaction(
            pact_document(
                {"provider_state": "alice exists", "request": {"method": "GET", "path": "/"}, "response": {}},
                version="1.0.0",
            )
        )
        assert [state.name for state in interaction.provider_states] == ["alice exists"]


def rule_pact(matcher: dict[str, Any]) -> dict[str, Any]:
    """A v3 pact whose request body has one rule, at ``$.v``."""
    request = {
        "method": "POST",
        "path": "/",
        "body": {"v": [1]},
        "matchingRules": {"body": {"$.v": {"matchers": [matcher]}}},
    }
    return pact_document({"request": request, "response": {}})


BAD_PACTS = {
    "invalid-json": ('{"interactions": [', "$", "invalid JSON at line 1"),
    "wrong-type": (
        pact_document({"request": {"method": "GET", "path": "/"}, "response": {"status": "ok"}}),
        "$.interactions[0].response.status",
        "'ok' is not of type 'integer'",
    ),
    "unknown-matcher": (
        pact_document(
            {
                "request": {
                    "method": "GET",
                    "path": "/",
                    "matchingRules": {"path": {"matchers": [{"match": "fuzzy"}]}},
                },
                "response": {},
            }
        ),
        "$.interactions[0].request.matchingRules.path.matchers[0].match",
        "unknown matcher 'fuzzy'",
    ),
    "invalid-regex": (
        pact_document(
            {
                "request": {
                    "method": "GET",
                    "path": "/",
                    "matchingRules": {
                        "header": {"X": {"matchers": [{"match": "regex", "regex": "(unclosed"}]}}
                    },
                },
                "response": {},
            }
        ),
        "$.interactions[0].request.matchingRules.header['X'].matchers[0].regex",
        "invalid regular expression",
    ),
    "xml-body-not-well-formed": (
        pact_document(
            {
                "request": {
                    "method": "POST",
                    "path": "/",
                    "headers": {"Content-Type": "application/xml"},
                    "body": "<job><id>1</job>",
                },
                "response": {},
            }
        ),
        "$.interactions[0].request.body",
        "the body is not well-formed XML: mismatched tag",
    ),
    "date-pattern-letter": (
        rule_pact({"match": "date", "date": "dd/MM/yyyy Q"}),
        "$.interactions[0].request.matchingRules.body['$.v'].matchers[0].date",
        "cannot use the date pattern 'dd/MM/yyyy Q': unsupported date/time pattern letter 'Q'",
    ),
    "status-class": (
        pact_document(
            {
                "request": {"method": "GET", "path": "/"},
                "response": {
                    "matchingRules": {"status": {"matchers": [{"match": "statusCode", "status": "fine"}]}}
                },
            }
        ),
        "$.interactions[0].response.matchingRules.status.matchers[0].status",
        "must be one of info, success, redirect, clientError, serverError, nonError, error",
    ),
    "size-not-a-count": (
        rule_pact({"match": "type", "min": "one"}),
        "$.interactions[0].request.matchingRules.body['$.v'].matchers[0].min",
        "min must be a non-negative integer",
    ),
    "variant-index": (
        rule_pact({"match": "arrayContains", "variants": [{"index": "first"}]}),
        "$.interactions[0].request.matchingRules.body['$.v'].matchers[0].variants[0].index",
        "must be a non-negative integer, not 'first'",
    ),
    "each-value-rules-not-a-list": (
        rule_pact({"match": "eachValue", "rules": {"match": "type"}}),
        "$.interactions[0].request.matchingRules.body['$.v'].matchers[0].rules",
        "must be a list of matchers",
    ),
    "matcher-of-no-kind": (
        rule_pact({"value": 1}),
        "$.interactions[0].request.matchingRules.body['$.v'].matchers[0]",
        "a matcher needs 'match'",
    ),
    "duplicate-interaction": (
        pact_document(
            {"description": "same", "request": {"method": "GET", "path": "/a"}, "response": {}},
            {"description": "same", "request": {"method": "GET", "path": "/b"}, "response": {}},
        ),
        "$.interactions[1]",
        "duplicate interaction",
    ),
}


@pytest.mark.parametrize("case", BAD_PACTS, ids=list(BAD_PACTS))
def test_a_bad_pact_stops_with_exit_2_naming_file_and_json_path(
    case: str, cli: CliRunner, write_pact: Callable[..., Path]
) -> None:
    document, json_path, problem = BAD_PACTS[case]
    path = write_pact(document, f"{case}.json")
    result = cli.invoke(main, ["list-interactions", "--pact", str(path)])
    assert result.exit_code == 2
    assert f"{path}: {json_path}: " in result.output
    assert problem in result.output
    assert "Traceback" not in result.output


def test_several_bad_files_are_reported_at_once(cli: CliRunner, write_pact: Callable[..., Path]) -> None:
    first = write_pact("not json", "first.json")
    second = write_pact(json.dumps({"interactions": "nope"}), "second.json")
    result = cli.invoke(main, ["list-interactions", "--pact", str(first), "--pact", str(second)])
    assert result.exit_code == 2
    assert "2 problems" in result.output
    assert str(first) in result.output
    assert str(second) in result.output


SPELLINGS = [
    ({"match": "date", "date": "dd/MM/yyyy"}, "date", "format", "dd/MM/yyyy"),
    ({"match": "date", "format": "yyyy-MM-dd"}, "date", "format", "yyyy-MM-dd"),
    ({"match": "time", "time": "HH:mm"}, "time", "format", "HH:mm"),
    ({"match": "timestamp", "timestamp": "yyyy"}, "timestamp", "format", "yyyy"),
    ({"match": "datetime", "datetime": "yyyy"}, "timestamp", "format", "yyyy"),
    ({"match": "datetime"}, "timestamp", "format", None),
    ({"timestamp": "yyyy"}, "timestamp", "format", "yyyy"),
    ({"date": "yyyy"}, "date", "format", "yyyy"),
    ({"regex": "a+"}, "regex", "regex", "a+"),
    ({"min": "2"}, "min", "min", 2),
    ({"min": 1, "max": 2}, "minmax", "max", 2),
    ({"match": "type", "max": "4"}, "max", "max", 4),
    ({"match": "min-type", "min": 1}, "min", "min", 1),
    ({"match": "max-type", "max": 1}, "max", "max", 1),
    ({"match": "real"}, "decimal", None, None),
    ({"match": "content-type", "value": "image/png"}, "contentType", "value", "image/png"),
    ({"match": "not-empty"}, "notEmpty", None, None),
    ({"match": "include", "value": 42}, "include", "value", "42"),
    ({"match": "statusCode"}, "statusCode", "status", "success"),
    ({"match": "status-code", "status": ["200", 204]}, "statusCode", "status", (200, 204)),
    ({"match": "statusCode", "status": "information"}, "statusCode", "status", "info"),
]


@pytest.mark.parametrize(
    ("raw", "kind", "field", "value"), SPELLINGS, ids=[json.dumps(s[0]) for s in SPELLINGS]
)
def test_the_spellings_of_the_pact_tools_load_as_one_matcher(
    raw: dict[str, Any], kind: str, field: str | None, value: object
) -> None:
    """Pact-JVM, PactNet, pact-js and the reference implementation write rules differently."""
    rules = only_interaction(rule_pact(raw)).request.rules.body.rules
    (matcher,) = rules[0].rules.matchers
    assert matcher.kind == kind
    if field == "format":
        assert (matcher.format.pattern if matcher.format else None) == value
    elif field == "regex":
        assert (matcher.regex.pattern if matcher.regex else None) == value
    elif field is not None:
        assert getattr(matcher, field) == value
