"""The route index, seen through the app: which interactions a request can reach."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import pact_document


def path_rule(regex: str, example: str, answer: str) -> dict[str, Any]:
    return {
        "description": f"path {regex}",
        "request": {
            "method": "GET",
            "path": example,
            "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": regex}]}},
        },
        "response": {"status": 200, "body": {"answer": answer}},
    }


@pytest.mark.parametrize(
    ("regex", "path"),
    [
        ("^/users/\\d+$", "/users/42"),
        ("^/users/?$", "/users"),
        ("^/users/?$", "/users/"),
        ("^/users?/\\d+$", "/user/7"),
        ("^/a/x$|^/b/y$", "/b/y"),
        ("/orders/[a-f0-9]+", "/orders/beef"),
        ("^.*/items$", "/deep/down/items"),
    ],
)
def test_a_path_regex_reaches_every_path_it_accepts(regex: str, path: str) -> None:
    client = Client(create_app([pact_document(path_rule(regex, path, "yes"))]))
    response = client.get(path)
    assert response.status_code == 200
    assert response.json == {"answer": "yes"}


def test_a_path_regex_does_not_reach_other_paths() -> None:
    client = Client(create_app([pact_document(path_rule("^/users/\\d+$", "/users/1", "yes"))]))
    assert client.get("/users/abc").status_code == 404
    assert client.get("/other/1").status_code == 404


def test_a_literal_path_and_a_pattern_for_the_same_path_compete_by_specificity() -> None:
    literal = {
        "description": "exactly one",
        "request": {"method": "GET", "path": "/users/1"},
        "response": {"status": 200, "body": {"answer": "literal"}},
    }
    pact = pact_document(path_rule("^/users/\\d+$", "/users/2", "pattern"), literal)
    client = Client(create_app([pact]))
    assert client.get("/users/1").json == {"answer": "literal"}
    assert client.get("/users/2").json == {"answer": "pattern"}


def test_405_lists_methods_of_patterned_routes_too() -> None:
    client = Client(create_app([pact_document(path_rule("^/users/\\d+$", "/users/1", "yes"))]))
    response = client.delete("/users/9")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, OPTIONS"
