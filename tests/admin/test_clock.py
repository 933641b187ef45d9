"""``/_pactstub/clock``: a session's clock read, frozen, moved on and let run again."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import pact_document
from tests.shop import Shop, json_of, session


@pytest.fixture
def stub(shop: Shop) -> Client:
    """A stub whose ``POST /scratch`` says what ``now("epoch_ms")`` is."""
    shop.template("a-scratch-request", '{"ms": {{ now("epoch_ms") }}}')
    return shop.client()


def clock(client: Client, headers: Any = None, **change: Any) -> Any:
    if change:
        return json_of(client.post("/_pactstub/clock", json=change, headers=headers))
    return json_of(client.get("/_pactstub/clock", headers=headers))


def seconds(shown: Any) -> float:
    return datetime.fromisoformat(shown["now"]).timestamp()


def template_now(client: Client, headers: Any = None) -> float:
    ms: int = json_of(client.post("/scratch", json={}, headers=headers))["ms"]
    return ms / 1000


def test_real_time_until_moved(stub: Client) -> None:
    shown = clock(stub)
    assert (shown["session"], shown["offset_seconds"], shown["frozen"]) == ("default", 0, False)
    assert shown["now"].endswith("Z")
    assert abs(seconds(shown) - time.time()) < 5


def test_advanced_while_running(stub: Client) -> None:
    shown = clock(stub, advance=3600)
    assert (shown["offset_seconds"], shown["frozen"]) == (3600, False)
    assert abs(seconds(shown) - time.time() - 3600) < 5
    assert abs(template_now(stub) - time.time() - 3600) < 5
    assert clock(stub, advance=-600)["offset_seconds"] == 3000


def test_frozen_it_stands_still_until_advanced_and_runs_on_from_there_when_unfrozen(stub: Client) -> None:
    frozen = clock(stub, freeze=True)
    assert frozen["frozen"] is True
    time.sleep(0.01)
    assert clock(stub)["now"] == frozen["now"]
    assert template_now(stub) == pytest.approx(seconds(frozen), abs=0.001)
    advanced = clock(stub, advance=90.5)
    assert seconds(advanced) - seconds(frozen) == pytest.approx(90.5)
    assert template_now(stub) == pytest.approx(seconds(frozen) + 90.5, abs=0.001)
    running = clock(stub, unfreeze=True)
    assert running["frozen"] is False
    assert seconds(running) == pytest.approx(seconds(advanced), abs=1)
    time.sleep(0.01)
    assert seconds(clock(stub)) > seconds(advanced)


def test_freezing_and_advancing_in_one_call(stub: Client) -> None:
    before = seconds(clock(stub))
    shown = clock(stub, freeze=True, advance=60)
    assert shown["frozen"] is True
    assert seconds(shown) == pytest.approx(before + 60, abs=2)


def test_each_session_has_its_own_clock(stub: Client) -> None:
    clock(stub, session("later"), freeze=True, advance=86400)
    assert clock(stub, session("later"))["frozen"] is True
    assert clock(stub)["frozen"] is False
    assert template_now(stub, session("later")) - template_now(stub) == pytest.approx(86400, abs=5)
    assert json_of(stub.get("/_pactstub/clock?session=later"))["session"] == "later"


def test_a_reset_sets_the_clock_right_again(stub: Client) -> None:
    clock(stub, freeze=True, advance=86400)
    json_of(stub.post("/_pactstub/reset"))
    assert (clock(stub)["frozen"], clock(stub)["offset_seconds"]) == (False, 0)
    assert abs(template_now(stub) - time.time()) < 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([60], "the body must be a JSON object, not list"),
        ({"advance": "60"}, "advance must be a number of seconds, not '60'"),
        ({"advance": True}, "advance must be a number of seconds"),
        ({"advance": 1e12}, "advance must be a number of seconds"),
        ({"freeze": True, "unfreeze": True}, "freeze and unfreeze are true or false, and not both true"),
        ({"freeze": "yes"}, "freeze and unfreeze are true or false"),
        ({"skip": 60}, "unknown fields ['skip'] (known: advance, freeze, unfreeze)"),
    ],
)
def test_a_bad_change_is_a_400_and_moves_nothing(stub: Client, body: Any, message: str) -> None:
    before = clock(stub)
    response = stub.post("/_pactstub/clock", json=body)
    assert message in json_of(response, 400)["error"]
    after = clock(stub)
    assert (after["offset_seconds"], after["frozen"]) == (before["offset_seconds"], before["frozen"])


def test_the_pacts_date_generators_read_the_sessions_clock_too(write_pact: Any) -> None:
    pact = write_pact(
        pact_document(
            {
                "description": "today",
                "request": {"method": "GET", "path": "/today"},
                "response": {
                    "status": 200,
                    "body": {"today": "2000-01-01"},
                    "generators": {"body": {"$.today": {"type": "Date", "format": "yyyy-MM-dd"}}},
                },
            }
        )
    )
    client = Client(create_app([pact]))
    clock(client, freeze=True, advance=400 * 86_400)
    moved = datetime.fromisoformat(clock(client)["now"]).date()
    assert json_of(client.get("/today"))["today"] == moved.isoformat()
    assert json_of(client.get("/today", headers=session("other")))["today"] != moved.isoformat()
