"""Requests a careless or hostile neighbour sends to a shared stub, written out and generated.

``HAND_WRITTEN`` are the cases of the hardening issue, one each; :func:`requests` is a
hypothesis strategy of many more: the Epistemix pact's own requests with one part
replaced by something odd (a value JSON cannot carry, nesting too deep, a header with
control characters, another content type, a query with broken escapes), and requests
made up from scratch. :func:`raw` writes one as HTTP/1.1 bytes for a real socket;
:func:`exchange` sends it and reads the answer; :func:`problems` says what is wrong with
an answer (a 5xx, a body that is not JSON). ``bench/reliability.py`` counts with them too.
"""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st

from pactstub import load_pacts
from tests.conftest import EPX_PACT, S3_PACT
from tests.server.wire import connect, read_reply

EPX_HEADERS = {
    "Offline-Token": "Bearer hostile-token",
    "Content-Type": "application/json",
    "fredcli-version": "0.4.0",
    "User-Agent": "epx_client_1.2.2",
}
NESTED_1000 = b"[" * 1000 + b"]" * 1000
NESTED_100K = b"[" * 100_000 + b"]" * 100_000


@dataclass(frozen=True)
class Hostile:
    method: str
    #: path and query, as they go on the request line
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def admin(self) -> bool:
        return self.target.startswith("/_pactstub/")


def _register(body: bytes, content_type: str | None = "application/json") -> Hostile:
    headers = {k: v for k, v in EPX_HEADERS.items() if k != "Content-Type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return Hostile("POST", "/jobs/register", headers, body)


#: The cases the issue lists, and their neighbours.
HAND_WRITTEN: dict[str, Hostile] = {
    "json-nested-1000": _register(b'{"tags": ' + NESTED_1000 + b"}"),
    "json-nested-100000": _register(NESTED_100K),
    "json-nested-undeclared": _register(NESTED_1000, content_type=None),
    # Within the limit, but the no-match template wraps it in the closest interaction's mismatches.
    "json-nested-at-the-limit": _register(b"[" * 256 + b"]" * 256),
    "json-nan": _register(b'{"tags": NaN}'),
    "json-infinity": _register(b'{"tags": ["a", Infinity]}'),
    "json-minus-infinity": _register(b'{"tags": -Infinity}'),
    "json-1e999": _register(b'{"tags": 1e999}'),
    "json-1e999-as-text": _register(b'{"tags": 1e999}', content_type="text/plain"),
    "json-huge-integer": _register(b'{"tags": ' + b"9" * 5000 + b"}"),
    "json-lone-surrogate": _register(b'{"tags": ["\\ud800"]}'),
    "json-lone-surrogate-key": _register(b'{"\\udc00": ["a"]}'),
    "json-not-utf8": _register(b'{"tags": ["\xff\xfe"]}'),
    "reset-nul-collection": Hostile("POST", "/_pactstub/reset?collection=%00"),
    "faults-nested-body": Hostile(
        "PUT", "/_pactstub/faults", {"Content-Type": "application/json"}, NESTED_1000
    ),
    "faults-nan-body": Hostile("PUT", "/_pactstub/faults", {"Content-Type": "application/json"}, b"[NaN]"),
    "records-nested-query": Hostile("GET", "/_pactstub/records/jobs?tags=" + "%5B" * 3000),
    "journal-bad-limit": Hostile("GET", "/_pactstub/requests?limit=x"),
    "journal-bad-since": Hostile("GET", "/_pactstub/requests?since=yesterday"),
    "session-control-character": Hostile(
        "GET", "/runs?job_id=1", {**EPX_HEADERS, "X-Pactstub-Session": "a\x01b"}
    ),
    "state-header-odd": Hostile(
        "GET", "/runs?job_id=1", {**EPX_HEADERS, "X-Pact-Provider-State": "\x7f\xff"}
    ),
    "host-invalid": Hostile("GET", "/health", {"Host": "attacker.example/pre-signed-url"}),
    "path-nul": Hostile("GET", "/%00"),
    "path-not-utf8": Hostile("GET", "/jobs/%ff%fe"),
    "query-broken-escapes": Hostile("GET", "/runs?job_id=%zz%ff&%00=1", EPX_HEADERS),
    "head-health": Hostile("HEAD", "/health"),
    "preflight-admin": Hostile(
        "OPTIONS", "/_pactstub/reset", {"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"}
    ),
    "cross-site-reset": Hostile("POST", "/_pactstub/reset", {"Origin": "http://evil.test"}),
    "odd-method": Hostile("BREW", "/runs", EPX_HEADERS),
    "form-as-json": Hostile(
        "POST", "/runs/retry", {**EPX_HEADERS, "Content-Type": "application/json"}, b"a=1&a"
    ),
}


# ------------------------------------------------------------------ generated


#: Literal JSON text for a value JSON cannot carry, or one that is merely unusual.
ODD_VALUES = [
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "9" * 5000, "-0", "0.1e1",
    '"\\ud800"', '"a\\udfffb"', '{"\\ud800": 1}', '"\\u0000"', '"' + "x" * 5000 + '"',
    "[" * 300 + "]" * 300, "[" * 255 + "]" * 255, '{"a": ' * 200 + "1" + "}" * 200,
    "null", "true", '""', "[]", "{}",
]  # fmt: skip
_PLACE = "@@odd@@"
HEADER_VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=20)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=latin-1", "text/plain", "application/xml",
     "application/x-www-form-urlencoded", "application/vnd.api+json", "*/*;;", "", "json"]
)  # fmt: skip
ESCAPES = st.sampled_from(["", "%00", "%ff", "%zz", "%", "+", "&", "=", "%5B", "%E2%82%AC", ";"])
ADMIN_READS = [
    "/_pactstub/requests",
    "/_pactstub/state",
    "/_pactstub/interactions",
    "/_pactstub/records/jobs",
]


