"""Serving a WSGI app over HTTP: one call, :func:`serve`, whichever server runs.

- ``waitress`` (the default for one process): reads each request whole in an event
  loop before a thread runs it, keeps connections alive; slow clients cost a socket.
- ``gunicorn`` (the default for ``workers > 1`` or TLS): gunicorn's arbiter forks the
  workers, each serving with waitress (or, with TLS, gunicorn's threaded worker).
- ``werkzeug``: the threaded development server, also under the embedded
  :class:`pactstub.testing.StubServer`.

All bind through :func:`~pactstub.server.config.listen`, answer what they cannot
read with the stub's JSON refusals (reported through ``report``), close a connection
silently when the app raises :class:`~pactstub.errors.ConnectionDropped`, and stop
cleanly on SIGINT or SIGTERM, finishing the requests under way.

What must run beside the app in every process that serves it (the ``--watch``
reloader: threads do not survive gunicorn's fork) is a ``lifespan``: entered in each
serving process before it takes requests, left when it stops.
"""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import TYPE_CHECKING

from pactstub.server.config import Lifespan, ServerConfig, allow_descriptors, listen, url_of
from pactstub.server.transport import Report, ignore

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Seconds a stopping single-process server gives the requests under way.
GRACE_S = 5.0


def serve(
    app: WSGIApplication,
    config: ServerConfig,
    *,
    report: Report = ignore,
    on_ready: Callable[[str], None] = lambda url: None,
    lifespan: Lifespan = nullcontext,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM; ``on_ready(url)`` once it accepts connections.

    ``report(method, path, status, message)`` hears of every request the server
    refuses before the app runs (``StubApp.transport_error``). ``lifespan()`` is
    entered in each process that serves. It owns the process: it also tunes its garbage
    collector for serving (below). Raises
    :class:`~pactstub.errors.ListenError` when the address cannot be bound.
    """
    allow_descriptors(config.max_connections)
    # The loaded contract lives as long as the process: frozen, the collector no longer walks
    # it, and with fewer young collections a request's garbage is collected in fewer, shorter
    # pauses. With 200 connections on one core, p99 went from 86-93 ms to 60-63 ms and the
    # slowest answer from 170 to 100 ms (``bench.stub_throughput --parts connections``).
    # Workers forked by gunicorn inherit both.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)
    sock = listen(config)
    url = url_of(sock, config.scheme)
    if config.kind == "gunicorn":
        from pactstub.server import _gunicorn

        _gunicorn.serve(app, sock, config, report, on_ready, lifespan)
    elif config.kind == "werkzeug":
        from pactstub.server._werkzeug import make_server

        threaded = make_server(app, sock, config, report)
        with (
            lifespan(),
            until_signalled(lambda: threading.Thread(target=threaded.shutdown, daemon=True).start()),
        ):
            on_ready(url)
            threaded.serve_forever(poll_interval=0.2)
        threaded.server_close()
    else:
        from pactstub.server._waitress import WaitressServer

        server = WaitressServer(app, [sock], config, report)
        with lifespan(), until_signalled(server.stop):
            on_ready(url)
            server.serve()
            server.finish(GRACE_S)


@contextmanager
def until_signalled(stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop`` (once) on SIGINT or SIGTERM while the block runs; the old handlers after.

    The handlers are in place before the block announces the server, so a signal sent
    as soon as it does still stops it cleanly.
    """
    stopping = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["Lifespan", "ServerConfig", "serve", "until_signalled"]
