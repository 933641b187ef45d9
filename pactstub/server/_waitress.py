"""The default server: waitress, which reads every request whole before a thread runs it.

waitress parses requests in one event loop and hands a thread only a complete
request, so clients that trickle their headers or body (slowloris) cost a socket,
never a thread; connections stay alive between requests; chunked bodies are
decoded and bounded in the loop. On top of waitress, this module adds what a stub
needs: its refusals answered as JSON and reported to the app's journal, a read
timeout for a request that never completes, :class:`ConnectionDropped` honoured by
closing the connection silently, and a stop that finishes the requests under way.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import BadRequest, Error, RequestEntityTooLarge, RequestHeaderFieldsTooLarge

from pactstub.errors import ConnectionDropped
from pactstub.server.config import ServerConfig
from pactstub.server.transport import UNKNOWN, Refusal, Report

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Longest wait of the event loop for activity; bounds how soon a stop is noticed.
POLL_S = 0.2
#: A chunked body is bounded in the event loop at twice the limit plus this much, to
#: leave room for its framing; the app then enforces the exact limit on the decoded body.
FRAMING_ALLOWANCE = 64 * 1024
#: How often idle connections and overdue requests are looked for (seconds, a whole number).
SWEEP_S = 1


class RequestTimeout(BadRequest):  # type: ignore[misc]
    code = 408
    reason = "Request Timeout"


class _Task(WSGITask):  # type: ignore[misc]
    def service(self) -> None:
        try:
            super().service()
        except ConnectionDropped:
            # Nothing was written: closing now is all the client will see.
            self.close_on_finish = True


class _ErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's refusals (bad framing, too large, ...) as JSON, reported to the app."""

    def execute(self) -> None:
        request = cast(HTTPRequestParser, self.request)
        error = cast(Error, request.error)
        server = cast(_Server, self.channel.server)
        method, path = _method_and_path(request)
        if not hasattr(request, "path"):  # waitress names it in a log line if the client has gone
            request.path = UNKNOWN
        limit = server.body_limit if isinstance(error, RequestEntityTooLarge) else None
        refusal = Refusal.of(error.code, _message(error), method, path, limit)
        refusal.report_to(server.report)  # before the answer: a client may read the journal next
        body = refusal.body()
        self.status = f"{refusal.status} {refusal.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _method_and_path(request: HTTPRequestParser) -> tuple[str | None, str | None]:
    """From the parsed request line, or the raw one of a request whose headers never ended."""
    command, path = getattr(request, "command", None), getattr(request, "path", None)
    if command and path:  # both, or the request line could not be parsed whole
        return command, path
    words = bytes(request.header_plus).split(b"\r\n", 1)[0].split()
    if len(words) != 3:
        return None, None
    return words[0].decode("latin-1"), words[1].decode("latin-1").split("?", 1)[0]


def _message(error: Error) -> str:
    if isinstance(error, RequestEntityTooLarge):
        return "request body too large"
    if isinstance(error, RequestHeaderFieldsTooLarge):
        return "request headers too large"
    if isinstance(error, RequestTimeout):
        return "the request did not arrive whole in time"
    if error.code == 501:
        return "unsupported Transfer-Encoding: only chunked is understood"
    return f"malformed request: {error.body}"


class _Channel(HTTPChannel):  # type: ignore[misc]
    """A connection; it remembers when its current request began to arrive."""

    task_class = _Task
    error_task_class = _ErrorTask
    request: HTTPRequestParser | None
    requests: list[HTTPRequestParser]
    _arriving: HTTPRequestParser | None = None
    _arriving_since = 0.0

    def received(self, data: bytes) -> bool:
        handled: bool = super().received(data)
        if self.request is not self._arriving:
            self._arriving = self.request
            self._arriving_since = time.monotonic()
        return handled

    def sweep(self, timeout: float) -> None:
        """Close the connection idle for ``timeout``; answer 408 to a request begun that long ago.

        A connection with a request under way (``requests``) is left alone: it is being answered.
        """
        if self.requests:
            return
        if self.request is None:
            if self.last_activity < time.time() - timeout:
                self.will_close = True
        elif time.monotonic() - self._arriving_since > timeout:
            self.refuse_overdue()

    def refuse_overdue(self) -> None:
        """Answer the incomplete request with a 408 (in a request thread, like any answer)."""
        with self.requests_lock:
            request = self.request
            if request is None or self.requests:
                return
            request.error = RequestTimeout("request not complete")
            request.completed = True
            self.requests = [request]
            self.request = None
        self.server.add_task(self)


