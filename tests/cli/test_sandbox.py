"""``pactstub serve``'s options for a shared sandbox, on a real socket: ``--seed`` across
restarts, ``--session-header``, ``--delay`` and ``--fault`` (a dropped connection)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pactstub.cli import main
from tests.conftest import ServeProcess
from tests.server.wire import address, closed_by_server, connect, request
from tests.shop import Shop


def call(url: str, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    host, port = address(url)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        body = b"{}" if method == "POST" else None
        connection.request(
            method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def start(serve: Any, shop: Shop, tmp_path: Path, *options: str, name: str = "store") -> ServeProcess:
    process: ServeProcess = serve(
        "--pact", str(shop.pact), "--templates", str(shop.templates), "--port", "0",
        "--database-url", f"sqlite:///{tmp_path / name}.sqlite3", *options,
    )  # fmt: skip
    return process


def test_a_seed_makes_generators_and_templates_repeat_across_restarts(
    serve: Any, shop: Shop, tmp_path: Path
) -> None:
    shop.template("a-scratch-request", '{"n": {{ random_int(1, 1000000000) }}, "u": {{ uuid() }}}')

    def values(seed: str, name: str) -> list[Any]:
        process = start(serve, shop, tmp_path, "--seed", seed, name=name)
        try:
            return [call(process.url, method, path)[1] for method, path in [("GET", "/generated"),
                    ("POST", "/scratch"), ("GET", "/generated"), ("POST", "/scratch")]]  # fmt: skip
        finally:
            process.stop()

    first = values("42", "a")
    assert first[0]["code"] != "abc"  # generated, not the example
    assert values("42", "a") == first  # the same store, restarted
    assert values("43", "a") != first


def test_another_session_header_keeps_sessions_apart(serve: Any, shop: Shop, tmp_path: Path) -> None:
    shop.template("a-scratch-request", '{"id": {{ next_id("jobs", 123) }}}')
    process = start(serve, shop, tmp_path, "--session-header", "X-Suite")
    ids = [call(process.url, "POST", "/scratch", {"X-Suite": suite})[1]["id"] for suite in ("a", "a", "b")]
    assert ids == [123, 124, 123]
    assert call(process.url, "GET", "/_pactstub/state", {"X-Suite": "a"})[1]["counters"] == {"jobs": 124}


def test_a_dropped_connection_and_a_delay_on_the_wire(serve: Any, shop: Shop, tmp_path: Path) -> None:
    process = start(serve, shop, tmp_path, "--fault", "a read=drop", "--delay", "a thing=50ms")
    with connect(process.url) as sock:
        sock.sendall(request("GET", "/read"))
        assert closed_by_server(sock)
    assert call(process.url, "GET", "/things/1") == (200, {"id": 1})
    _, entries = call(process.url, "GET", "/_pactstub/requests")
    assert [(e["path"], e["fault"]) for e in entries] == [
        ("/read", {"drop": True}),
        ("/things/1", {"delay_ms": 50.0}),
    ]
    assert entries[1]["duration_ms"] >= 50


def test_a_fault_naming_no_interaction_stops_start_up(cli: CliRunner, shop: Shop, tmp_path: Path) -> None:
    result = cli.invoke(
        main,
        ["serve", "--pact", str(shop.pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.sqlite3",
         "--fault", "a raed=503"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == "pactstub: error: --fault 'a raed=503': no interaction is described 'a raed'\n"
