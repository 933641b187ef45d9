"""Sessions: a request header gives a test suite its own counters, records, clock and journal
on a stub it shares with others; each session is looked at and reset on its own."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from tests.shop import Shop, json_of, session

ALICE, BOB = session("alice"), session("bob")


@pytest.fixture
def stub(shop: Shop) -> Client:
    """``POST /scratch`` takes the next job id and saves the job; ``GET /read`` lists the jobs."""
    shop.template(
        "a-scratch-request", '{{ save("jobs", {"id": next_id("jobs", 123), "by": request.body.by}) }}'
    )
    shop.template(
        "a-read", '{"jobs": {{ find("jobs") | map(attribute="id") | list }}, "year": {{ now("%Y") }}}'
    )
    return shop.client()


def register(client: Client, headers: Any = None, by: str = "") -> int:
    job_id: int = json_of(client.post("/scratch", json={"by": by}, headers=headers))["id"]
    return job_id


def jobs(client: Client, headers: Any = None) -> list[int]:
    found: list[int] = json_of(client.get("/read", headers=headers))["jobs"]
    return found


def journal(client: Client, query: str = "") -> list[tuple[str, str]]:
    return [(e["session"], e["path"]) for e in json_of(client.get(f"/_pactstub/requests{query}"))]


def test_counters_and_records_of_each_session_are_its_own(stub: Client) -> None:
    assert [register(stub, ALICE), register(stub, ALICE)] == [123, 124]
    assert register(stub, BOB) == 123
    assert register(stub) == 123
    assert jobs(stub, ALICE) == [123, 124]
    assert jobs(stub, BOB) == [123]
    assert jobs(stub) == [123]


def test_each_session_has_its_own_clock(stub: Client) -> None:
    json_of(stub.post("/_pactstub/clock", json={"advance": 86400 * 366 * 3}, headers=ALICE))
    year = json_of(stub.get("/read", headers=BOB))["year"]
    assert int(json_of(stub.get("/read", headers=ALICE))["year"]) - int(year) in (2, 3)
    assert json_of(stub.get("/read"))["year"] == year


def test_the_journal_says_whose_request_each_was(stub: Client) -> None:
    register(stub, ALICE)
    register(stub, BOB)
    register(stub)
    assert journal(stub) == [("alice", "/scratch"), ("bob", "/scratch"), ("default", "/scratch")]
    assert journal(stub, "?session=bob") == [("bob", "/scratch")]
    assert stub.delete("/_pactstub/requests?session=alice").status_code == 204
    assert journal(stub) == [("bob", "/scratch"), ("default", "/scratch")]


def test_state_shows_one_sessions_counters_and_collections_and_every_session(stub: Client) -> None:
    register(stub, ALICE)
    register(stub, ALICE)
    register(stub, BOB)
    assert json_of(stub.get("/_pactstub/state", headers=ALICE)) == {
        "session": "alice",
        "counters": {"jobs": 124},
        "collections": {"jobs": 2},
        "sessions": ["alice", "bob"],
    }
    shown = json_of(stub.get("/_pactstub/state?session=bob"))
    assert (shown["counters"], shown["collections"]) == ({"jobs": 123}, {"jobs": 1})
    assert json_of(stub.get("/_pactstub/state"))["counters"] == {}


def test_a_reset_of_one_session_leaves_the_others(stub: Client) -> None:
    register(stub, ALICE)
    register(stub, BOB)
    json_of(stub.post("/_pactstub/clock", json={"freeze": True}, headers=BOB))
    json_of(stub.post("/_pactstub/clock", json={"freeze": True}, headers=ALICE))
    assert json_of(stub.post("/_pactstub/reset?session=alice")) == {
        "reset": True,
        "collection": None,
        "session": "alice",
    }
    assert jobs(stub, ALICE) == []
    assert jobs(stub, BOB) == [123]
    assert json_of(stub.get("/_pactstub/clock", headers=ALICE))["frozen"] is False
    assert json_of(stub.get("/_pactstub/clock", headers=BOB))["frozen"] is True
    assert ("alice", "/scratch") not in journal(stub)
    assert ("bob", "/scratch") in journal(stub)
    assert register(stub, ALICE) == 123
    assert register(stub, BOB) == 124


def test_a_reset_of_one_collection_of_one_session(stub: Client) -> None:
    register(stub, ALICE)
    register(stub, BOB)
    json_of(stub.post("/_pactstub/reset?session=alice&collection=jobs"))
    assert jobs(stub, ALICE) == []
    assert jobs(stub, BOB) == [123]
    assert ("alice", "/scratch") in journal(stub)  # a collection's reset keeps the journal


def test_a_reset_without_a_session_resets_them_all(stub: Client) -> None:
    register(stub, ALICE)
    register(stub, BOB)
    json_of(stub.post("/_pactstub/reset"))
    assert json_of(stub.get("/_pactstub/state"))["sessions"] == []
    assert [register(stub, ALICE), register(stub, BOB)] == [123, 123]


def test_another_header_can_name_the_session(shop: Shop) -> None:
    shop.template("a-scratch-request", '{"id": {{ next_id("jobs") }}}')
    client = shop.client(session_header="X-Tenant")
    ids = [json_of(client.post("/scratch", json={}, headers={"X-Tenant": name}))["id"] for name in "aab"]
    assert ids == [1, 2, 1]
    assert json_of(client.post("/scratch", json={}, headers=ALICE))["id"] == 1  # the default header is not it


@pytest.mark.parametrize("name", ["a b", "x" * 129, "ünï"])
def test_a_session_name_that_cannot_be_one_is_a_400(stub: Client, name: str) -> None:
    response = stub.post("/scratch", json={}, headers={"X-Pactstub-Session": name})
    assert "session name" in json_of(response, 400)["message"]
    assert name not in json_of(stub.get("/_pactstub/state"))["sessions"]