class _Server(TcpWSGIServer):  # type: ignore[misc]
    """A waitress server on a socket bound elsewhere, with the stub's hooks."""

    channel_class = _Channel
    report: Report
    body_limit: int
    #: seconds a connection may idle, and a request may take to arrive
    read_timeout: float

    def maintenance(self, now: float) -> None:
        """Instead of waitress's own (whole seconds, idle only): idle and read timeouts."""
        for channel in list(self.active_channels.values()):
            channel.sweep(self.read_timeout)


def adjustments(config: ServerConfig) -> Adjustments:
    return Adjustments(
        threads=config.threads,
        connection_limit=config.max_connections,
        channel_timeout=math.ceil(config.timeout),  # not used: see _Server.maintenance
        cleanup_interval=SWEEP_S,  # how often it runs (whole seconds)
        max_request_body_size=2 * config.max_body_size + FRAMING_ALLOWANCE,
        asyncore_use_poll=True,  # select() cannot watch more than 1,024 sockets
        clear_untrusted_proxy_headers=False,  # a pact may match X-Forwarded-* headers
        log_socket_errors=False,  # a client that goes away is not an error of the stub
        ident="pactstub",
        server_name=config.host,
        expose_tracebacks=False,
    )


class WaitressServer:
    """waitress on ``sockets``, in the calling thread, until :meth:`stop` (or a signal) is called."""

    def __init__(
        self, app: WSGIApplication, sockets: list[socket.socket], config: ServerConfig, report: Report
    ) -> None:
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a busy stub is not a problem
        adj = adjustments(config)
        self._map: dict[int, wasyncore.dispatcher] = {}
        self._tasks = ThreadedTaskDispatcher()
        self._tasks.set_thread_count(config.threads)
        self._stop = threading.Event()
        self._listeners: list[_Server] = []
        for sock in sockets:
            server = _Server(
                app, map=self._map, _sock=sock, dispatcher=self._tasks, adj=adj, bind_socket=False
            )
            server.report, server.body_limit = report, config.max_body_size
            server.read_timeout = config.timeout
            self._listeners.append(server)

    def serve(self, tick: Callable[[], bool] = lambda: True) -> None:
        """Serve until stopped; ``tick`` runs between polls and may end serving by returning False."""
        while not self._stop.is_set() and tick():
            wasyncore.loop(timeout=POLL_S, map=self._map, use_poll=True, count=1)

    def stop(self) -> None:
        """Ask :meth:`serve` to return within one poll (safe from a signal handler: it takes no lock)."""
        self._stop.set()

    def finish(self, grace: float, tick: Callable[[], object] = lambda: None) -> None:
        """Stop accepting, let the requests under way finish within ``grace`` seconds, close all."""
        for server in self._listeners:
            server.accepting = False
            wasyncore.dispatcher.close(server)  # the listener only; the trigger stays for the threads
        deadline = time.monotonic() + grace
        while self._close_idle() and time.monotonic() < deadline:
            tick()
            wasyncore.loop(timeout=0.05, map=self._map, use_poll=True, count=1)
        self._tasks.shutdown(timeout=1)
        wasyncore.close_all(self._map)

    def _close_idle(self) -> bool:
        """Close connections with nothing under way; True while some are still busy."""
        busy = False
        for server in self._listeners:
            for channel in list(server.active_channels.values()):
                if channel.connected and (channel.requests or channel.total_outbufs_len):
                    busy = True
                else:  # idle, or its client has gone: nothing more to deliver
                    channel.handle_close()
        return busy
