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
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from pactstub import __version__
from pactstub.config import Settings
from pactstub.cors import Cors
from pactstub.errors import TemplateError
from pactstub.journal import Candidate, Journal, JournalEntry
from pactstub.listing import describe
from pactstub.loading import PactSource, load_pacts
from pactstub.loading.parse import parse_query_string
from pactstub.matching.http import match_request
from pactstub.model import Interaction, Pact, ReceivedRequest
from pactstub.render.context import RequestView, TemplateContext
from pactstub.render.generators import GeneratorContext
from pactstub.render.response import JSON_TYPE, RenderedResponse, render_example
from pactstub.render.templates import TemplateSet
from pactstub.routing import Route, RouteIndex

if TYPE_CHECKING:
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
        return any(re.search(pattern, state.name) for state in interaction.provider_states)

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

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = self.settings.max_body_size
        response = self.dispatch(request)
        return response(environ, start_response)

    # ---------------------------------------------------------------- dispatch

    def dispatch(self, request: Request) -> Response:
        started = time.perf_counter()
        if request.path.startswith(ADMIN_PREFIX):
            from pactstub.admin import handle_admin

            return handle_admin(self, request)
        try:
            received = _received(request)
        except RequestEntityTooLarge:
            return _json_response(
                {"error": "request body too large", "limit_bytes": self.settings.max_body_size}, 413
            )
        preflight = self.cors.preflight(request, self.index)
        if preflight is not None:
            return preflight
        response, entry = self._answer(request, received, started)
        self.journal.add(entry)
        _log(entry)
        self.cors.decorate(request, response)
        return response

    def _answer(
        self, request: Request, received: ReceivedRequest, started: float
    ) -> tuple[Response, JournalEntry]:
        routes = self._by_state(request, self.index.candidates(received.method, received.path))
        near: list[tuple[Route, list[Any]]] = []
        for route in routes:
            mismatches = match_request(
                route.interaction.request, received, strict_headers=self.settings.strict_headers
            )
            if not mismatches:
                response = self._respond(route, request, received)
                return response, self._entry(received, started, response.status_code, route=route)
            near.append((route, mismatches))
        if near:
            return self._no_match(request, received, started, near)
        if received.path in self._builtin and received.method.upper() in ("GET", "HEAD"):
            response = self._builtin_response(received.path)
            return response, self._entry(received, started, response.status_code)
        allowed = self.index.methods_for(received.path)
        if allowed:
            body = {
                "error": f"method {received.method} not allowed for {received.path}",
                "allowed": sorted(allowed),
            }
            response = _json_response(body, 405)
            response.headers["Allow"] = ", ".join(sorted(allowed | {"OPTIONS"}))
            return response, self._entry(received, started, 405, problem="method-not-allowed")
        body = {"error": f"no interaction has the path {received.path}", "method": received.method}
        return _json_response(body, 404), self._entry(received, started, 404, problem="not-found")

    def _by_state(self, request: Request, routes: list[Route]) -> list[Route]:
        wanted = request.headers.get(self.settings.provider_state_header)
        if not wanted:
            return routes
        return [r for r in routes if any(s.name == wanted for s in r.interaction.provider_states)]

    def _respond(self, route: Route, request: Request, received: ReceivedRequest) -> Response:
        interaction = route.interaction
        template = self.templates.for_interaction(interaction)
        static = self._static.get(route.order)
        if static is None:
            ctx = GeneratorContext(state_params=_state_params(interaction), base_url=request.host_url)
            body_override = None
            if template is not None:
                context = self._template_context(request, received, interaction)
                body_override = lambda: template.render(context)  # noqa: E731
            try:
                static = render_example(interaction.response, ctx, body_override)
            except TemplateError as error:
                log.error("%s", error)
                return _json_response({"error": "template failed", **error.to_json()}, 500)
            if template is None and not interaction.response.generators:
                self._static[route.order] = static
        return Response(static.body, status=static.status, headers=static.headers)

    def _template_context(
        self, request: Request, received: ReceivedRequest, interaction: Interaction | None
    ) -> TemplateContext:
        return TemplateContext(
            request=RequestView.of(received),
            interaction=interaction,
            base_url=request.host_url.rstrip("/"),
            store=lambda: self.store,
            state_params=_state_params(interaction) if interaction else {},
        )

    def _no_match(
        self, request: Request, received: ReceivedRequest, started: float, near: list[tuple[Route, list[Any]]]
    ) -> tuple[Response, JournalEntry]:
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
            "mismatches": [m.to_json() for m in closest[0].mismatches] if closest else [],
        }
        nearest = closest[0].pact if closest else near[0][0].interaction.pact_name
        template = self.templates.for_no_match(nearest)
        if template is None:
            return _json_response(explanation, status), entry
        context = self._template_context(request, received, None)
        try:
            body = template.render(_with_no_match(context, explanation))
        except TemplateError as error:
            log.error("%s", error)
            failed = {"error": "template failed", **error.to_json(), "no_match": explanation}
            return _json_response(failed, 500), replace(entry, status=500)
        return Response(body, status=status, content_type=JSON_TYPE), entry

    def _builtin_response(self, path: str) -> Response:
        if path == "/health":
            return _json_response({"status": "healthy", "timestamp": _now()}, 200)
        return _json_response(
            {
                "name": "pactstub",
                "version": __version__,
                "pacts": [
                    {"name": p.name, "consumer": p.consumer, "provider": p.provider, "file": p.source}
                    for p in self.pacts
                ],
                "interactions": len(self.index.routes),
                "routes": [f"{r['method']} {r['path']}" for r in describe(self.index, self.templates)],
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
            time=_now(),
            method=received.method,
            path=received.path,
            query="&".join(
                f"{k}={v}" if v is not None else k for k, vs in received.query.items() for v in vs
            ),
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


def _received(request: Request) -> ReceivedRequest:
    body = request.get_data(cache=True)
    environ = request.environ
    raw_query = environ.get("QUERY_STRING", "")
    if isinstance(raw_query, bytes):
        raw_query = raw_query.decode("latin-1")
    return ReceivedRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=request.path,
        query=parse_query_string(raw_query),
        query_string=raw_query,
        headers=tuple(request.headers.items()),
        body=body,
        has_body=bool(body) or request.content_length is not None,
    )


def _state_params(interaction: Interaction) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for state in interaction.provider_states:
        params.update(state.params)
    return params


def _with_no_match(context: TemplateContext, explanation: dict[str, Any]) -> TemplateContext:
    return replace(context, no_match=explanation)


def _json_response(document: Any, status: int) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), status=status, content_type=JSON_TYPE)


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
