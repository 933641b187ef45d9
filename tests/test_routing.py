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


def greeting(description: str, answer: str, **request: Any) -> dict[str, Any]:
    return {
        "description": description,
        "request": {"method": "GET", "path": "/greeting", **request},
        "response": {"status": 200, "body": {"answer": answer}},
    }


def test_an_interaction_another_wins_its_own_example_for_is_shadowed() -> None:
    pact = pact_document(greeting("hello", "first"), greeting("hello again", "second"))
    app = create_app([pact])
    assert Client(app).get("/greeting").json == {"answer": "first"}
    first, second = app.index.routes
    assert app.index.reach[second.order].shadowed_by is first
    assert first.order not in app.index.reach or app.index.reach[first.order].shadowed_by is None


def test_a_more_specific_interaction_shadows_a_general_one_listed_first() -> None:
    """The general one's own example is answered by the specific one: it is shadowed."""
    general = greeting(
        "any name",
        "general",
        query={"name": ["bob"]},
        matchingRules={"query": {"name": {"matchers": [{"match": "regex", "regex": "[a-z]+"}]}}},
    )
    specific = greeting("bob", "specific", query={"name": ["bob"]})
    app = create_app([pact_document(general, specific)])
    client = Client(app)
    assert client.get("/greeting?name=bob").json == {"answer": "specific"}
    assert client.get("/greeting?name=alice").json == {"answer": "general"}
    reach = app.index.reach[0]
    assert reach.shadowed_by is app.index.routes[1]
    assert reach.distinguished_by == ("query",)


def test_interactions_told_apart_by_provider_state_are_not_shadowed() -> None:
    first = {**greeting("in the morning", "morning"), "providerStates": [{"name": "morning"}]}
    second = {**greeting("in the evening", "evening"), "providerStates": [{"name": "evening"}]}
    app = create_app([pact_document(first, second)])
    client = Client(app)
    assert client.get("/greeting").json == {"answer": "morning"}
    assert client.get("/greeting", headers={"X-Pact-Provider-State": "evening"}).json == {"answer": "evening"}
    assert [app.index.reach[route.order].shadowed_by for route in app.index.routes] == [None, None]
    assert [app.index.reach[route.order].distinguished_by for route in app.index.routes] == [
        ("provider state",),
        ("provider state",),
    ]


def test_interactions_told_apart_by_their_bodies_are_not_shadowed() -> None:
    def job(kind: str) -> dict[str, Any]:
        return {
            "description": f"a {kind} job",
            "request": {"method": "POST", "path": "/jobs", "headers": {"Content-Type": "application/json"},
                        "body": {"type": kind}},
            "response": {"status": 200, "body": {"answer": kind}},
        }  # fmt: skip

    app = create_app([pact_document(job("input"), job("config"))])
    for route in app.index.routes:
        assert app.index.reach[route.order].shadowed_by is None
        assert app.index.reach[route.order].distinguished_by == ("body",)
    response = Client(app).post("/jobs", json={"type": "config"})
    assert response.json == {"answer": "config"}
