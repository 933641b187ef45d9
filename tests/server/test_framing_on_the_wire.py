"""What each server puts on the wire: our own framing, JSON refusals, bodies within the limit.

Every test runs against waitress (the default), gunicorn's arbiter with a waitress
worker, and werkzeug, each a real ``pactstub serve`` on a real socket, read byte
for byte (``tests.server.wire``).
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
from typing import Any

import pytest
import requests

from tests.conftest import ServeProcess
from tests.server.conftest import BODY_LIMIT, EPX_HEADERS, SERVERS, epx_server_args
from tests.server.wire import Reply, connect, exchange, read_reply, request

REGISTER_BODY = json.dumps({"tags": ["wire"]}).encode()


@pytest.fixture(scope="module", params=list(SERVERS))
def stub(request: pytest.FixtureRequest, start_module_server: Any, framing_pact_file: Any) -> ServeProcess:
    server: ServeProcess = start_module_server(
        *epx_server_args("--pact", str(framing_pact_file), *SERVERS[request.param])
    )
    return server


def raw_until_close(url: str, raw: bytes) -> tuple[bytes, bytes]:
    """Send ``raw`` (which asks for ``Connection: close``); the header block and every byte after it."""
    data = b""
    with connect(url) as sock:
        sock.sendall(raw)
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header_values(head: bytes, name: str) -> list[str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith(name.lower() + ":")]


def last_entry(stub: ServeProcess) -> dict[str, Any]:
    entries: list[dict[str, Any]] = exchange(stub.url, request("GET", "/_pactstub/requests")).json()
    return entries[-1] if entries else {"sequence": 0}


def stored_jobs(stub: ServeProcess) -> int:
    state = exchange(stub.url, request("GET", "/_pactstub/state")).json()
    return int(state["collections"].get("jobs", 0))


def register(chunks: list[bytes], extension: bytes = b"") -> bytes:
    """A job registration whose body is sent in ``chunks``, each size line carrying ``extension``."""
    head = request("POST", "/jobs/register", EPX_HEADERS, chunks=[])
    head = head[: -len(b"0\r\n\r\n")]
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(c), extension, c) for c in chunks)
    return head + body + b"0%s\r\n\r\n" % extension


class TestResponseFraming:
    def test_a_pacts_own_length_and_connection_headers_are_replaced_by_ours(self, stub: ServeProcess) -> None:
        head, body = raw_until_close(stub.url, request("GET", "/recorded", {"Connection": "close"}))
        assert header_values(head, "Content-Length") == [str(len(body))]
        assert header_values(head, "Transfer-Encoding") == []
        assert header_values(head, "Keep-Alive") == []
        assert json.loads(body) == {"recorded": True}

    def test_a_real_client_reads_a_recorded_response(self, stub: ServeProcess) -> None:
        response = requests.get(f"{stub.url}/recorded", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"recorded": True}

    def test_head_has_the_get_length_and_no_body(self, stub: ServeProcess) -> None:
        get = exchange(stub.url, request("GET", "/health", {"Connection": "close"}))
        head, rest = raw_until_close(stub.url, request("HEAD", "/health", {"Connection": "close"}))
        assert head.startswith(b"HTTP/1.1 200")
        assert rest == b""
        assert header_values(head, "Content-Length") == [str(len(get.body))]

    @pytest.mark.parametrize(
        ("method", "path", "status"), [("DELETE", "/recorded", 204), ("GET", "/unchanged", 304)]
    )
    def test_no_content_and_not_modified_have_no_body(
        self, stub: ServeProcess, method: str, path: str, status: int
    ) -> None:
        head, rest = raw_until_close(stub.url, request(method, path, {"Connection": "close"}))
        assert head.startswith(f"HTTP/1.1 {status}".encode())
        assert rest == b""
        assert header_values(head, "Transfer-Encoding") == []
        if status == 204:
            assert header_values(head, "Content-Length") == []


class TestChunkedBodies:
    def test_a_chunk_extension_is_accepted(self, stub: ServeProcess) -> None:
        before = stored_jobs(stub)
        reply = exchange(stub.url, register([REGISTER_BODY[:5], REGISTER_BODY[5:]], extension=b";ext=1"))
        assert reply.status == 200, reply.body
        assert reply.json()["tags"] == ["wire"]
        assert stored_jobs(stub) == before + 1

    @pytest.mark.parametrize("size", [BODY_LIMIT + 500, 200 * 1024], ids=["just-over", "far-over"])
    def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(
        self, stub: ServeProcess, size: int
    ) -> None:
        before = stored_jobs(stub)
        padding = b" " * (size - len(REGISTER_BODY))
        body = REGISTER_BODY[:-1] + padding + REGISTER_BODY[-1:]
        chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
        reply = send_while_reading(stub.url, register(chunks))
        assert reply.status == 413
        assert reply.header("content-type") == "application/json"
        assert reply.json() == {"error": "request body too large", "status": 413, "limit_bytes": BODY_LIMIT}
        assert stored_jobs(stub) == before
        assert last_entry(stub)["status"] == 413

    def test_a_body_at_the_limit_is_accepted(self, stub: ServeProcess) -> None:
        padding = b" " * (BODY_LIMIT - len(REGISTER_BODY))
        body = REGISTER_BODY[:-1] + padding + REGISTER_BODY[-1:]
        assert exchange(stub.url, register([body[:600], body[600:]])).status == 200

    def test_bad_chunk_framing_is_400_with_a_journal_entry(self, stub: ServeProcess) -> None:
        before = last_entry(stub)["sequence"]
        raw = register([REGISTER_BODY])
        raw = raw.replace(b"\r\n%x\r\n" % len(REGISTER_BODY), b"\r\nzz\r\n")
        reply = exchange(stub.url, raw)
        assert reply.status == 400
        assert reply.json()["status"] == 400
        assert "malformed" in reply.json()["error"] or "framed" in reply.json()["error"]
        entry = last_entry(stub)
        assert entry["sequence"] == before + 1
        assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/jobs/register", 400)
        assert entry["matched"] is False
        assert "WARNING pactstub: POST /jobs/register 400 " in stub.log()


MALFORMED = {
    "request-line": b"GARBAGE\r\n\r\n",
    "header-line": b"GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    "content-length": b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "transfer-coding": b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "huge-header": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
    "http-version": b"GET /health HTTP/2.5\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_gets_a_4xx_json_answer_and_a_journal_entry(
    stub: ServeProcess, raw: bytes
) -> None:
    before = last_entry(stub)["sequence"]
    reply = send_while_reading(stub.url, raw)
    assert reply.status < 500
    if reply.status >= 400:
        assert reply.header("content-type") == "application/json"
        assert reply.json()["error"]
    assert last_entry(stub)["sequence"] == before + 1


def send_while_reading(url: str, raw: bytes) -> Reply:
    """Send ``raw`` from a thread while reading: a server may answer (and close) before it is all sent."""
    with connect(url) as sock:

        def send() -> None:
            with contextlib.suppress(OSError):  # answered and closed before the rest was sent
                sock.sendall(raw)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            reply = read_reply(sock)
        except ConnectionResetError:
            reply = None
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sender.join(10)
    assert reply is not None, "the server closed the connection without answering"
    return reply


def mutations(seed: int, count: int) -> list[bytes]:
    """Valid requests (a chunked registration, a GET) with random bytes changed, cut or inserted."""
    chaos = random.Random(seed)
    valid = [register([REGISTER_BODY[:7], REGISTER_BODY[7:]]), request("GET", "/runs?job_id=1", EPX_HEADERS)]
    noise = [b"\r\n", b"\n", b":", b";", b" ", b"\x00", b"\xff", b"0", b"-1", b"zz", b"chunked", b"9" * 20]
    cases = []
    for _ in range(count):
        raw = bytearray(chaos.choice(valid))
        for _ in range(chaos.randint(1, 3)):
            at = chaos.randrange(len(raw))
            action = chaos.choice(["flip", "insert", "delete"])
            if action == "flip":
                raw[at] = chaos.getrandbits(8)
            elif action == "insert":
                raw[at:at] = chaos.choice(noise)
            else:
                del raw[at : at + chaos.randint(1, 8)]
        cases.append(bytes(raw))
    return cases


def test_mutated_requests_never_get_a_5xx_and_refusals_are_json(stub: ServeProcess) -> None:
    for raw in mutations(seed=20261201, count=60):
        with connect(stub.url, timeout=0.5) as sock:  # an answer takes milliseconds
            sock.sendall(raw)
            try:
                reply = read_reply(sock)
            except (ConnectionResetError, TimeoutError):
                reply = None  # cut short: the server waits for the rest of the request
        if reply is None:
            continue
        assert reply.status < 500, raw
        if reply.status >= 400:
            assert isinstance(reply.json()["error"], str | dict), raw
    assert "Traceback" not in stub.log()
