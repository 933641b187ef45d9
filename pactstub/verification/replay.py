"""An interaction's request as bytes on the wire, and the provider's answer back.

Only the standard library's :mod:`http.client` is used, one connection per
request, so what is sent is exactly what the pact says: header lines as
written (a v4 list of values becomes repeated lines), the query from the
model's parameter map (v1 pacts: the query string as written), and the body
in the form its kind calls for (JSON serialised, text and XML as they are,
binary bytes as they are).
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from pactstub.errors import ConfigError, ProviderUnreachableError
from pactstub.model import Body, Generators, HttpRequest, ReceivedResponse
from pactstub.render.generators import GeneratorContext, apply_to_body, apply_to_headers, generate

#: characters kept as they are in a path (everything else is percent-encoded)
PATH_SAFE = "/:@!$&'()*+,;=~"
#: a v1 query string is sent as written; only characters illegal in a URL are escaped
RAW_QUERY_SAFE = "%&=:@!$'()*+,;/?~"
#: a name or value of the query map (``&``, ``=``, ``+`` and ``#`` are escaped)
QUERY_COMPONENT_SAFE = "!$'()*,;:@/?~"
JSON_TYPE = "application/json"


class ReplayError(Exception):
    """One request failed after connecting (timeout, broken response, bad header value)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go: scheme, host, port, and a path prefix (or fixed path)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    query: str
    #: what the URL is, for messages: "the provider", "the provider state URL"
    role: str = "the provider"

    @classmethod
    def parse(cls, url: str, what: str = "--provider-base-url", role: str = "the provider") -> Target:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{what}: {url!r} is not an http:// or https:// URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise ConfigError(f"{what}: {url!r} has an invalid port") from error
        return cls(url.strip(), parts.scheme, parts.hostname, port, parts.path, parts.query, role)

    def under(self, path: str) -> str:
        """``path`` below this target's path prefix (``http://h/api`` + ``/runs`` -> ``/api/runs``)."""
        return self.path.rstrip("/") + path if self.path not in ("", "/") else path


@dataclass(frozen=True, slots=True)
class WireRequest:
    """A request ready to send: method, request target (path and query), headers, body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def build_request(
    request: HttpRequest,
    ctx: GeneratorContext,
    target: Target,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> WireRequest:
    """The pact's request example with its generators applied, for ``target``."""
    generators = request.generators
    path = request.path
    if generators.path is not None:
        path = str(generate(generators.path, path, ctx))
    wire_target = quote(target.under(path), safe=PATH_SAFE)
    query = _query_string(request, generators, ctx)
    if query:
        wire_target += "?" + query
    headers = apply_to_headers(request.headers or {}, generators, ctx)
    replaced = {name.lower() for name, _ in extra_headers}
    headers = [(name, value) for name, value in headers if name.lower() not in replaced]
    headers.extend(extra_headers)
    body = _body_bytes(request.body, generators, ctx)
    if body is not None and request.body is not None and not _has(headers, "content-type"):
        content_type = request.body.content_type or (JSON_TYPE if request.body.kind == "json" else None)
        if content_type:
            headers.append(("Content-Type", content_type))
    return WireRequest(request.method, wire_target, tuple(headers), body)


def _query_string(request: HttpRequest, generators: Generators, ctx: GeneratorContext) -> str:
    if request.exact_query is not None and not generators.query:
        return quote(request.exact_query, safe=RAW_QUERY_SAFE)
    parts: list[str] = []
    for name, values in (request.query or {}).items():
        generator = generators.query.get(name)
        encoded = quote(name, safe=QUERY_COMPONENT_SAFE)
        for example in values:
            value = str(generate(generator, example, ctx)) if generator is not None else example
            parts.append(encoded if value is None else f"{encoded}={quote(value, safe=QUERY_COMPONENT_SAFE)}")
    return "&".join(parts)


def _body_bytes(body: Body | None, generators: Generators, ctx: GeneratorContext) -> bytes | None:
    if body is None or (body.kind == "json" and body.value is None):
        return None
    if body.kind == "json":
        return json.dumps(apply_to_body(body.value, generators, ctx), ensure_ascii=False).encode("utf-8")
    return body.to_bytes()


def _has(headers: Iterable[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


# --------------------------------------------------------------------------- sending


def send(target: Target, request: WireRequest, timeout: float) -> ReceivedResponse:
    """Send one request on a fresh connection and read the whole response.

    Raises :class:`ProviderUnreachableError` when no connection can be made,
    :class:`ReplayError` for anything that goes wrong after that.
    """
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        try:
            connection.connect()
        except OSError as error:
            raise ProviderUnreachableError(
                f"cannot reach {target.role} at {target.url}: {_reason(error)}"
            ) from error
        try:
            connection.putrequest(
                request.method,
                request.target,
                skip_host=request.header("host") is not None,
                skip_accept_encoding=True,
            )
            for name, value in request.headers:
                connection.putheader(name, value)
            if request.body is not None and request.header("content-length") is None:
                connection.putheader("Content-Length", str(len(request.body)))
            connection.endheaders(request.body)
            response = connection.getresponse()
            body = response.read()
        except TimeoutError as error:
            raise ReplayError(f"no response within {timeout:g}s") from error
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise ReplayError(f"request failed: {_reason(error)}") from error
        return ReceivedResponse(response.status, tuple(response.getheaders()), body)
    finally:
        connection.close()


def post_json(target: Target, document: Mapping[str, Any], timeout: float) -> ReceivedResponse:
    """POST a JSON document to exactly ``target`` (its path and query as given)."""
    path = quote(target.path or "/", safe=PATH_SAFE + "%") + (f"?{target.query}" if target.query else "")
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return send(target, WireRequest("POST", path, (("Content-Type", JSON_TYPE),), body), timeout)


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror or error})"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
