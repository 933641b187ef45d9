"""The WSGI boundary: a request's environ to plain values, a response back to WSGI.

No pact logic here. What a server hands over is read defensively (the body up to a
limit whatever the transfer encoding, the path decoded as UTF-8, the ``Host`` checked),
and what goes out is framed by us alone: hop-by-hop and framing headers a pact (or a
template) carries are dropped, ``Content-Length`` is ours, and HEAD, 1xx, 204 and 304
answers carry no body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from werkzeug.wsgi import get_input_stream

from pactstub.model import ReceivedRequest
from pactstub.render.response import JSON_TYPE, RenderedResponse
from pactstub.wire import parse_query_string

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "BadRequest",
    "BodyTooLarge",
    "base_url",
    "decoded_path",
    "json_response",
    "received",
    "send",
]

#: Headers about one connection or the framing of one message: the server's business, not a pact's.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
     "content-length"}
)  # fmt: skip
#: A Host header: a name or an IPv4/IPv6 address, and maybe a port.
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d{1,5})?$")


class BadRequest(Exception):
    """The request cannot be read as HTTP says it should be (answered 400, with the reason)."""


class BodyTooLarge(Exception):
    """The body is over the limit (answered 413)."""


def decoded_path(environ: WSGIEnvironment) -> str:
    """The request path as text (WSGI servers hand it over as latin-1 decoded bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        path = raw
    return path if path.startswith("/") else "/" + path


def received(environ: WSGIEnvironment, path: str, limit: int) -> ReceivedRequest:
    """The request as plain values; :class:`BodyTooLarge` above ``limit`` bytes of body.

    The body is read up to one byte past the limit whatever the request declares, so a
    chunked body (no ``Content-Length``) is held to the limit too, and never cut short.
    """
    # Without a length and not chunked (``wsgi.input_terminated``), there is no body to wait for.
    stream = get_input_stream(environ, max_content_length=None)
    declared = environ.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    raw_query = environ.get("QUERY_STRING", "")
    headers = [(_header_name(key), value) for key, value in environ.items() if _is_header(key)]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((_header_name(key), environ[key]))
    return ReceivedRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=path,
        query=parse_query_string(raw_query),
        query_string=raw_query,
        headers=tuple(headers),
        body=body,
    )


def _is_header(key: str) -> bool:
    # Some servers copy the whole OS environment into environ: HTTP_PROXY there is no header.
    return key.startswith("HTTP_") and key not in ("HTTP_PROXY", "HTTPS_PROXY")


@cache
def _header_name(environ_key: str) -> str:
    """``HTTP_OFFLINE_TOKEN`` -> ``Offline-Token`` (WSGI keeps neither case nor dashes)."""
    return environ_key.removeprefix("HTTP_").replace("_", "-").title()


def base_url(environ: WSGIEnvironment, public_url: str | None) -> str:
    """The stub's own base URL for the URLs it hands out: the configured one, else as the client reached it.

    Raises :class:`BadRequest` for a ``Host`` header that is not a host name or address.
    ``X-Forwarded-*`` is applied before this, by werkzeug's ``ProxyFix``, only when the
    proxies in front are trusted (``trusted_proxies``).
    """
    if public_url is not None:
        return public_url.rstrip("/")
    host = environ.get("HTTP_HOST")
    if host is None:
        host = environ.get("SERVER_NAME", "localhost")
        port = str(environ.get("SERVER_PORT", ""))
        if port and port not in ("80", "443"):
            host = f"{host}:{port}"
    elif not _HOST.match(host):
        raise BadRequest(f"invalid Host header {host!r}")
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"


def json_response(document: Any, status: int, headers: Iterable[tuple[str, str]] = ()) -> RenderedResponse:
    """A JSON answer of the stub's own (errors, explanations, admin)."""
    body = json.dumps(document, ensure_ascii=False, default=str).encode("utf-8", "replace")
    return RenderedResponse(status, [("Content-Type", JSON_TYPE), *headers], body)


def send(
    environ: WSGIEnvironment,
    start_response: StartResponse,
    answer: RenderedResponse,
    extra: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Start the WSGI response: our framing, whatever headers the answer carries."""
    headers = [(name, value) for name, value in answer.headers if name.lower() not in HOP_BY_HOP]
    headers.extend(extra)
    body = answer.body
    if answer.status < 200 or answer.status in (204, 304):
        body = b""
    else:
        headers.append(("Content-Length", str(len(body))))
    if environ.get("REQUEST_METHOD", "").upper() == "HEAD":
        body = b""
    start_response(status_line(answer.status), headers)
    return [body]


@cache
def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
