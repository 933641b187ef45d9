"""Connections: kept alive, many at once, slow clients, timeouts, a clean stop.

Each test drives a real ``pactstub serve`` over real sockets. Bounds on time here
are behavioural (a request is answered while slow clients hold connections), and
generous; speed itself is measured in ``bench/``.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import EPX_PACT, ServeProcess
from tests.server.wire import closed_by_server, connect, exchange, read_reply, request

HEALTH = request("GET", "/health")
SLOW_CLIENTS = 50


@pytest.fixture(scope="module")
def default_server(start_module_server: Any) -> ServeProcess:
    server: ServeProcess = start_module_server("--pact", str(EPX_PACT), "--log-level", "warning")
    return server


def test_one_connection_serves_several_requests(default_server: ServeProcess) -> None:
    with connect(default_server.url) as sock:
        local = sock.getsockname()
        for _ in range(5):
            sock.sendall(HEALTH)
            reply = read_reply(sock)
            assert reply is not None
            assert reply.status == 200
            assert reply.header("connection") != "close"
        assert sock.getsockname() == local


def test_200_connections_are_held_open_and_answered_at_once(default_server: ServeProcess) -> None:
    sockets = [connect(default_server.url) for _ in range(200)]
    try:
        for round_ in range(2):  # the second round proves every connection stayed open
            for sock in sockets:
                sock.sendall(HEALTH)
            with ThreadPoolExecutor(max_workers=20) as pool:
                replies = list(pool.map(read_reply, sockets))
            assert [r.status if r else None for r in replies] == [200] * 200, f"round {round_}"
        assert len({sock.getsockname() for sock in sockets}) == 200
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture
def slow_clients(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``trickle(url)``: 50 connections sending a request's headers a byte at a time, never finishing."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def trickle_one(url: str) -> None:
        with connect(url) as sock:
            for byte in b"GET /health HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 10_000:
                if stop.wait(0.05):
                    return
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    return

    def trickle(url: str) -> None:
        for _ in range(SLOW_CLIENTS):
            thread = threading.Thread(target=trickle_one, args=(url,), daemon=True)
            thread.start()
            threads.append(thread)
        time.sleep(0.5)  # every slow client connected and sending

    yield trickle
    stop.set()
    for thread in threads:
        thread.join(5)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_slow_clients_do_not_hold_up_a_normal_request(
    serve: Any, slow_clients: Any, workers: str, sqlite_url: str
) -> None:
    server = serve(
        "--pact", str(EPX_PACT), "--port", "0", "--workers", workers, "--threads", "4",
        "--database-url", sqlite_url,
    )  # fmt: skip
    exchange(server.url, HEALTH)  # every worker warmed up is not needed: any one must answer
    slow_clients(server.url)
    started = time.monotonic()
    reply = exchange(server.url, HEALTH)
    assert reply.status == 200
    assert time.monotonic() - started < 1.0


def test_an_idle_connection_is_closed_after_the_timeout(serve: Any, sqlite_url: str) -> None:
    server = serve("--pact", str(EPX_PACT), "--port", "0", "--timeout", "0.5", "--database-url", sqlite_url)
    with connect(server.url, timeout=5) as sock:
        sock.sendall(HEALTH)
        assert read_reply(sock) is not None
        started = time.monotonic()
        assert closed_by_server(sock)
        assert time.monotonic() - started < 4


def test_a_request_that_never_completes_is_answered_408(serve: Any, sqlite_url: str) -> None:
    server = serve("--pact", str(EPX_PACT), "--port", "0", "--timeout", "0.5", "--database-url", sqlite_url)
    with connect(server.url, timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: slow\r\n")
        deadline = time.monotonic() + 4
        reply = None
        while reply is None and time.monotonic() < deadline:  # keep it busy: not idle, just slow
            sock.sendall(b"X-Slow: 1\r\n")
            if socket_readable(sock, 0.1):
                reply = read_reply(sock)
    assert reply is not None
    assert reply.status == 408
    assert reply.json() == {"error": "the request did not arrive whole in time", "status": 408}
    entries = exchange(server.url, request("GET", "/_pactstub/requests")).json()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [("GET", "/health", 408)]
    assert "GET /health 408" in server.log()


def socket_readable(sock: socket.socket, timeout: float) -> bool:
    import select

    readable, _, _ = select.select([sock], [], [], timeout)
    return bool(readable)


@pytest.mark.parametrize(
    "args",
    [[], ["--workers", "2"], ["--server", "werkzeug"]],
    ids=["waitress", "gunicorn-workers", "werkzeug"],
)
def test_sigterm_stops_the_server_cleanly_and_frees_the_port(
    serve: Any, sqlite_url: str, args: list[str]
) -> None:
    server = serve("--pact", str(EPX_PACT), "--port", "0", "--database-url", sqlite_url, *args)
    with connect(server.url) as kept_alive:
        kept_alive.sendall(HEALTH)
        assert read_reply(kept_alive) is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0
    server.stop()
    assert "Traceback" not in server.stderr
    port = int(server.url.rsplit(":", 1)[1])
    with socket.socket() as probe:  # as a server binds: free unless something listens there
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
