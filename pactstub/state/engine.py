"""Where the store lives and how its connections behave: settings, URLs, the engine, failures.

Every dialect-specific rule is set up here, once per connection:

* **SQLite** runs in WAL mode (readers never wait for the writer) with a busy timeout
  (writers of several processes queue instead of failing) and ``synchronous = NORMAL``:
  a commit reaches the WAL file before ``COMMIT`` returns but is fsynced only at
  checkpoints, so a crash or ``kill -9`` of pactstub loses nothing committed, while an
  OS crash or power loss may lose the last transactions. With ``FULL`` the fsync of each
  commit was over half the time of a templated request (about 10 ms); a machine crash
  ends the test run that relied on those ids anyway. WAL never corrupts the file.
* **PostgreSQL** sessions are READ COMMITTED whatever the server's default (a counter
  ``UPDATE`` must wait for and then see the other transaction's row, not fail with a
  serialization error), with a statement timeout, a connect timeout, a deadline on every
  round trip that holds when the server stops answering (:mod:`pactstub.state.pgwait`),
  and a pool that pings connections that sat idle, so a database restarted overnight
  costs nobody a failed request.

Failures of the driver become :class:`~pactstub.errors.StoreUnavailable` (the database
cannot be reached: answer 503, retry later) or :class:`~pactstub.errors.StoreError`
(it refused this statement), see :func:`failure`.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from pactstub.errors import ConfigError, StoreError, StoreUnavailable

__all__ = [
    "DEFAULT_URL",
    "one_deadline",
    "SQLITE_BUSY_TIMEOUT_S",
    "DatabaseSettings",
    "create_engine",
    "describe_error",
    "failure",
    "sqlite_file",
]

DEFAULT_URL = "sqlite:///pactstub.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30.0
# The pool defaults of the mock pactstub replaces; DATABASE_POOL_* override them.
_POOL_SIZE = 10
_MAX_OVERFLOW = 20
_POOL_TIMEOUT = 30.0
#: How long connecting, and one statement, may take on PostgreSQL before the store is "unavailable".
_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Where the store lives and how many connections it may hold (PostgreSQL pool)."""

    url: str = DEFAULT_URL
    pool_size: int = _POOL_SIZE
    max_overflow: int = _MAX_OVERFLOW
    pool_timeout: float = _POOL_TIMEOUT
    #: seconds a PostgreSQL connect or statement may take
    timeout: float = _TIMEOUT

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
        """The URL for log lines: never the password."""
        return _without_password(self.url)

    @property
    def in_memory(self) -> bool:
        """A SQLite database that lives in this process only (``sqlite://``)."""
        url = make_url(self.normalized_url())
        return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


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


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database (``None`` in memory or on PostgreSQL)."""
    if engine.dialect.name != "sqlite" or isinstance(engine.pool, StaticPool):
        return None
    database = engine.url.database
    return Path(database).resolve() if database else None


def create_engine(settings: DatabaseSettings) -> Engine:
    """An engine set up for the store's rules (see the module docstring)."""
    url = make_url(settings.normalized_url())
    pool: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
    }
    if url.get_backend_name() == "postgresql":
        from pactstub.state import pgwait

        pgwait.install()  # a database that stops answering is a timeout, not a hang
        engine = sa.create_engine(
            url,
            connect_args={
                "connect_timeout": max(1, round(settings.timeout)),
                "connection_factory": pgwait.timed_connection(settings.timeout),
            },
            **pool,
        )
        _postgres_sessions(engine, settings.timeout)
        _ping_when_idle(engine)
    elif url.database in (None, "", ":memory:"):
        # One connection for everyone: each new connection would be a new, empty database.
        # Not forgotten on fork either: the child's copy of the database is all it has.
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        _sqlite_pragmas(engine)
        return engine
    else:
        folder = Path(url.database).resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"cannot create the SQLite database {url.database}: no folder {folder}")
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, **pool
        )
        _sqlite_pragmas(engine)
    _forget_connections_on_fork(engine)
    return engine


