"""``StubServer``: the stub on a real socket, in a background thread of the test process.

The server is werkzeug's threaded server, as ``pactstub serve --server werkzeug``
uses, with the same handler: JSON refusals of unreadable requests, and a dropped
connection when the app raises ``ConnectionDropped``. What a test needs on top is a
clean life cycle: ``stop()`` ends the accept loop, lets every open connection
finish its current request and close, joins the threads, releases the port and
closes the store, and anything that went wrong in those threads is raised in the
caller's thread instead of printed from another one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pactstub.app import StubApp, create_app
from pactstub.errors import ConnectionDropped, StoreError
from pactstub.journal import JournalEntry
from pactstub.loading import PactSource
from pactstub.server._werkzeug import dropping, handler_class
from pactstub.server.transport import Report

__all__ = ["StubServer", "describe_unmatched"]

#: A test server keeps every request of a test, not only the last 200.
TEST_JOURNAL_SIZE = 10_000
#: How long ``stop()`` waits for the server's threads before giving up on them.
STOP_TIMEOUT_S = 5.0
#: How often the accept loop looks for a shutdown request; bounds ``stop()``'s latency.
POLL_INTERVAL_S = 0.05
#: The problems of a request that no interaction matched (the others: one answered, and failed).
_NO_MATCH = frozenset({"mismatch", "not-found", "method-not-allowed"})
#: How long a connection may wait for its client before it is closed.
CONNECTION_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class _Crash:
    """An exception that escaped the WSGI app (a bug, not a mismatch)."""

    method: str
    path: str
    error: BaseException

    def explain(self) -> str:
        return f"{self.method} {self.path}: the stub failed with {type(self.error).__name__}: {self.error}"


class _Connections:
    """The open client connections and the threads serving them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[threading.Thread, socket.socket] = {}

    def add(self, connection: socket.socket) -> None:
        with self._lock:
            self._open[threading.current_thread()] = connection

    def remove(self) -> None:
        with self._lock:
            self._open.pop(threading.current_thread(), None)

    def close(self, timeout: float) -> None:
        """End every connection after its current request, and wait for its thread."""
        with self._lock:
            open_now = list(self._open.items())
        for _thread, connection in open_now:
            # Shutting down the read side wakes a handler waiting for the next
            # request on a keep-alive connection (it reads EOF and closes), and
            # lets one in the middle of a request write its response first.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
        deadline = time.monotonic() + timeout
        for thread, _connection in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))


def _handler_for(connections: _Connections, report: Report) -> type[WSGIRequestHandler]:
    """The stub's request handler (JSON refusals, dropped connections), tracking connections."""

    class Handler(handler_class(report, CONNECTION_TIMEOUT_S)):  # type: ignore[misc]
        def setup(self) -> None:
            super().setup()
            connections.add(self.connection)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                connections.remove()

    return Handler


