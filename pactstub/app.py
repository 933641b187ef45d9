"""The WSGI app: request -> route -> match -> render -> response.

This module only converts between werkzeug and pactstub's plain values and
decides the HTTP status; matching, rendering and state live in their own
packages. Every request ends as one journal entry and one log line.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_host, get_input_stream

from pactstub import __version__
from pactstub.config import Settings
from pactstub.cors import Cors
from pactstub.errors import TemplateError
from pactstub.journal import Candidate, Journal, JournalEntry
from pactstub.listing import describe
from pactstub.loading import PactSource, load_pacts
from pactstub.loading.parse import parse_query_string
from pactstub.matching.http import match_request, matches
from pactstub.matching.prepared import prepare
from pactstub.matching.report import Mismatch
from pactstub.model import Interaction, Pact, ReceivedRequest
from pactstub.render.context import RequestView, TemplateContext
from pactstub.render.generators import GeneratorContext
from pactstub.render.response import JSON_TYPE, RenderedResponse, render_example
from pactstub.render.templates import TemplateSet
from pactstub.routing import Route, RouteIndex

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from pactstub.state.store import Store

log = logging.getLogger("pactstub")

ADMIN_PREFIX = "/_pactstub/"
#: how many near misses a no-match answer names
CLOSEST_LIMIT = 3


class StubApp:
    """A WSGI application serving the interactions of some pacts."""

    def __init__(self, pacts: Sequence[Pact], settings: Settings) -> None:
        self.pacts = list(pacts)
        self.settings = settings
        interactions = [i for pact in self.pacts for i in pact.interactions if self._served(i)]
        self.index = RouteIndex.build(interactions)
        self.templates = TemplateSet.load(settings.templates, self.pacts)
        self.journal = Journal(settings.journal_size)
        self.cors = Cors(settings.cors_origins)
        self._store: Store | None = None
        self._store_lock = threading.Lock()
        self._static: dict[int, RenderedResponse] = {}
        self._state_key = "HTTP_" + settings.provider_state_header.upper().replace("-", "_")
        self._builtin = {
            path
            for path in ("/", "/health")
            if settings.builtin_endpoints and not self.index.methods_for(path)
        }

    # ----------------------------------------------------------------- wiring

    def _served(self, interaction: Interaction) -> bool:
        pattern = self.settings.provider_state
        if pattern is None:
            return True
        states = interaction.provider_states
        if self.settings.empty_provider_state and all(not state.name for state in states):
            return True
        return any(re.search(pattern, state.name) for state in states)

    @property
    def store(self) -> Store:
        """The counter and record store, opened (and migrated) on first use."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    from pactstub.state.store import DatabaseSettings, Store

                    self._store = Store(
                        DatabaseSettings(
                            url=self.settings.database_url,
                            pool_size=self.settings.pool_size,
                            max_overflow=self.settings.max_overflow,
                            pool_timeout=self.settings.pool_timeout,
                        )
                    )
        return self._store

    def reset(self, collection: str | None = None) -> None:
        """Clear records and restart counters (of one collection, or all and the journal).

        A store that was never opened has nothing to forget and is not opened for it.
        """
        if self._store is not None:
            self._store.reset(collection)
        if collection is None:
            self.journal.clear()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request; plain WSGI on the hot path, werkzeug only for admin pages."""
        started = time.perf_counter()
        path = _path(environ)
        if path.startswith(ADMIN_PREFIX):
            from pactstub.admin import handle_admin

            return handle_admin(self, Request(environ))(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        try:
            received = _received(environ, path, self.settings.max_body_size)
        except RequestEntityTooLarge:
            limit = self.settings.max_body_size
            answer = _json({"error": "request body too large", "limit_bytes": limit}, 413)
            return _send(start_response, answer, self.cors.headers(origin))
        if received.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            preflight = self.cors.preflight(
                origin,
                self.index.methods_for(path),
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            )
            if preflight is not None:
                return _send(start_response, preflight, [])
        answer, entry = self._answer(environ, received, started)
        self.journal.add(entry)
        _log(entry)
        return _send(start_response, answer, self.cors.headers(origin))

    # ---------------------------------------------------------------- answers

    def _answer(
        self, environ: WSGIEnvironment, received: ReceivedRequest, started: float
    ) -> tuple[RenderedResponse, JournalEntry]:
        routes = self.index.candidates(received.method, received.path)
        wanted_state = environ.get(self._state_key)
        prepared = prepare(received)
        strict = self.settings.strict_headers
        for route in routes:
            if _in_state(route, wanted_state) and matches(
                route.interaction.request, prepared, strict_headers=strict
            ):
                answer = self._respond(route, environ, received)
                return answer, self._entry(received, started, answer.status, route=route)
        # nothing matched: only now work out every reason, for the explanation
        near = [
            (
                route,
                self._state_mismatches(route, wanted_state)
                + match_request(route.interaction.request, prepared, strict_headers=strict),
            )
            for route in routes
        ]
        if near:
            return self._no_match(environ, received, started, near)
        if received.path in self._builtin and received.method.upper() in ("GET", "HEAD"):
            answer = self._builtin_response(received.path)
            return answer, self._entry(received, started, answer.status)
        allowed = self.index.methods_for(received.path)
        if allowed:
            body = {
                "error": f"method {received.method} not allowed for {received.path}",
                "allowed": sorted(allowed),
            }
            answer = _json(body, 405)
            answer.headers.append(("Allow", ", ".join(sorted(allowed | {"OPTIONS"}))))
            return answer, self._entry(received, started, 405, problem="method-not-allowed")
        body = {"error": f"no interaction has the path {received.path}", "method": received.method}
        return _json(body, 404), self._entry(received, started, 404, problem="not-found")

    def _state_mismatches(self, route: Route, wanted: str | None) -> list[Mismatch]:
        """Why an interaction is out of the provider state the request asked for, if it is."""
        if _in_state(route, wanted):
            return []
        states = [state.name for state in route.interaction.provider_states]
        return [
            Mismatch(
                kind="provider-state",
                location=f"header {self.settings.provider_state_header}",
                expected=states,
                actual=wanted,
                message=f"Expected one of the provider states {states} but the request asked for {wanted!r}",
            )
        ]

    def _respond(self, route: Route, environ: WSGIEnvironment, received: ReceivedRequest) -> RenderedResponse:
        """The matched interaction's response; computed once when nothing in it varies."""
        static = self._static.get(route.order)
        if static is not None:
            return static
        interaction = route.interaction
        template = self.templates.for_interaction(interaction)
        base_url = _base_url(environ)
        ctx = GeneratorContext(state_params=_state_params(interaction), base_url=base_url)
        body_override = None
        if template is not None:
            context = self._template_context(base_url, received, interaction)
            body_override = lambda: template.render(context)  # noqa: E731
        try:
            answer = render_example(interaction.response, ctx, body_override)
        except TemplateError as error:
            log.error("%s", error)
            return _json({"error": "template failed", **error.to_json()}, 500)
        if template is None and not interaction.response.generators:
            self._static[route.order] = answer
        return answer

    def _template_context(
        self, base_url: str, received: ReceivedRequest, interaction: Interaction | None
    ) -> TemplateContext:
        return TemplateContext(
            request=RequestView.of(received),
            interaction=interaction,
            base_url=base_url,
            store=lambda: self.store,
            state_params=_state_params(interaction) if interaction else {},
        )

    def _no_match(
        self,
        environ: WSGIEnvironment,
        received: ReceivedRequest,
        started: float,
        near: list[tuple[Route, list[Mismatch]]],
    ) -> tuple[RenderedResponse, JournalEntry]:
        fewest = min(len(m) for _, m in near)
        closest = tuple(
            Candidate(
                route.interaction.label,
                route.interaction.description,
                route.interaction.pact_name,
                route.interaction.index,
                tuple(mismatches),
            )
            for route, mismatches in near
            if len(mismatches) == fewest
        )[:CLOSEST_LIMIT]
        status = self.settings.no_match_status
        entry = self._entry(received, started, status, problem="mismatch", closest=closest)
        explanation = {
            "error": "no interaction matched the request",
            "request": {"method": received.method, "path": received.path},
            "closest": [c.to_json() for c in closest],
            "mismatches": [m.to_json() for m in closest[0].mismatches],
        }
        template = self.templates.for_no_match(closest[0].pact)
        if template is None:
            return _json(explanation, status), entry
        context = replace(self._template_context(_base_url(environ), received, None), no_match=explanation)
        try:
            body = template.render(context)
        except TemplateError as error:
            log.error("%s", error)
            return _json({"error": "template failed", **error.to_json(), "no_match": explanation}, 500), entry
        return RenderedResponse(status, [("Content-Type", JSON_TYPE)], body), entry

    def _builtin_response(self, path: str) -> RenderedResponse:
        if path == "/health":
            return _json({"status": "healthy", "timestamp": _now()}, 200)
        return _json(
            {
                "name": "pactstub",
                "version": __version__,
                "pacts": [
                    {"name": p.name, "consumer": p.consumer, "provider": p.provider, "file": p.source}
                    for p in self.pacts
                ],
                "interactions": len(self.index.routes),
                "routes": sorted(
                    {f"{r['method']} {r['path']}" for r in describe(self.index, self.templates)}
                ),
            },
            200,
        )

    def _entry(
        self,
        received: ReceivedRequest,
        started: float,
        status: int,
        *,
        route: Route | None = None,
        problem: str | None = None,
        closest: tuple[Candidate, ...] = (),
    ) -> JournalEntry:
        return JournalEntry(
            sequence=self.journal.next_sequence(),
            timestamp=time.time(),
            method=received.method,
            path=received.path,
            query=received.query_string or "",
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            interaction=route.interaction.description if route else None,
            pact=route.interaction.pact_name if route else None,
            problem=problem,
            closest=closest,
        )


