"""How the stub is served: which HTTP server, where, with what limits; and its socket.

Every server binds through :func:`listen`, so a taken port or a foreign address is
the same one-line error whichever server runs, and port 0 resolves before the
server starts (the banner can print the real port).
"""

from __future__ import annotations

import errno
import resource
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

from pactstub.errors import ConfigError, ListenError
from pactstub.server.tls import TlsFiles

ServerName = Literal["auto", "waitress", "gunicorn", "werkzeug"]
#: The server that actually runs once ``auto`` is resolved.
ServerKind = Literal["waitress", "gunicorn", "werkzeug"]

#: Makes what runs beside the app in one serving process, for as long as it serves.
Lifespan = Callable[[], AbstractContextManager[object]]

PORTS = range(0, 65536)
#: File descriptors kept free beyond the connections: the listener, logs, the database.
SPARE_DESCRIPTORS = 64


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The serving side of ``pactstub serve``; the app's own settings are elsewhere."""

    host: str = "127.0.0.1"
    #: 0 picks a free port
    port: int = 5000
    server: ServerName = "auto"
    workers: int = 1
    #: request threads per process
    threads: int = 4
    #: open connections per process; more wait in the listen backlog
    max_connections: int = 1000
    #: seconds a connection may stay idle, and a request may take to arrive whole
    timeout: float = 30.0
    #: largest request body in bytes (the app's ``max_body_size``)
    max_body_size: int = 10 * 1024 * 1024
    tls: TlsFiles | None = None
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.port not in PORTS:
            raise ConfigError(f"port {self.port} is not between 0 and 65535")
        for name in ("workers", "threads", "max_connections"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("timeout must be more than 0 seconds")
        if self.server in ("waitress", "werkzeug") and self.workers > 1:
            raise ConfigError(f"server {self.server} runs one process; use server gunicorn for workers")
        if self.server == "waitress" and self.tls is not None:
            raise ConfigError("waitress has no TLS; use server auto, gunicorn or werkzeug with a certificate")

    @property
    def kind(self) -> ServerKind:
        """``auto``: waitress for one plain-HTTP process; gunicorn for workers or TLS."""
        if self.server != "auto":
            return self.server
        return "gunicorn" if self.workers > 1 or self.tls is not None else "waitress"

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"


def refuse_unshared_store(database_url: str, workers: int) -> None:
    """Several workers need a store they all see: not a SQLite database in one process's memory."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if workers == 1:
        return
    try:
        url = make_url(database_url)
    except ArgumentError:
        return  # the store explains a bad URL itself
    in_memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if url.get_backend_name() == "sqlite" and in_memory:
        raise ConfigError(
            f"{workers} workers: an in-memory database ({database_url}) is not shared between "
            "worker processes; give a SQLite file or PostgreSQL"
        )


def listen(config: ServerConfig) -> socket.socket:
    """A listening socket on ``config.host``/``config.port``, or :class:`ListenError`."""
    try:
        infos = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on {config.host!r}: {error.strerror}") from error
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ListenError(f"Port {config.port} is in use on {config.host}") from error
        raise ListenError(f"cannot listen on {config.host}:{config.port}: {error.strerror}") from error
    return sock


def url_of(sock: socket.socket, scheme: str) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}"


def allow_descriptors(connections: int) -> None:
    """Raise the soft limit on open files to fit ``connections``, as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