class StubServer:
    """The stub for ``pacts`` served on a real socket for the length of a test.

    ``options`` are :func:`pactstub.create_app`'s (``templates=``, ``database_url=``,
    ``strict_headers=``, ...); the defaults keep everything in memory. Use it as a
    context manager, or call :meth:`start` and :meth:`stop`::

        with StubServer(["pacts/epx-epistemix.json"]) as stub:
            requests.get(stub.url_for("/runs?job_id=1"), headers=...)
            stub.assert_called("a request to get runs by job_id")

    Leaving the ``with`` block stops the server and, unless ``check_on_exit=False``,
    raises :class:`AssertionError` if any request matched no interaction.
    """

    def __init__(
        self,
        pacts: Iterable[PactSource],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        check_on_exit: bool = True,
        **options: Any,
    ) -> None:
        options.setdefault("journal_size", TEST_JOURNAL_SIZE)
        self.host = host
        self.check_on_exit = check_on_exit
        self._port = port
        self._options = options
        #: the WSGI app being served; its pacts are loaded (and checked) here, not in ``start()``
        self.app: StubApp = create_app(pacts, **options)
        self._app_closed = False
        self._final: list[JournalEntry] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._connections = _Connections()
        self._crashes: list[_Crash] = []
        self._url: str | None = None

    # ------------------------------------------------------------- life cycle

    def start(self) -> Self:
        """Bind the port and serve in a background thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError(f"the stub is already running at {self.url}")
        if self._app_closed:
            # A stopped server's store is closed: start again on a fresh app, same pacts.
            self.app = create_app(self.app.pacts, **self._options)
            self._app_closed = False
        try:
            server = make_server(
                self.host,
                self._port,
                dropping(self._wsgi),
                threaded=True,
                request_handler=_handler_for(self._connections, self.app.transport_error),
            )
        except SystemExit:
            # werkzeug prints why (e.g. the port is in use) and exits; a test wants an exception.
            raise OSError(f"pactstub: cannot listen on {self.host}:{self._port} (see stderr)") from None
        self._server = server
        self._thread_error = None
        host = str(server.server_address[0])
        host = f"[{host}]" if ":" in host else host
        self._url = f"http://{host}:{server.server_port}"
        self._thread = threading.Thread(
            target=self._serve, args=(server,), name=f"pactstub {self._url}", daemon=True
        )
        self._thread.start()
        return self

    def _serve(self, server: BaseWSGIServer) -> None:
        try:
            server.serve_forever(poll_interval=POLL_INTERVAL_S)
        except BaseException as error:  # surfaced by stop(), in the test's thread
            self._thread_error = error

    def stop(self) -> None:
        """Stop serving, finish open connections, release the port and close the store.

        Safe to call twice. Raises :class:`RuntimeError` if the server thread failed.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        try:
            if thread.is_alive():  # shutdown() would wait forever for a loop that is gone
                server.shutdown()
            thread.join(STOP_TIMEOUT_S)
            self._connections.close(STOP_TIMEOUT_S)
        finally:
            server.server_close()
            self._server = self._thread = None
            try:  # what a test may still ask after the stop; the in-memory store goes with the app
                self._final = self.app.journal.entries()
            except StoreError:
                self._final = []
            self.app.close()
            self._app_closed = True
        if self._thread_error is not None:
            error, self._thread_error = self._thread_error, None
            raise RuntimeError(f"the pactstub server thread at {self._url} failed: {error!r}") from error

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if not self.check_on_exit:
            return
        problems = self._problems()
        if not problems:
            return
        if exc is None:
            raise AssertionError(problems)
        # Do not hide the test's own failure; say what the stub saw alongside it.
        exc.add_note(problems)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except ConnectionDropped:
            raise  # asked for: the handler closes the connection, nothing to report
        except Exception as error:
            self._crashes.append(
                _Crash(environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "?"), error)
            )
            raise

    # --------------------------------------------------------------- addresses

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._url is None:
            raise RuntimeError("the stub is not started: use `with StubServer(...) as stub:` or call start()")
        return self._url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def url_for(self, path: str) -> str:
        """The full URL of ``path`` (which may carry a query string) on this server."""
        return f"{self.url}/{path.lstrip('/')}"

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget every request and restart counters and records (the store)."""
        self._crashes.clear()
        if self._app_closed:
            self._final = []
        else:
            self.app.reset()

    @property
    def requests(self) -> list[JournalEntry]:
        """Every request since the start or the last :meth:`reset`, oldest first.

        Each entry says which interaction answered it (``.interaction``, ``.pact``)
        or, when none did, why (``.problem``, ``.closest``, ``.explain()``).
        """
        if self._app_closed:
            return list(self._final)
        return self.app.journal.entries()

    @property
    def unmatched(self) -> list[JournalEntry]:
        """The requests no interaction answered."""
        return [entry for entry in self.requests if not entry.matched]

    def check(self) -> None:
        """Raise :class:`AssertionError` describing every request no interaction answered."""
        problems = self._problems()
        if problems:
            raise AssertionError(problems)

    def _problems(self) -> str:
        return describe_unmatched(self.unmatched, self._crashes)

    def calls(self, description: str, *, pact: str | None = None) -> list[JournalEntry]:
        """The requests the interaction ``description`` answered."""
        return [
            entry
            for entry in self.requests
            if entry.interaction == description and (pact is None or entry.pact == pact)
        ]

    def assert_called(
        self, description: str, times: int | None = None, *, pact: str | None = None
    ) -> list[JournalEntry]:
        """Assert the interaction ``description`` answered at least once, or exactly ``times`` times,
        and that none of its answers failed (a template that failed answered 500, not as the pact says).

        ``pact`` (a pact file's stem) picks among interactions of several pacts with
        the same description. Returns the requests it answered.
        """
        served = {route.interaction.description for route in self.app.index.routes}
        if description not in served:
            names = "\n".join(f"  {name!r}" for name in sorted(served))
            raise AssertionError(f"no interaction is described {description!r}; the stub serves:\n{names}")
        calls = self.calls(description, pact=pact)
        failed = [entry for entry in calls if not entry.matched]
        if failed:
            head = f"{len(failed)} of the {len(calls)} calls of {description!r} failed:"
            accounts = [_numbered(n, e.explain(), f" (answered {e.status})") for n, e in enumerate(failed, 1)]
            raise AssertionError("\n".join([head, *accounts]))
        if (times is None and calls) or len(calls) == times:
            return calls
        wanted = "at least once" if times is None else _times(times)
        got = f"called {_times(len(calls))}" if calls else "not called"
        seen = "\n".join(f"  {_summary(entry)}" for entry in self.requests) or "  (none)"
        raise AssertionError(
            f"expected {description!r} to be called {wanted}, it was {got}; the requests were:\n{seen}"
        )

    def __repr__(self) -> str:
        where = self._url if self.running else "stopped"
        return f"<StubServer {where} pacts={[p.name for p in self.app.pacts]}>"


def describe_unmatched(entries: Iterable[JournalEntry], crashes: Iterable[_Crash] = ()) -> str:
    """A readable account of requests no interaction answered; ``""`` when there are none."""
    entries, crashes = list(entries), list(crashes)
    if not entries and not crashes:
        return ""
    blocks: list[str] = []
    if entries:
        noun = "request" if len(entries) == 1 else "requests"
        missed = all(entry.problem in _NO_MATCH for entry in entries)
        verb = "was" if len(entries) == 1 else "were"
        what = "matched no interaction" if missed else f"{verb} not answered as the pact says"
        blocks.append(f"{len(entries)} {noun} to the pact stub {what}:")
        blocks.extend(
            _numbered(n, entry.explain(), f" (answered {entry.status})") for n, entry in enumerate(entries, 1)
        )
    if crashes:
        blocks.append("the pact stub failed on:")
        blocks.extend(_numbered(n, crash.explain()) for n, crash in enumerate(crashes, 1))
    return "\n".join(blocks)


def _numbered(number: int, text: str, suffix: str = "") -> str:
    first, *rest = text.splitlines()
    return "\n".join([f"{number}. {first}{suffix}", *(f"  {line}" for line in rest)])


def _summary(entry: JournalEntry) -> str:
    target = f"{entry.method} {entry.path}" + (f"?{entry.query}" if entry.query else "")
    if entry.matched:
        answered_by = repr(entry.interaction) if entry.interaction else "built-in"
        return f"{target} -> {answered_by} ({entry.status})"
    return f"{target} -> no match ({entry.status})"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")
