"""The WSGI app: request -> route -> match -> render -> response, one journal entry each.

This module wires the parts together and decides what HTTP says: reading the request
(:mod:`pactstub.web`), answering it from the contract (:mod:`pactstub.answer`),
faults and delays (:mod:`pactstub.faults`), the journal (:mod:`pactstub.journal`), the
metrics (:mod:`pactstub.metrics`), and the admin endpoints (:mod:`pactstub.admin`, with
``/metrics`` and the dashboard), which reach the app only through the :class:`StubApp`
methods they need.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.proxy_fix import ProxyFix

from pactstub import chance, web
from pactstub.answer import Answer, Answerer, Asked, unavailable
from pactstub.config import Settings
from pactstub.contract import Contract, FailedReload
from pactstub.cors import Cors
from pactstub.errors import ConnectionDropped, RequestBodyError, StoreError, StoreUnavailable
from pactstub.faults import FaultTable, parse_option
from pactstub.framing import error_body
from pactstub.journal import Journal, JournalEntry, RequestRecord, masked_candidates
from pactstub.loading import PactSource, load_with_origins
from pactstub.logs import REQUEST_FIELD
from pactstub.metrics import Metrics
from pactstub.model import Pact, ReceivedRequest
from pactstub.render.response import JSON_TYPE, RenderedResponse
from pactstub.routing import RouteIndex
from pactstub.sources.origin import Origin
from pactstub.state.documents import DEFAULT_SESSION, check_session
from pactstub.state.engine import DatabaseSettings
from pactstub.state.journal import JournalTable
from pactstub.state.store import Store
from pactstub.state.unit import UnitOfWork

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from pactstub.render.templates import TemplateSet

log = logging.getLogger("pactstub")

ADMIN_PREFIX = "/_pactstub/"
#: Prometheus's usual path; served there unless an interaction uses it (then under ``ADMIN_PREFIX``).
METRICS_PATH = "/metrics"


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class StubApp:
    """A WSGI application serving the interactions of some pacts."""

    def __init__(
        self, pacts: Sequence[Pact], settings: Settings, sources: Sequence[Origin] | None = None
    ) -> None:
        self.settings = settings
        self.rng = chance.generator(settings.seed)
        self.cors = Cors(settings.cors_origins)
        self._store: Store | None = None
        self._journal_table: JournalTable | None = None
        self._store_lock = threading.Lock()
        self._answerer = Answerer(
            Contract.build(pacts, settings, sources),
            no_match_status=settings.no_match_status,
            strict_headers=settings.strict_headers,
            state_header=settings.provider_state_header,
            unit=self.unit,
            rng=self.rng,
            health=self.health,
        )
        self.journal = Journal(lambda: self.journal_table)
        #: the last reload refused, until one succeeds (``--watch``)
        self.failed_reload: FailedReload | None = None
        self.metrics = Metrics(self._journal_totals)
        served = {route.interaction.description for route in self.index.routes}
        self.faults = FaultTable(
            parse_option(settings.delays, settings.faults, served), self._stored_faults, self.rng
        )
        self._state_key = _environ_key(settings.provider_state_header)
        self._session_key = _environ_key(settings.session_header)
        self._masked = frozenset(name.lower() for name in settings.masked_headers)
        n = settings.trusted_proxies
        self._wsgi: Any = (
            ProxyFix(self._handle, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n) if n else self._handle
        )

    # ----------------------------------------------------------------- the contract

    @property
    def contract(self) -> Contract:
        return self._answerer.contract

    @property
    def pacts(self) -> list[Pact]:
        return list(self.contract.pacts)

    @property
    def index(self) -> RouteIndex:
        return self.contract.index

    @property
    def templates(self) -> TemplateSet:
        return self.contract.templates

    def replace_contract(self, pacts: Sequence[Pact], sources: Sequence[Origin] | None = None) -> Contract:
        """Serve ``pacts`` (and the templates as they are now) from the next request on.

        The new contract is built completely first: a bad pact or template raises, and
        the old contract keeps serving. The store and everything in it carry on.
        """
        contract = Contract.build(pacts, self.settings, sources)
        with self._store_lock:  # a store opening now takes the new lifecycles, or is given them here
            self._answerer.contract = contract
            if self._store is not None:
                self._store.set_lifecycles(contract.lifecycles)
        self.failed_reload = None
        return contract

    # ----------------------------------------------------------------- the store

    @property
    def store(self) -> Store:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    settings = self.settings
                    store = Store(
                        DatabaseSettings(
                            url=settings.database_url,
                            pool_size=settings.pool_size,
                            max_overflow=settings.max_overflow,
                            pool_timeout=settings.pool_timeout,
                            timeout=settings.database_timeout,
                        ),
                        lifecycles=self.contract.lifecycles,
                        seed=settings.seed,
                    )
                    store.time_connections(self.metrics.store_work)
                    self._store = store
        return self._store

    @property
    def journal_table(self) -> JournalTable:
        if self._journal_table is None:
            self._journal_table = JournalTable(
                self.store, self.settings.journal_size, self.settings.journal_bytes
            )
        return self._journal_table

    def _journal_totals(self) -> tuple[int, int]:
        """Entries and bytes of the journal, this process's queued entries written first."""
        self.journal.flush()
        return self.journal_table.totals()

    def unit(self, session: str = DEFAULT_SESSION) -> UnitOfWork:
        return self.store.unit(session)

    def _stored_faults(self) -> list[dict[str, Any]]:
        try:
            return self.store.faults()
        except StoreError:
            return []  # no store, no stored faults; those set at start still apply

    def reset(self, collection: str | None = None, session: str | None = None) -> None:
        """Clear records and restart counters: of one collection, one session, or everything.

        Without a collection the journal, clocks and faults of the session (or of all) go too.
        """
        if collection is None:
            self.journal.clear(session)
        self.store.reset(collection, session=session)
        self.faults.forget()

    def close(self) -> None:
        self.journal.close()
        if self._store is not None:
            self._store.close()

    def health(self) -> RenderedResponse:
        """``/health``: 200 while the store answers, 503 when it does not."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        try:
            self.store.ping()
        except StoreUnavailable as error:
            log.error("health: the store is unavailable: %s", error.__cause__ or error)
            self.metrics.store_answered(False)
            body = {"status": "unhealthy", "store": "unavailable", "timestamp": now}
            return web.json_response(body, 503, [("Retry-After", "1")])
        self.metrics.store_answered(True)
        return web.json_response({"status": "healthy", "store": "ok", "timestamp": now}, 200)

    # ----------------------------------------------------------------- WSGI

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        result: Iterable[bytes] = self._wsgi(environ, start_response)
        return result

    def _handle(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request; plain WSGI on the hot path, werkzeug only for admin pages."""
        started = time.perf_counter()
        path = web.decoded_path(environ)
        if path.startswith(ADMIN_PREFIX) or (path == METRICS_PATH and path in self.contract.builtin):
            from pactstub.admin import handle_admin

            return handle_admin(self, environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        cors = self.cors.headers(origin)
        try:
            session = self._session(environ)
            received = web.received(environ, path, self.settings.max_body_size)
            base_url = web.base_url(environ, self.settings.public_url)
        except RequestBodyError as error:
            limit = {"limit_bytes": error.limit} if error.limit is not None else {}
            body = error_body(error.status, error.message, **limit)
            response = RenderedResponse(error.status, [("Content-Type", JSON_TYPE)], body)
            return self._refuse(
                environ, start_response, path, started, response, str(error), cors, "transport"
            )
        except (web.BadRequest, StoreError) as error:
            response = web.json_response({"error": "bad request", "message": str(error)}, 400)
            return self._refuse(environ, start_response, path, started, response, str(error), cors)
        if received.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            preflight = self.cors.preflight(
                origin, self.index.methods_for(path), environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
            )
            if preflight is not None:
                return web.send(environ, start_response, preflight)
        answering = time.perf_counter()
        answer = self._answerer.answer(received, Asked(session, environ.get(self._state_key), base_url))
        rendered = time.perf_counter() - answering
        answer, fault = self._with_fault(answer, session)
        entry = self._entry(received, session, started, answer, fault)
        self._record(entry, rendered)
        if fault is not None and fault.get("drop"):
            raise ConnectionDropped(f"{received.method} {path}: the connection was dropped on purpose")
        return web.send(environ, start_response, answer.response, cors)

    def _session(self, environ: WSGIEnvironment) -> str:
        name = environ.get(self._session_key)
        return DEFAULT_SESSION if name is None else check_session(name.strip())

    def _with_fault(self, answer: Answer, session: str) -> tuple[Answer, dict[str, Any] | None]:
        """Apply the delay and fault set for the interaction (or ``*``), if any."""
        if (answer.route is None and answer.problem is None) or answer.problem == "store-unavailable":
            return answer, None  # the stub's own endpoints (and a store outage) are never slowed or failed
        description = answer.route.interaction.description if answer.route else None
        try:
            fault = self.faults.for_request(session, description)
        except StoreUnavailable as error:
            return Answer(unavailable(error), answer.route, "store-unavailable"), None
        if fault is None:
            return answer, None
        wait, happens = self.faults.decide(fault)
        if wait:
            time.sleep(wait)
        shown: dict[str, Any] = {"delay_ms": round(wait * 1000, 3)} if wait else {}
        if not happens:
            return answer, shown or None
        if fault.drop:
            return answer, {**shown, "drop": True}
        assert fault.status is not None
        body = {"error": "injected fault", "status": fault.status, "interaction": description}
        return Answer(web.json_response(body, fault.status), answer.route), {**shown, "status": fault.status}

    def _refuse(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        path: str,
        started: float,
        response: RenderedResponse,
        message: str,
        cors: list[tuple[str, str]],
        problem: str = "bad-request",
    ) -> Iterable[bytes]:
        """A request that could not be read: answered, journaled and logged all the same."""
        received = ReceivedRequest(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=path,
            query_string=environ.get("QUERY_STRING", ""),
            headers=tuple(
                (k[5:].replace("_", "-").title(), v) for k, v in environ.items() if k.startswith("HTTP_")
            ),
        )
        answer = Answer(response, problem=problem, detail={"message": message})
        self._record(self._entry(received, DEFAULT_SESSION, started, answer, None))
        return web.send(environ, start_response, response, cors)

    def transport_error(self, method: str, path: str, status: int, message: str) -> None:
        """Record a request refused for how it was sent, not for what it asked.

        The HTTP server calls this for what it refuses before the app runs (bad chunked
        framing, an oversized body, headers too large). Such a request is in the journal
        and the log like any other.
        """
        answer = Answer(RenderedResponse(status, [], b""), problem="transport", detail={"message": message})
        self._record(
            self._entry(
                ReceivedRequest(method=method, path=path), DEFAULT_SESSION, time.perf_counter(), answer, None
            )
        )

    def _record(self, entry: JournalEntry, rendered: float | None = None) -> None:
        """Every request, answered or refused, goes to the journal, the log and the metrics."""
        self.journal.add(entry)
        _log(entry)
        self.metrics.request(entry, rendered)

    def _entry(
        self,
        received: ReceivedRequest,
        session: str,
        started: float,
        answer: Answer,
        fault: dict[str, Any] | None,
    ) -> JournalEntry:
        route = answer.route
        return JournalEntry(
            timestamp=time.time(),
            method=received.method,
            path=received.path,
            query=received.query_string or "",
            status=answer.response.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            session=session,
            interaction=route.interaction.description if route else None,
            pact=route.interaction.pact_name if route else None,
            problem=answer.problem,
            closest=masked_candidates(answer.closest, received.headers, self._masked),
            detail=answer.detail,
            fault=fault,
            request=RequestRecord.of(
                received.headers,
                received.body,
                masked=self._masked,
                body_limit=self.settings.journal_body_limit,
            ),
        )


def create_app(pacts: Iterable[PactSource], **options: Any) -> StubApp:
    """A WSGI app serving ``pacts`` (paths, pact dicts or loaded :class:`Pact` values).

    ``options`` are the fields of :class:`pactstub.config.Settings`, the same
    as the ``pactstub serve`` flags. Raises :class:`PactLoadError` for bad pacts.
    """
    settings = Settings.from_options(options)
    loaded = load_with_origins(pacts)
    return StubApp([item.pact for item in loaded], settings, [item.origin for item in loaded])


def _log(entry: JournalEntry) -> None:
    """One line per request: INFO when answered as the pact says, WARNING when not.

    The entry goes along for ``--log-format json`` (:mod:`pactstub.logs`), which writes its fields.
    """
    target = entry.path + (f"?{entry.query}" if entry.query else "")
    extra = {REQUEST_FIELD: entry}
    if entry.matched:
        if not log.isEnabledFor(logging.INFO):
            return
        chosen = f"-> {entry.pact}: {entry.interaction!r}" if entry.interaction else "-> built-in"
        fault = f" (fault: {entry.fault})" if entry.fault else ""
        log.info(
            "%s %s %d %s%s %.1fms",
            entry.method, target, entry.status, chosen, fault, entry.duration_ms, extra=extra,
        )  # fmt: skip
        return
    if log.isEnabledFor(logging.WARNING):
        why = entry.explain().replace("\n", ";")
        log.warning(
            "%s %s %d %s %.1fms", entry.method, target, entry.status, why, entry.duration_ms, extra=extra
        )


__all__ = ["ADMIN_PREFIX", "METRICS_PATH", "StubApp", "create_app"]
