"""A raw HTTP/1.1 client: what the server put on the wire, byte for byte.

``requests`` and ``http.client`` hide (or refuse) exactly what these tests look
at: a second ``Content-Length``, a body after a HEAD, a connection closed without
a byte written. Here a request is bytes on a socket and a reply is parsed by hand.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Reply:
    status: int
    #: header names in lower case, in the order sent, repeats kept
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def connect(url: str, timeout: float = TIMEOUT_S) -> socket.socket:
    return socket.create_connection(address(url), timeout=timeout)


def request(
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    *,
    chunks: list[bytes] | None = None,
) -> bytes:
    """The bytes of one request; ``chunks`` are sent as ``Transfer-Encoding: chunked``."""
    lines = [f"{method} {target} HTTP/1.1", "Host: stub.test"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if chunks is not None:
        lines.append("Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
    else:
        payload = body or b""
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def read_reply(sock: socket.socket, *, head: bool = False) -> Reply | None:
    """One reply from ``sock``, or None if the server closed it without writing anything."""
    stream = sock.makefile("rb")
    try:
        status_line = stream.readline()
        if not status_line:
            return None
        status = int(status_line.split()[1])
        headers: list[tuple[str, str]] = []
        while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        reply = Reply(status, headers, b"")
        if head or status < 200 or status in (204, 304):
            return reply
        if reply.header("transfer-encoding") == "chunked":
            return Reply(status, headers, _dechunk(stream))
        length = reply.header("content-length")
        body = stream.read(int(length)) if length is not None else stream.read()
        return Reply(status, headers, body)
    finally:
        stream.close()


def _dechunk(stream: Any) -> bytes:
    body = b""
    while size := int(stream.readline().split(b";")[0], 16):
        body += stream.read(size)
        stream.readline()
    stream.readline()
    return body


def exchange(url: str, raw: bytes, *, head: bool = False) -> Reply:
    """Send ``raw`` on a new connection and read the reply (which must come)."""
    with connect(url) as sock:
        sock.sendall(raw)
        reply = read_reply(sock, head=head)
    assert reply is not None, f"the server closed the connection without answering {raw[:60]!r}"
    return reply


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server has closed ``sock`` with nothing (more) written."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