def create_app(pacts: Iterable[PactSource], **options: Any) -> StubApp:
    """A WSGI app serving ``pacts`` (paths, pact dicts or loaded :class:`Pact` values).

    ``options`` are the fields of :class:`pactstub.config.Settings`, the same
    as the ``pactstub serve`` flags. Raises :class:`PactLoadError` for bad pacts.
    """
    settings = Settings.from_options(options)
    return StubApp(load_pacts(pacts), settings)


def _path(environ: WSGIEnvironment) -> str:
    """The request path as text (WSGI servers hand it over as latin-1 decoded bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        path = raw
    return path if path.startswith("/") else "/" + path


def _received(environ: WSGIEnvironment, path: str, limit: int) -> ReceivedRequest:
    """The request as plain values; raises ``RequestEntityTooLarge`` above ``limit``."""
    body = get_input_stream(environ, max_content_length=limit).read()
    if len(body) > limit:
        raise RequestEntityTooLarge()
    raw_query = environ.get("QUERY_STRING", "")
    headers = [(_header_name(key), value) for key, value in environ.items() if key.startswith("HTTP_")]
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


@cache
def _header_name(environ_key: str) -> str:
    """``HTTP_OFFLINE_TOKEN`` -> ``Offline-Token`` (WSGI keeps neither case nor dashes)."""
    return environ_key.removeprefix("HTTP_").replace("_", "-").title()


def _base_url(environ: WSGIEnvironment) -> str:
    """The stub's own base URL as the client reached it, e.g. ``http://127.0.0.1:5000``."""
    return f"{environ.get('wsgi.url_scheme', 'http')}://{get_host(environ)}"


