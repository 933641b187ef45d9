"""A real HTTP provider on a free port, answering canned responses and recording what it got."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

STATES_PATH = "/_states"


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Canned:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0


class FakeProvider:
    """Answers ``(method, path)`` with what :meth:`answer` set; ``POST /_states`` records state calls."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Canned] = {}
        #: every request in arrival order, state calls included
        self.log: list[Received] = []
        self.state_answer = Canned(200, [("Content-Type", "application/json")], b"{}")
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                received = Received(self.command, self.path, list(self.headers.items()), body)
                owner.log.append(received)
                if received.path == STATES_PATH:
                    canned = owner.state_answer
                else:
                    canned = owner.routes.get((self.command, received.path), Canned(404))
                time.sleep(canned.delay)
                self.send_response(canned.status)
                for name, value in canned.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def answer(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer ``method path``; a ``body`` that is not bytes is sent as JSON."""
        pairs = list((headers or {}).items())
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            if not isinstance(body, bytes) and not any(k.lower() == "content-type" for k, _ in pairs):
                pairs.append(("Content-Type", "application/json"))
        self.routes[(method, path)] = Canned(status, pairs, data, delay)

    @property
    def requests(self) -> list[Received]:
        return [r for r in self.log if r.path != STATES_PATH]

    @property
    def state_calls(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.log if r.path == STATES_PATH]


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        fake.thread.join()


def v3_pact(
    *interactions: dict[str, Any], consumer: str = "shop", provider: str = "catalogue"
) -> dict[str, Any]:
    return {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def product_interaction(description: str = "a product", **extra: Any) -> dict[str, Any]:
    """``GET /products/10`` -> ``{"id": 10, "name": "pen", "price": 1.5}`` with type rules on every key."""
    return {
        "description": description,
        "request": {"method": "GET", "path": "/products/10", "headers": {"Accept": "application/json"}},
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": {"id": 10, "name": "pen", "price": 1.5},
            "matchingRules": {"body": {"$": {"matchers": [{"match": "type"}]}}},
        },
        **extra,
    }


PRODUCT = {"id": 99, "name": "pencil", "price": 0.25}
