"""The WSGI boundary: a request's environ to plain values, a response back to WSGI.

No pact logic here. What a server hands over is read defensively (the body within its
limit whatever the transfer encoding, see :mod:`pactstub.framing`; the path decoded as
UTF-8; the ``Host`` checked), and what goes out is framed by us alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pactstub import jsontext
from pactstub.framing import frame, read_body
from pactstub.model import ReceivedRequest
from pactstub.render.response import JSON_TYPE, RenderedResponse
from pactstub.wire import parse_query_string

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "BadRequest",
    "base_url",
    "decoded_path",
    "json_response",
    "received",
    "send",
]

#: A Host header: a name or an IPv4/IPv6 address, and maybe a port.
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d{1,5})?$")


class BadRequest(Exception):
    """The request cannot be read as HTTP says it should be (answered 400, with the reason)."""


def decoded_path(environ: WSGIEnvironment) -> str:
    """The request path as text (WSGI servers hand it over as latin-1 decoded bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        path = raw
    return path if path.startswith("/") else "/" + path


def received(environ: WSGIEnvironment, path: str, limit: int) -> ReceivedRequest:
    """The request as plain values; :class:`~pactstub.errors.RequestBodyError` for a body it cannot take."""
    body = read_body(environ, limit)
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
    """A JSON answer of the stub's own (errors, explanations, admin); always valid JSON, see
    :mod:`pactstub.jsontext`."""
    body = jsontext.dumps_bytes(document)
    return RenderedResponse(status, [("Content-Type", JSON_TYPE), *headers], body)


def send(
    environ: WSGIEnvironment,
    start_response: StartResponse,
    answer: RenderedResponse,
    extra: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Start the WSGI response, framed by us (:func:`pactstub.framing.frame`)."""
    method = environ.get("REQUEST_METHOD", "GET")
    headers, body = frame(method, answer.status, [*answer.headers, *extra], answer.body)
    start_response(status_line(answer.status), headers)
    return [body]


@cache
def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
