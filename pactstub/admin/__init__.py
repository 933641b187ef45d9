"""The stub's own endpoints under ``/_pactstub/``: interactions, journal, state, records, clock,
faults, metrics, and the dashboard (``/_pactstub/``, a page for people).

Kept apart from the pact routes so no contract can shadow them, and so a test suite can
look into and reset the stub over plain HTTP. They reach the app only through
:class:`AdminApp`, the few things of :class:`~pactstub.app.StubApp` they need.

On a shared sandbox they are guarded: with an admin token every call needs
``Authorization: Bearer TOKEN`` (401 otherwise); whether or not there is one, a call
that changes state and comes from a web page of another site (``Origin`` or
``Sec-Fetch-Site`` says so) is refused with 403; no answer carries CORS headers, so no
other site's script can read one. The dashboard's page and its script are the exception
to the token: they hold no data, so a browser (which cannot send a bearer token when it
opens a page) can load them, and the page asks for the token to fetch the rest.
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pactstub import jsontext
from pactstub.config import Settings
from pactstub.contract import Contract, FailedReload
from pactstub.errors import ConfigError, JsonLimitError, RequestBodyError, StoreError, StoreUnavailable
from pactstub.faults import FaultTable
from pactstub.framing import read_body
from pactstub.journal import Journal
from pactstub.metrics import Metrics
from pactstub.state.documents import DEFAULT_SESSION, check_session
from pactstub.state.store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "AdminApp",
    "AdminError",
    "Routes",
    "handle_admin",
    "json_body",
    "may_see",
    "reply",
    "session_of",
    "whole_number",
]

JSON = "application/json"
#: Methods that only read.
SAFE = frozenset({"GET", "HEAD"})


class AdminApp(Protocol):
    """What the admin endpoints use of the app."""

    settings: Settings
    journal: Journal
    faults: FaultTable
    failed_reload: FailedReload | None
    metrics: Metrics

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


#: An endpoint takes the app, the request and the path's arguments.
Endpoint = Callable[..., Response]


def reply(document: Any, status: int = 200) -> Response:
    return Response(jsontext.dumps(document, indent=1), status=status, content_type=JSON)


def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object (400 for anything else)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise AdminError(400, "the body must be a JSON object")
        return {}
    try:
        document = jsontext.loads(raw.decode("utf-8"))
    except JsonLimitError as error:
        raise AdminError(400, f"the body is refused: {error}") from None
    except ValueError:
        raise AdminError(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise AdminError(400, f"the body must be a JSON object, not {type(document).__name__}")
    return document


def whole_number(request: Request, name: str) -> int | None:
    """The query parameter ``name`` as a whole number, ``None`` when absent; 400 for anything else."""
    text = request.args.get(name)
    if text is None:
        return None
    if not text.isdigit():
        raise AdminError(400, f"{name} must be a whole number, not {text!r}")
    return int(text)


def session_of(app: AdminApp, request: Request, *, default: str | None = DEFAULT_SESSION) -> str | None:
    """The session a call is about: the ``session`` parameter, else the session header, else ``default``."""
    name = request.args.get("session") or request.headers.get(app.settings.session_header)
    if name is None:
        return default
    try:
        return check_session(name)
    except StoreError as error:
        raise AdminError(400, str(error)) from None


#: ``(path, methods, endpoint)`` of each endpoint of a module.
Routes = Sequence[tuple[str, list[str], Endpoint]]


def _routes() -> tuple[Map, dict[str, Endpoint], frozenset[str]]:
    """The URL map, the endpoints by name, and the names of those served without the token."""
    from pactstub.admin import clock, dashboard, faults, journal, metrics, records, state

    endpoints: dict[str, Endpoint] = {}
    rules: list[Rule] = []
    public: set[str] = set()

    def add(prefix: str, routes: Routes, *, token: bool = True) -> None:
        for path, methods, endpoint in routes:
            name = f"{endpoint.__module__}.{endpoint.__name__}"
            endpoints[name] = endpoint
            rules.append(Rule(f"{prefix}{path}", methods=methods, endpoint=name))
            if not token:
                public.add(name)

    for module in (state, journal, records, clock, faults, metrics, dashboard):
        add("/_pactstub/", module.ROUTES)
    add("/_pactstub/", dashboard.PUBLIC, token=False)
    add("", metrics.TOP_LEVEL)
    return Map(rules, strict_slashes=False), endpoints, frozenset(public)


def _guard(app: AdminApp, request: Request) -> None:
    token = app.settings.admin_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise AdminError(401, "the admin endpoints need Authorization: Bearer <admin token>")
    if request.method.upper() not in SAFE and _cross_site(request):
        raise AdminError(403, "a state-changing admin call from another site's page is refused")


def may_see(app: AdminApp, request: Request) -> bool:
    """Whether the request may read the admin endpoints (it carries the token, or none is needed)."""
    try:
        _guard(app, request)
    except AdminError:
        return False
    return True


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
    try:  # the body limit holds here as on the pact's routes, whatever the framing
        body = read_body(environ, app.settings.max_body_size)
    except RequestBodyError as error:
        return reply({"error": str(error)}, error.status)(environ, start_response)
    environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    request = Request(environ)
    response = _answer(app, request)
    if request.method.upper() == "HEAD":
        response.data = b""
    return response(environ, start_response)


def _answer(app: AdminApp, request: Request) -> Response:
    try:
        try:
            endpoint, arguments = _MAP.bind_to_environ(request.environ).match()
        except HTTPException:
            _guard(app, request)  # no list of endpoints, nor 405, without the token
            raise
        if endpoint not in _PUBLIC:
            _guard(app, request)
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


# Last: the endpoint modules import what is above.
_MAP, _ENDPOINTS, _PUBLIC = _routes()