def _send(
    start_response: StartResponse, answer: RenderedResponse, extra: list[tuple[str, str]]
) -> list[bytes]:
    headers = [*answer.headers, ("Content-Length", str(len(answer.body))), *extra]
    start_response(_status_line(answer.status), headers)
    return [answer.body]


@cache
def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _in_state(route: Route, wanted: str | None) -> bool:
    """Without a state header every interaction is in; with one, those having that state."""
    return not wanted or any(state.name == wanted for state in route.interaction.provider_states)


def _state_params(interaction: Interaction) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for state in interaction.provider_states:
        params.update(state.params)
    return params


def _json(document: Any, status: int) -> RenderedResponse:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return RenderedResponse(status, [("Content-Type", JSON_TYPE)], body)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _log(entry: JournalEntry) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    target = entry.path + (f"?{entry.query}" if entry.query else "")
    if entry.matched:
        chosen = f"-> {entry.pact}: {entry.interaction!r}" if entry.interaction else "-> built-in"
        log.info("%s %s %d %s %.1fms", entry.method, target, entry.status, chosen, entry.duration_ms)
        return
    why = entry.explain().replace("\n", ";")
    log.warning("%s %s %d %s %.1fms", entry.method, target, entry.status, why, entry.duration_ms)


__all__ = ["StubApp", "create_app"]
