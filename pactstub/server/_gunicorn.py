"""Several worker processes: gunicorn's arbiter, with waitress inside each worker.

gunicorn is the process manager only: it forks the workers onto one shared
listening socket, restarts one that dies or stops answering its heartbeat, and
stops them gracefully on SIGTERM. Each worker serves with the same waitress
server as a single process does (:mod:`pactstub.server._waitress`), so it keeps
waitress's whole-request buffering: slow clients cannot take a worker's threads.

With TLS the workers are gunicorn's own threaded workers (waitress has no TLS),
with the stub's JSON refusals; gunicorn's threaded worker defers connections that
send nothing, but one that trickles bytes holds a thread until the timeout.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.http.errors import (
    ConfigurationProblem,
    ExpectationFailed,
    ForbiddenProxyRequest,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
)
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import ThreadWorker

from pactstub.errors import ConnectionDropped
from pactstub.server._waitress import WaitressServer
from pactstub.server.config import Lifespan, ServerConfig, url_of
from pactstub.server.transport import Refusal, Report

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Seconds a stopping worker has to finish the requests under way.
GRACEFUL_S = 5
#: Seconds without a heartbeat after which the arbiter replaces a worker.
HEARTBEAT_TIMEOUT_S = 30
#: Seconds between heartbeats of a worker.
BEAT_S = 1.0
#: gunicorn's parse errors that are the client's, with the status each deserves (400 otherwise).
CLIENT_STATUS: dict[type[Exception], int] = {
    LimitRequestLine: 414,
    LimitRequestHeaders: 431,
    ExpectationFailed: 417,
    ForbiddenProxyRequest: 403,
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What each worker needs besides the app: the limits, where refusals go, what runs beside it."""

    config: ServerConfig
    report: Report
    lifespan: Lifespan


class WaitressWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker that serves with waitress on the arbiter's sockets."""

    def run(self) -> None:
        plan: _Plan = self.app.plan
        sockets = [listener.sock for listener in self.sockets]
        server = WaitressServer(self.wsgi, sockets, plan.config, plan.report)
        with plan.lifespan():
            server.serve(tick=self._beat)
            server.finish(GRACEFUL_S, tick=self.notify)

    _last_beat = 0.0

    def _beat(self) -> bool:
        """Tell the arbiter this worker is alive (once a second: it touches a file); False to stop."""
        now = time.monotonic()
        if now - self._last_beat >= BEAT_S:
            self._last_beat = now
            self.notify()
            return bool(self.alive) and self.ppid == os.getppid()
        return bool(self.alive)


class TlsWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker (TLS), with the stub's refusals and dropped connections."""

    def run(self) -> None:
        with self.app.plan.lifespan():
            super().run()

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        if isinstance(exc, ConnectionDropped | ssl.SSLError):
            return  # nothing is written: a dropped connection, or a TLS handshake that failed
        app_fault = (InvalidResponseHeader, InvalidResponseHeaderName, ConfigurationProblem)
        if not isinstance(exc, ParseException) or isinstance(exc, app_fault):
            super().handle_error(req, client, addr, exc)
            return
        status = next((s for kind, s in CLIENT_STATUS.items() if isinstance(exc, kind)), 400)
        method, path = getattr(req, "method", None), getattr(req, "path", None)
        refusal = Refusal.of(status, f"malformed request: {exc}", method, path)
        refusal.report_to(self.app.plan.report)
        with contextlib.suppress(OSError):  # the client may be gone already
            client.sendall(refusal.http_response())


class StubLogger(Logger):  # type: ignore[misc]
    """gunicorn's own lines (a worker booted, exited) in the stub's log format (text or JSON)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        shared = next((h.formatter for h in logging.getLogger().handlers if h.formatter is not None), None)
        if shared is not None:
            for handler in self.error_log.handlers:
                handler.setFormatter(shared)


class _Arbiter(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: WSGIApplication, fd: int, plan: _Plan, on_ready: Callable[[str], None]) -> None:
        self.wsgi_app, self.fd, self.plan, self.on_ready = app, fd, plan, on_ready
        super().__init__()

    def load_config(self) -> None:
        config = self.plan.config
        settings: dict[str, Any] = {
            "bind": [f"fd://{self.fd}"],
            "workers": config.workers,
            "worker_class": TlsWorker if config.tls else WaitressWorker,
            "threads": config.threads,
            "worker_connections": config.max_connections,
            "keepalive": math.ceil(config.timeout),
            "timeout": HEARTBEAT_TIMEOUT_S,
            "graceful_timeout": GRACEFUL_S,
            "loglevel": config.log_level.lower(),
            "accesslog": None,
            "logger_class": StubLogger,
            "when_ready": lambda arbiter: self.on_ready(url_of(arbiter.LISTENERS[0].sock, config.scheme)),
        }
        if config.tls is not None:
            settings |= {"certfile": str(config.tls.cert), "keyfile": str(config.tls.key)}
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25.1 would open a control socket at one path in $HOME for
            # every server, so two stubs (or parallel test runs) would collide there.
            settings["control_socket_disable"] = True
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> WSGIApplication:
        return self.wsgi_app


def serve(
    app: WSGIApplication,
    sock: socket.socket,
    config: ServerConfig,
    report: Report,
    on_ready: Callable[[str], None],
    lifespan: Lifespan,
) -> None:
    """Run ``config.workers`` workers on ``sock`` until SIGTERM or SIGINT (gunicorn exits the process).

    Each worker gets its own copy of ``app`` when it forks: ``app`` must not have
    opened connections (pactstub's store opens on first use, in the worker), and
    enters its own ``lifespan()`` (the arbiter serves nothing and enters none).
    """
    _Arbiter(app, sock.detach(), _Plan(config, report, lifespan), on_ready).run()
