"""Where the store lives and how its connections behave: settings, URLs, the engine.

Every dialect-specific rule of the store is set up here, once per connection, so
the rest of the store writes plain SQLAlchemy.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write
transactions start with ``BEGIN IMMEDIATE``: concurrent writers queue for the lock
up front instead of failing with "database is locked" when a read turns into a write.
The driver's own transaction handling is switched off so those BEGINs are ours, and
a connection marked with :data:`READ_OPTION` sends no ``BEGIN`` at all (each read
is its own implicit transaction).

Durability: SQLite runs with ``synchronous = NORMAL``. In WAL mode a commit is then
written to the WAL file (the OS has it once ``COMMIT`` returns) but not fsynced;
fsyncs happen at checkpoints only. A crash or kill of pactstub loses nothing
committed: a value handed out stays handed out after a restart. An OS crash or a
power loss, though, may lose the last transactions, and their counter values
could be handed out again. That is the accepted trade-off for a test stub: with
``FULL``, the fsync of every commit was over half the time of a templated request
(about 10 ms per commit), and a machine crash ends the test run that relied on
those ids anyway. The database file is never corrupted by it (WAL guarantees that
with ``NORMAL``). PostgreSQL keeps the server's own settings (``synchronous_commit``).

PostgreSQL sessions are READ COMMITTED whatever the server default, and the pool
pre-pings: a sandbox whose database restarted overnight gets fresh connections
instead of failing the first request on each dropped one.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from pactstub.errors import ConfigError
from pactstub.state import documents

__all__ = [
    "DEFAULT_URL",
    "READ_OPTION",
    "SQLITE_BUSY_TIMEOUT_S",
    "WRITE_OPTION",
    "DatabaseSettings",
    "create_engine",
]

DEFAULT_URL = "sqlite:///pactstub.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30.0
# The pool defaults of the mock pactstub replaces; DATABASE_POOL_* override them.
_POOL_SIZE = 10
_MAX_OVERFLOW = 20
_POOL_TIMEOUT = 30.0

#: Execution option of a connection whose statements run outside any transaction
#: (SQLite: no BEGIN is sent; PostgreSQL uses an autocommit connection instead).
READ_OPTION = "pactstub_read"
#: Execution option of a write transaction: SQLite begins it with ``BEGIN IMMEDIATE``.
WRITE_OPTION = "pactstub_write"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Where the store lives and how many connections it may hold (PostgreSQL pool)."""

    url: str = DEFAULT_URL
    pool_size: int = _POOL_SIZE
    max_overflow: int = _MAX_OVERFLOW
    pool_timeout: float = _POOL_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DatabaseSettings:
        """``PACTSTUB_DATABASE_URL``, else ``DATABASE_URL``, plus ``DATABASE_POOL_*``."""
        url = environ.get("PACTSTUB_DATABASE_URL") or environ.get("DATABASE_URL") or DEFAULT_URL
        return cls(
            url=url,
            pool_size=_env_number(environ, "DATABASE_POOL_SIZE", int, _POOL_SIZE, minimum=1),
            max_overflow=_env_number(environ, "DATABASE_MAX_OVERFLOW", int, _MAX_OVERFLOW, minimum=-1),
            pool_timeout=_env_number(environ, "DATABASE_POOL_TIMEOUT", float, _POOL_TIMEOUT, minimum=0.0),
        )

    def normalized_url(self) -> str:
        """The URL SQLAlchemy accepts: ``postgres://`` (Heroku style) becomes ``postgresql://``.

        A PostgreSQL URL without a driver gets psycopg2, the driver pactstub installs.
        """
        url = self.url.strip()
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise ConfigError(f"invalid database URL {_without_password(url)!r}: {error}") from error
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"unsupported database {parsed.render_as_string(hide_password=True)!r}: "
                "use a sqlite:// or postgresql:// URL"
            )
        if parsed.drivername == "postgresql":
            # SQLAlchemy 2.1 would pick psycopg 3; pactstub depends on psycopg2.
            url = parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
        return url

    def safe_url(self) -> str:
        """The URL for messages: never the password."""
        return _without_password(self.url)


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@", 1)[-1] if "@" in url else url


_N = TypeVar("_N", int, float)


def _env_number(environ: Mapping[str, str], name: str, kind: type[_N], default: _N, *, minimum: _N) -> _N:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def create_engine(settings: DatabaseSettings) -> Engine:
    """An engine set up for the store's concurrency rules (see the module docstring)."""
    url = make_url(settings.normalized_url())
    # Pinned, not left to SQLAlchemy's default: find() searches the stored text.
    common: dict[str, Any] = {"json_serializer": documents.serialize}
    pool: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
    }
    if url.get_backend_name() == "postgresql":
        engine = sa.create_engine(url, pool_pre_ping=True, **common, **pool)
        _postgres_sessions(engine)
    elif url.database in (None, "", ":memory:"):
        # One connection for everyone: each new connection would be a new, empty database.
        # Not forgotten on fork either: the child's copy of the database is all it has.
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}, **common
        )
        _sqlite_transactions(engine)
        return engine
    else:
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **common, **pool)
        _sqlite_transactions(engine)
    _forget_connections_on_fork(engine)
    return engine


def _postgres_sessions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # READ COMMITTED whatever the server default: the counter UPDATE must see the
        # row as committed by others, not fail with a serialization error. Set for the
        # session, once, rather than as psycopg2's isolation level: with a level of its
        # own, psycopg2 sends a SET on every switch in or out of autocommit (each unit).
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.close()
        dbapi_connection.commit()


def _sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN/COMMIT of its own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Survives a crash of the process, not of the OS: see the module docstring.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(READ_OPTION, False):
            return  # autocommit: each statement is its own implicit read transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN")


def _forget_connections_on_fork(engine: Engine) -> None:
    """A forked child (gunicorn ``--preload``) starts with an empty pool of its own.

    The pooled connections it inherits are the parent's sessions: pinging, using or
    closing them from the child would disturb the parent (and a pre-ping would be
    sent on the parent's socket). So they are dropped, not closed (SQLAlchemy's
    ``dispose(close=False)``), before the child can check one out.
    """
    reference = weakref.ref(engine)

    def forget() -> None:
        alive = reference()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=forget)
