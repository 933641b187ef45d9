"""Delays and faults set at start (``create_app(delays=..., faults=...)``, ``--delay``, ``--fault``).

The admin API's side is in ``tests/admin/test_fault_settings.py``, dropped connections and
delays on real sockets in ``tests/cli/test_sandbox.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from pactstub.errors import ConfigError, ConnectionDropped
from pactstub.faults import Fault, parse_delay, parse_option
from tests.shop import Shop, json_of


def journal(client: Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json_of(client.get("/_pactstub/requests"))
    return entries


class TestTheOptions:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("200ms", (0.2, 0.2)),
            ("1.5s", (1.5, 1.5)),
            ("50ms-300ms", (0.05, 0.3)),
            ("0-1s", (0, 1)),
            ("7", (0.007,) * 2),
        ],
    )
    def test_a_delay_is_fixed_or_a_range(self, text: str, seconds: tuple[float, float]) -> None:
        assert parse_delay(text) == pytest.approx(seconds)

    def test_faults_and_delays_by_interaction_or_for_all(self) -> None:
        table = parse_option(
            ["a read=100ms", "20ms-40ms"],
            ["a read=503@0.25", "drop@0.1", "a=b=500"],
        )
        assert table == {
            "a read": Fault(delay=(0.1, 0.1), status=503, probability=0.25),
            "*": Fault(delay=(0.02, 0.04), drop=True, probability=0.1),
            "a=b": Fault(status=500),
        }

    @pytest.mark.parametrize(
        ("delays", "faults", "message"),
        [
            (["soon"], [], "--delay 'soon': 'soon' is not a duration such as 200ms or 1.5s"),
            (["2m"], [], "is not a duration"),
            (["61s"], [], "is longer than a minute"),
            (["300ms-50ms"], [], "goes from more to less"),
            ([], ["teapot"], "expected [INTERACTION=]STATUS or [INTERACTION=]drop"),
            ([], ["503@often"], "'often' is not a probability"),
            ([], ["503@1.5"], "probability: a number from 0 to 1"),
            ([], ["99"], "status: an HTTP status from 100 to 599"),
        ],
    )
    def test_a_bad_option_names_itself(self, delays: list[str], faults: list[str], message: str) -> None:
        with pytest.raises(ConfigError) as raised:
            parse_option(delays, faults)
        assert message in str(raised.value)

    def test_an_interaction_that_is_not_served_is_refused_at_start(self, shop: Shop) -> None:
        with pytest.raises(ConfigError) as raised:
            shop.app(faults=["a raed=503"])
        assert "--fault 'a raed=503': no interaction is described 'a raed'" in str(raised.value)
        with pytest.raises(ConfigError, match="--delay 'nothing=1s': no interaction is described 'nothing'"):
            shop.app(delays=["nothing=1s"])


class TestServing:
    def test_a_status_instead_of_the_interactions_response(self, shop: Shop) -> None:
        client = shop.client(faults=["a read=503"])
        assert json_of(client.get("/read"), 503) == {
            "error": "injected fault",
            "status": 503,
            "interaction": "a read",
        }
        assert json_of(client.get("/things/1")) == {"id": 1}
        assert [(e["interaction"], e["status"], e["fault"]) for e in journal(client)] == [
            ("a read", 503, {"status": 503}),
            ("a thing", 200, None),
        ]

    def test_the_interactions_own_fault_wins_over_the_one_for_all(self, shop: Shop) -> None:
        client = shop.client(faults=["500", "a read=503"])
        assert [client.get(path).status_code for path in ("/read", "/things/1", "/nowhere")] == [
            503,
            500,
            500,
        ]

    def test_the_stubs_own_endpoints_are_never_failed(self, shop: Shop) -> None:
        client = shop.client(faults=["500"], delays=["1s"])
        assert client.get("/health").status_code == 200
        assert client.get("/_pactstub/state").status_code == 200

    def test_a_dropped_connection_reaches_a_plain_wsgi_caller_as_an_exception(self, shop: Shop) -> None:
        client = shop.client(faults=["a read=drop"])
        with pytest.raises(ConnectionDropped):
            client.get("/read")
        assert journal(client)[0]["fault"] == {"drop": True}

    @pytest.mark.parametrize("probability", ["0", "0.0"])
    def test_a_fault_of_probability_zero_never_happens(self, shop: Shop, probability: str) -> None:
        client = shop.client(faults=[f"503@{probability}"])
        assert {client.get("/read").status_code for _ in range(20)} == {200}

    def test_a_probability_is_drawn_per_request_and_repeats_with_a_seed(self, shop: Shop) -> None:
        def statuses(seed: int) -> list[int]:
            client = shop.client(faults=["503@0.5"], seed=seed)
            return [client.get("/read").status_code for _ in range(30)]

        first = statuses(3)
        assert set(first) == {200, 503}
        assert statuses(3) == first
        assert statuses(4) != first

    def test_a_delay_holds_the_answer(self, shop: Shop) -> None:
        client = shop.client(delays=["a read=30ms", "5ms-15ms"])
        assert json_of(client.get("/read")) == {}
        assert client.get("/things/1").status_code == 200
        read, thing = journal(client)
        assert read["fault"] == {"delay_ms": 30.0}
        assert read["duration_ms"] >= 30
        assert 5 <= thing["fault"]["delay_ms"] <= 15
        assert thing["duration_ms"] >= thing["fault"]["delay_ms"]

    def test_a_delay_and_a_fault_of_one_target_go_together(self, shop: Shop) -> None:
        client = shop.client(faults=["a read=502"], delays=["a read=10ms"])
        assert client.get("/read").status_code == 502
        assert journal(client)[0]["fault"] == {"delay_ms": 10.0, "status": 502}
