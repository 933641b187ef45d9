"""``/_pactstub/faults``: faults and delays set, listed and removed while the stub runs."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from pactstub.errors import ConnectionDropped
from tests.shop import Shop, json_of, session


def put(client: Client, body: Any, status: int = 200, headers: Any = None) -> Any:
    return json_of(client.put("/_pactstub/faults", json=body, headers=headers), status)


def statuses(client: Client, headers: Any = None) -> list[int]:
    return [client.get(path, headers=headers).status_code for path in ("/read", "/things/1")]


def test_a_fault_for_one_interaction_then_removed(shop: Shop) -> None:
    client = shop.client()
    shown = put(client, {"interaction": "a read", "status": 503})
    assert shown == {"session": "default", "target": "a read", "config": {"status": 503}}
    assert statuses(client) == [503, 200]
    assert json_of(client.get("/_pactstub/faults")) == {
        "faults": [{"session": "default", "target": "a read", "config": {"status": 503}}]
    }
    assert client.delete("/_pactstub/faults?interaction=a%20read").status_code == 204
    assert statuses(client) == [200, 200]
    assert json_of(client.get("/_pactstub/faults")) == {"faults": []}


def test_a_fault_for_every_interaction_and_one_for_an_interaction_wins(shop: Shop) -> None:
    client = shop.client()
    put(client, {"status": 500})
    put(client, {"interaction": "a read", "status": 502})
    assert statuses(client) == [502, 500]
    assert client.delete("/_pactstub/faults").status_code == 204
    assert statuses(client) == [200, 200]


def test_a_delay_drop_and_probability(shop: Shop) -> None:
    client = shop.client(seed=5)
    put(client, {"interaction": "a read", "delay_ms": [5, 10]})
    assert client.get("/read").status_code == 200
    put(client, {"interaction": "a thing", "drop": True, "probability": 0.5, "delay_ms": 1})
    outcomes: set[int | str] = set()
    for _ in range(20):
        try:
            outcomes.add(client.get("/things/1").status_code)
        except ConnectionDropped:
            outcomes.add("dropped")
    assert outcomes == {200, "dropped"}
    faults = json_of(client.get("/_pactstub/requests"))
    assert 5 <= faults[0]["fault"]["delay_ms"] <= 10


def test_a_fault_set_through_the_api_wins_over_the_one_set_at_start_until_removed(shop: Shop) -> None:
    client = shop.client(faults=["a read=500"])
    assert statuses(client) == [500, 200]
    put(client, {"interaction": "a read", "delay_ms": 0})
    assert statuses(client) == [200, 200]
    client.delete("/_pactstub/faults")
    assert statuses(client) == [500, 200]


def test_a_fault_of_one_session_leaves_the_others_alone(shop: Shop) -> None:
    client = shop.client()
    put(client, {"status": 503}, headers=session("flaky"))
    put(client, {"interaction": "a thing", "status": 500, "session": "broken"})
    assert statuses(client, session("flaky")) == [503, 503]
    assert statuses(client, session("broken")) == [200, 500]
    assert statuses(client) == [200, 200]
    assert [f["session"] for f in json_of(client.get("/_pactstub/faults"))["faults"]] == ["broken", "flaky"]
    assert json_of(client.get("/_pactstub/faults?session=flaky"))["faults"] == [
        {"session": "flaky", "target": "*", "config": {"status": 503}}
    ]
    json_of(client.post("/_pactstub/reset?session=flaky"))
    assert statuses(client, session("flaky")) == [200, 200]
    assert statuses(client, session("broken")) == [200, 500]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ([503], 400, "the body must be a JSON object, not list"),
        ({}, 400, "give delay_ms, status or drop"),
        ({"status": 999}, 400, "status: an HTTP status from 100 to 599"),
        ({"status": 503, "drop": True}, 400, "drops the connection or answers a status, not both"),
        ({"delay_ms": [300, 50]}, 400, "delay_ms: a number of milliseconds or [low, high]"),
        ({"delay_ms": 120_000}, 400, "up to 60000"),
        ({"drop": True, "probability": 2}, 400, "probability: a number from 0 to 1"),
        ({"status": 503, "every": 2}, 400, "unknown fields ['every']"),
        ({"status": 503, "session": "a b"}, 400, "session name 'a b' must be"),
        ({"status": 503, "interaction": "a raed"}, 404, "no interaction is described 'a raed'"),
    ],
)
def test_a_bad_fault_is_refused_and_nothing_is_set(shop: Shop, body: Any, status: int, message: str) -> None:
    client = shop.client()
    assert message in put(client, body, status)["error"]
    assert json_of(client.get("/_pactstub/faults")) == {"faults": []}
    assert statuses(client) == [200, 200]


def test_removing_the_fault_of_an_unknown_interaction_is_a_404(shop: Shop) -> None:
    client = shop.client()
    response = client.delete("/_pactstub/faults?interaction=nothing")
    assert response.status_code == 404
    assert "a read" in json_of(response, 404)["interactions"]