def one_deadline(engine: Engine) -> AbstractContextManager[None]:
    """On PostgreSQL, the round trips inside end by the first one's deadline.

    Taking a connection may mean a ping, then connecting anew when the ping fails; a
    statement on a connection found dead is run again on a new one. Each is a wait; to the
    request waiting on them, a database that stopped answering is one wait, not several.
    SQLite has no such waits: it gets a context that does nothing, at no cost.
    """
    if engine.dialect.name != "postgresql":
        return _NO_DEADLINE
    from pactstub.state import pgwait

    return pgwait.shared_deadline()


_NO_DEADLINE: AbstractContextManager[None] = nullcontext()


def _postgres_sessions(engine: Engine, timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute(f"SET statement_timeout = {round(timeout * 1000)}")
        cursor.close()
        dbapi_connection.commit()


#: A pooled PostgreSQL connection unused for this long is pinged before it is handed out.
IDLE_PING_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle (SQLAlchemy's pre-ping, rationed).

    A database restarted overnight drops every pooled connection; a ping on checkout finds
    each dead one and the pool opens a new one, so no request fails for it. But a ping is a
    round trip, about a tenth of a templated request on PostgreSQL when paid on every checkout.
    A connection a busy server handed back a moment ago is alive as far as anyone can tell,
    so only connections idle for :data:`IDLE_PING_S` are pinged; one that dies mid-request
    fails that request (503) and is discarded (``UnitOfWork._run``).
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["pactstub_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("pactstub_used", 0.0) < IDLE_PING_S:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as error:
            raise DisconnectionError(f"a pooled connection is gone: {error}") from error


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Survives a crash of the process, not of the OS: see the module docstring.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


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


# ---------------------------------------------------------------------------------- failures

#: Words of driver errors that mean the database, not the statement, is the problem.
_UNAVAILABLE_WORDS = (
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection to server",
    "could not translate host name",
    "timeout expired",
    "canceling statement due to statement timeout",
    "the database system is",
    "ssl connection has been closed",
    "unable to open database file",
    "disk i/o error",
    "database disk image is malformed",
    "attempt to write a readonly database",
    "database is locked",
)


def describe_error(error: BaseException) -> str:
    """The driver's own words on one line (no SQL, no parameters)."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    return " ".join(str(error).split()) or type(error).__name__


def failure(error: BaseException, where: str) -> StoreError:
    """The store error for a driver or pool failure; ``where`` names the database for logs.

    An unreachable database is :class:`StoreUnavailable` with a message that names no
    host and no user (it reaches HTTP clients); the details stay in ``__cause__``, for
    the log.
    """
    if isinstance(error, PoolTimeout):
        return StoreUnavailable("the store is busy: no database connection came free in time")
    text = describe_error(error).lower()
    if isinstance(error, SQLAlchemyError) and not isinstance(error, DBAPIError):
        return StoreError(f"database {where}: {describe_error(error)}")
    original = error.orig if isinstance(error, DBAPIError) else error
    kind = type(original).__name__
    if kind in ("OperationalError", "InterfaceError") and any(w in text for w in _UNAVAILABLE_WORDS):
        return StoreUnavailable(f"the store's database is unavailable ({_reason(text)})")
    if kind in ("InterfaceError",) or "connection already closed" in text:
        return StoreUnavailable("the store's database is unavailable (the connection was lost)")
    return StoreError(f"database {where}: {describe_error(error)}")


def _reason(text: str) -> str:
    """A short reason that names no host, port or user."""
    for words, reason in (
        ("timeout", "it did not answer in time"),
        ("database is locked", "another process holds the SQLite write lock"),
        ("unable to open", "its file cannot be opened"),
        ("readonly", "its file cannot be written"),
        ("i/o", "its file cannot be read or written"),
        ("malformed", "its file is damaged"),
        ("the database system is", "it is starting up or shutting down"),
    ):
        if words in text:
            return reason
    return "connection refused or lost"