@cache
def examples() -> tuple[Hostile, ...]:
    """The request of every interaction of the Epistemix pacts, as a client would send it."""
    made = []
    for pact in load_pacts([EPX_PACT, S3_PACT]):
        for interaction in pact.interactions:
            request = interaction.request
            query = "&".join(f"{k}={v}" for k, values in (request.query or {}).items() for v in values)
            headers = {name: values[0] for name, values in (request.headers or {}).items() if values}
            body = request.body.to_bytes() if request.body is not None else b""
            made.append(Hostile(request.method, request.path + (f"?{query}" if query else ""), headers, body))
    return tuple(made)


# Strategies are built once: building them per draw costs more than the requests they make.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
ODD_TEXT = st.sampled_from(ODD_VALUES) | JSON_VALUES.map(lambda value: json.dumps(value, allow_nan=True))
CHANGES = st.lists(st.sampled_from(["body", "header", "type", "query", "method", "drop"]), max_size=2)
METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "PROPFIND", "X-ODD"]
)
SEGMENTS = st.lists(st.text(st.sampled_from("az09-._~%:@!$'()*+,;=é"), max_size=6), max_size=3)
QUERIES = st.lists(st.tuples(ESCAPES, ESCAPES), max_size=3)
MADE_UP_HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "X-Pactstub-Session", "Accept"]), HEADER_VALUES
)
ODD_HEADERS = st.sampled_from(["X-Pactstub-Session", "X-Pact-Provider-State", "Host", "Offline-Token"])


@st.composite
def odd_json(draw: st.DrawFn, example: bytes = b"") -> bytes:
    """A JSON document, valid or not: the example with one value replaced, or a new one."""
    odd = draw(ODD_TEXT)
    try:
        document = json.loads(example)
    except ValueError:
        document = None
    if isinstance(document, dict) and document and draw(st.booleans()):
        document[draw(st.sampled_from(sorted(document)))] = _PLACE
        return json.dumps(document).replace(json.dumps(_PLACE), odd).encode("utf-8", "surrogatepass")
    return odd.encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw: st.DrawFn) -> Hostile:
    """An interaction's request with one or two parts changed."""
    base = draw(st.sampled_from(examples()))
    method, target, headers, body = base.method, base.target, dict(base.headers), base.body
    for change in draw(CHANGES):
        if change == "body":
            body = draw(odd_json(base.body) | st.binary(max_size=40))
        elif change == "header":
            headers[draw(ODD_HEADERS)] = draw(HEADER_VALUES)
        elif change == "type":
            headers["Content-Type"] = draw(CONTENT_TYPES)
        elif change == "query":
            target += ("&" if "?" in target else "?") + draw(ESCAPES) + "=" + draw(ESCAPES)
        elif change == "method":
            method = draw(METHODS)
        elif headers:
            headers.pop(draw(st.sampled_from(sorted(headers))))
    return Hostile(method, target, headers, body)


@st.composite
def made_up(draw: st.DrawFn) -> Hostile:
    """A request from scratch: any method, a pact, admin or unknown path, odd headers and body."""
    paths = sorted({e.target.split("?")[0] for e in examples()}) + ADMIN_READS
    path = draw(st.sampled_from(paths) | SEGMENTS.map(lambda parts: "/" + "/".join(parts)))
    query = draw(QUERIES)
    target = path + ("?" + "&".join(f"k{a}=v{b}" for a, b in query) if query else "")
    body = draw(odd_json() | st.binary(max_size=40))
    # admin paths are only read: a DELETE of the journal would start its numbering again
    method = draw(st.sampled_from(["GET", "HEAD"]) if path in ADMIN_READS else METHODS)
    return Hostile(method, target, draw(MADE_UP_HEADERS), body)


def requests() -> st.SearchStrategy[Hostile]:
    return mutated() | made_up() | st.sampled_from(list(HAND_WRITTEN.values()))


# ------------------------------------------------------------------ the wire and the answer


def raw(request: Hostile) -> bytes:
    """``request`` as HTTP/1.1 bytes, asking for the connection to be closed after it."""
    headers = {"Host": "stub.test", **request.headers, "Connection": "close"}
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(request.body))
    lines = [f"{request.method} {request.target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


def exchange(url: str, request: Hostile) -> tuple[int, str | None, bytes] | None:
    """Send ``request`` on a new connection; ``None`` when the server closes it without a word."""
    with connect(url, timeout=10) as sock:
        with contextlib.suppress(OSError):  # answered and closed before all was sent
            sock.sendall(raw(request))
        try:
            reply = read_reply(sock, head=request.method == "HEAD")
        except ConnectionResetError:
            return None
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    if reply is None:
        return None
    return reply.status, reply.header("content-type"), reply.body


def problems(status: int, content_type: str | None, body: bytes) -> list[str]:
    """What is wrong with an answer: a server error, or a JSON body that is not JSON in UTF-8."""
    found = [f"status {status}"] if status >= 500 else []
    if body and (content_type or "").startswith("application/json"):
        try:
            json.loads(body.decode("utf-8"), parse_constant=_constant)
        except (ValueError, UnicodeDecodeError) as error:
            found.append(f"the JSON body is not JSON: {error}: {body[:120]!r}")
    return found


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
