"""The stub's own endpoints under ``/_pactstub/``: interactions, journal, state, records, clock, faults.

Kept apart from the pact routes so no contract can shadow them, and so a test suite can
look into and reset the stub over plain HTTP. They reach the app only through
:class:`AdminApp`, the few things of :class:`~pactstub.app.StubApp` they need.

On a shared sandbox they are guarded: with an admin token every call needs
``Authorization: Bearer TOKEN`` (401 otherwise); whether or not there is one, a call
that changes state and comes from a web page of another site (``Origin`` or
``Sec-Fetch-Site`` says so) is refused with 403; no answer carries CORS headers, so no
other site's script can read one.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pactstub.config import Settings
from pactstub.contract import Contract, FailedReload
from pactstub.errors import ConfigError, StoreError, StoreUnavailable
from pactstub.faults import FaultTable
from pactstub.journal import Journal
from pactstub.state.documents import DEFAULT_SESSION, check_session
from pactstub.state.store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["AdminApp", "AdminError", "handle_admin", "json_body", "reply", "session_of"]

JSON = "application/json"
#: Methods that only read.
SAFE = frozenset({"GET", "HEAD"})


class AdminApp(Protocol):
    """What the admin endpoints use of the app."""

    settings: Settings
    journal: Journal
    faults: FaultTable
    failed_reload: FailedReload | None

    @property
    def store(self) -> Store: ...
    @property
    def contract(self) -> Contract: ...
    def reset(self, collection: str | None = None, session: str | None = None) -> None: ...


class AdminError(Exception):
    """A refused admin call: its status and message."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


Endpoint = Callable[[AdminApp, Request], Response]


def reply(document: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False, indent=1, default=str), status=status, content_type=JSON
    )


def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object (400 for anything else)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise AdminError(400, "the body must be a JSON object")
        return {}
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise AdminError(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise AdminError(400, f"the body must be a JSON object, not {type(document).__name__}")
    return document


def session_of(app: AdminApp, request: Request, *, default: str | None = DEFAULT_SESSION) -> str | None:
    """The session a call is about: the ``session`` parameter, else the session header, else ``default``."""
    name = request.args.get("session") or request.headers.get(app.settings.session_header)
    if name is None:
        return default
    try:
        return check_session(name)
    except StoreError as error:
        raise AdminError(400, str(error)) from None


def _routes() -> tuple[Map, dict[str, Endpoint]]:
    from pactstub.admin import clock, faults, journal, records, state

    endpoints: dict[str, Endpoint] = {}
    rules: list[Rule] = []
    for module in (state, journal, records, clock, faults):
        for path, methods, endpoint in module.ROUTES:
            name = f"{module.__name__}.{endpoint.__name__}"
            endpoints[name] = endpoint
            rules.append(Rule(f"/_pactstub/{path}", methods=methods, endpoint=name))
    return Map(rules, strict_slashes=False), endpoints


_MAP, _ENDPOINTS = _routes()


def _guard(app: AdminApp, request: Request) -> None:
    token = app.settings.admin_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise AdminError(401, "the admin endpoints need Authorization: Bearer <admin token>")
    if request.method.upper() not in SAFE and _cross_site(request):
        raise AdminError(403, "a state-changing admin call from another site's page is refused")


def _cross_site(request: Request) -> bool:
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    return urlsplit(origin).netloc.lower() != request.host.lower()


def handle_admin(app: AdminApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer a request to ``/_pactstub/...``."""
    request = Request(environ)
    response = _answer(app, request)
    if request.method.upper() == "HEAD":
        response.data = b""
    return response(environ, start_response)


def _answer(app: AdminApp, request: Request) -> Response:
    try:
        _guard(app, request)
        endpoint, arguments = _MAP.bind_to_environ(request.environ).match()
        return _ENDPOINTS[str(endpoint)](app, request, **arguments)
    except AdminError as error:
        response = reply({"error": str(error), **error.extra}, error.status)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="pactstub admin"'
        return response
    except MethodNotAllowed as error:
        allowed = sorted(error.valid_methods or [])
        response = reply(
            {"error": f"{request.method} not allowed for {request.path}", "allowed": allowed}, 405
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    except NotFound:
        known = sorted({f"{rule.rule}" for rule in _MAP.iter_rules()})
        return reply({"error": f"unknown admin endpoint {request.path}", "endpoints": known}, 404)
    except HTTPException as error:
        return reply({"error": error.description}, error.code or 400)
    except StoreUnavailable:
        response = reply({"error": "the store is unavailable", "retry_after": 1}, 503)
        response.headers["Retry-After"] = "1"
        return response
    except (StoreError, ConfigError) as error:
        return reply({"error": str(error)}, 400)
