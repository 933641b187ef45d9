"""Serving the WSGI app: werkzeug's threaded server, or gunicorn for several workers.

The threaded server suits development and one process; ``--workers N`` hands
the same app to gunicorn, a production pre-fork server, so N processes share
the listening socket and the database (which is what keeps counters unique).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pactstub.app import StubApp


class QuietRequestHandler(WSGIRequestHandler):
    """The app logs one line per request itself; werkzeug's own line would be a second."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Bound:
    """A server bound to its socket, not yet serving."""

    server: BaseWSGIServer

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def host(self) -> str:
        return str(self.server.host)

    def url(self) -> str:
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def serve_until_signalled(self, on_ready: Callable[[], None] = lambda: None) -> None:
        """Serve until SIGINT or SIGTERM, then finish and release the port.

        ``on_ready`` runs once the signal handlers are in place, so a signal sent
        as soon as the server announces itself still stops it cleanly.
        """
        stop = threading.Event()

        def shut_down(signum: int, frame: FrameType | None) -> None:
            if not stop.is_set():
                stop.set()
                threading.Thread(target=self.server.shutdown, daemon=True).start()

        previous = {sig: signal.signal(sig, shut_down) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            on_ready()
            self.server.serve_forever(poll_interval=0.2)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.server.server_close()


def bind(app: StubApp, host: str, port: int) -> Bound:
    """Bind a threaded werkzeug server (port 0 picks a free port)."""
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    return Bound(server)


def serve_with_gunicorn(
    app_factory: Callable[[], Any],
    host: str,
    port: int,
    workers: int,
    on_ready: Callable[[str], None],
    log_level: str = "info",
) -> None:
    """Run ``workers`` gunicorn worker processes, each with a few threads."""
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("loglevel", log_level.lower())
            self.cfg.set("accesslog", None)
            self.cfg.set("graceful_timeout", 5)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25.1 would open a control socket at one path in $HOME for
                # every server, so two stubs (or parallel test runs) would collide there.
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("when_ready", lambda server: on_ready(_gunicorn_url(server)))

        def load(self) -> Any:
            return app_factory()

    _Gunicorn().run()


def _gunicorn_url(server: Any) -> str:
    listener = server.LISTENERS[0]
    host, port = listener.sock.getsockname()[:2]
    return f"http://{host}:{port}"
