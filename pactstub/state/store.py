"""Counters and records that survive restarts and are shared by every worker and server.

A stub that hands out ids (``jobs`` from 123, ``runs`` from 978) must never hand out
one twice: not between threads, gunicorn workers, servers on one PostgreSQL database,
nor after a crash. So every counter is one row, bumped with a single
``UPDATE ... SET value = value + 1 RETURNING value`` in its own committed transaction,
and created on first use by ``INSERT ... ON CONFLICT DO NOTHING`` so that two
processes creating it at once both succeed.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write
transactions start with ``BEGIN IMMEDIATE``: concurrent writers queue for the lock
up front instead of failing with "database is locked" when a read turns into a write.
The driver's own transaction handling is switched off so those BEGINs are ours.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, Table, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, StaticPool

from pactstub.errors import ConfigError, StoreError
from pactstub.state import documents
from pactstub.state import migrate as migrations
from pactstub.state.models import Base

__all__ = ["DEFAULT_URL", "DatabaseSettings", "Record", "StateDocumentError", "Store", "create_engine"]

DEFAULT_URL = "sqlite:///pactstub.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30.0
# The pool defaults of the mock pactstub replaces; DATABASE_POOL_* override them.
_POOL_SIZE = 10
_MAX_OVERFLOW = 20
_POOL_TIMEOUT = 30.0
StateDocumentError = documents.StateDocumentError

_COUNTERS: Table = Base.metadata.tables["pactstub_counters"]
_RECORDS: Table = Base.metadata.tables["pactstub_records"]


@dataclass(frozen=True, slots=True)
class Record:
    """One stored JSON document; ``id`` orders a collection by insertion."""

    collection: str
    id: int
    data: dict[str, Any]
    created_at: datetime


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


DEFAULT_SETTINGS = DatabaseSettings()


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


def _is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(settings: DatabaseSettings) -> Engine:
    """An engine set up for the store's concurrency rules (see the module docstring)."""
    url = make_url(settings.normalized_url())
    pool_args: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
    }
    if _is_memory(url):
        # One connection for everyone: each new connection would be a new, empty database.
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **pool_args)
    else:
        # READ COMMITTED whatever the server default: the counter UPDATE must see the
        # row as committed by others, not fail with a serialization error.
        engine = sa.create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED", **pool_args)
    if url.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    if not _is_memory(url):
        _guard_fork(engine)
    return engine


def _sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN/COMMIT of its own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")  # a handed-out value survives power loss too
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(migrations.WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _guard_fork(engine: Engine) -> None:
    """Never use a pooled connection in a process it was not opened in (gunicorn --preload)."""

    @event.listens_for(engine, "connect")
    def on_connect(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def on_checkout(_dbapi: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        if record.info.get("pid") != os.getpid():
            # Dropped, not closed: closing would end the parent's session too.
            record.dbapi_connection = proxy.dbapi_connection = None  # type: ignore[misc]
            raise DisconnectionError("connection belongs to another process")


def _insert(dialect_name: str) -> Any:
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


class Store:
    """The counter and record store on one database; safe to share between threads.

    Raises :class:`~pactstub.errors.StoreError` for anything the database refuses and
    :class:`~pactstub.errors.ConfigError` for settings it cannot use.
    """

    def __init__(self, settings: DatabaseSettings | str = DEFAULT_SETTINGS, *, migrate: bool = True) -> None:
        self.settings = DatabaseSettings(url=settings) if isinstance(settings, str) else settings
        self._engine = create_engine(self.settings)
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if isinstance(self._engine.pool, StaticPool) else nullcontext()
        )
        if migrate:
            try:
                migrations.upgrade(self._engine)
            except BaseException:
                self._engine.dispose()
                raise

    @property
    def engine(self) -> Engine:
        """The engine, for ``pactstub db`` and tests; not for touching the tables directly."""
        return self._engine

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _transaction(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Connection]:
        with self._lock:
            try:
                with self._engine.connect() as connection:
                    if write:
                        connection.execution_options(**{migrations.WRITE_OPTION: True})
                    if snapshot and connection.dialect.name == "postgresql":
                        connection.execution_options(isolation_level="REPEATABLE READ")
                    with connection.begin():
                        yield connection
            except SQLAlchemyError as error:
                reason = migrations.describe_error(error)
                raise StoreError(f"database {self.settings.safe_url()}: {reason}") from error

    # -- counters ---------------------------------------------------------------------

    def next_value(self, counter: str, start: int = 1) -> int:
        """The counter's next value: ``start`` the first time, then one more each call.

        ``start`` only matters when the counter does not exist yet (or after a reset).
        """
        documents.check_name(counter, "counter")
        documents.check_int(start, "start")
        bump = (
            update(_COUNTERS)
            .where(_COUNTERS.c.name == counter)
            .values(value=_COUNTERS.c.value + 1)
            .returning(_COUNTERS.c.value)
        )
        with self._transaction(write=True) as connection:
            value = connection.execute(bump).scalar_one_or_none()
            if value is None:
                create = (
                    _insert(connection.dialect.name)(_COUNTERS)
                    .values(name=counter, value=start)
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(_COUNTERS.c.value)
                )
                value = connection.execute(create).scalar_one_or_none()
            if value is None:  # another process created it between our two statements
                value = connection.execute(bump).scalar_one()
        return int(value)

    def peek(self, counter: str) -> int | None:
        """The last value handed out, without taking one; ``None`` before the first."""
        with self._transaction() as connection:
            value = connection.execute(
                select(_COUNTERS.c.value).where(_COUNTERS.c.name == counter)
            ).scalar_one_or_none()
        return None if value is None else int(value)

    # -- records ----------------------------------------------------------------------

    def save(self, collection: str, data: Mapping[str, Any]) -> Record:
        """Store a JSON object; the record returned holds it as it will be read back."""
        documents.check_name(collection, "collection")
        document = documents.json_object(data, "data")
        created_at = datetime.now(UTC)
        with self._transaction(write=True) as connection:
            record_id = connection.execute(
                sa.insert(_RECORDS)
                .values(collection=collection, data=document, created_at=created_at)
                .returning(_RECORDS.c.id)
            ).scalar_one()
        return Record(collection, int(record_id), document, created_at)

    def find(self, collection: str, **fields: Any) -> list[Record]:
        """The collection's records whose top-level ``fields`` equal the values given.

        Filtering is done in Python over the collection (read in insertion order),
        not in SQL: JSON equality then means the same on SQLite and PostgreSQL (``1``
        is not ``"1"`` nor ``true``; nested objects compare whole), which per-dialect
        JSON extraction does not give. A field missing from a record never matches,
        not even ``None``. Stub collections are small, so the scan is cheap.
        """
        expected = documents.json_object(fields, "fields")
        with self._transaction() as connection:
            rows = connection.execute(
                select(_RECORDS).where(_RECORDS.c.collection == collection).order_by(_RECORDS.c.id)
            ).all()
        records = [Record(row.collection, int(row.id), row.data, row.created_at) for row in rows]
        return [
            record
            for record in records
            if all(
                name in record.data and documents.json_equal(record.data[name], value)
                for name, value in expected.items()
            )
        ]

    # -- whole state ------------------------------------------------------------------

    def reset(self, collection: str | None = None) -> None:
        """Forget records and restart counters.

        With ``collection``: its records, and the counter of the same name if any.
        Without: every record and every counter.
        """
        with self._transaction(write=True) as connection:
            if collection is None:
                connection.execute(delete(_RECORDS))
                connection.execute(delete(_COUNTERS))
            else:
                connection.execute(delete(_RECORDS).where(_RECORDS.c.collection == collection))
                connection.execute(delete(_COUNTERS).where(_COUNTERS.c.name == collection))

    def snapshot(self) -> dict[str, Any]:
        """``{"counters": {name: last value}, "collections": {name: size}}``, by name."""
        with self._transaction(snapshot=True) as connection:
            counters = connection.execute(select(_COUNTERS).order_by(_COUNTERS.c.name)).all()
            sizes = connection.execute(
                select(_RECORDS.c.collection, func.count())
                .group_by(_RECORDS.c.collection)
                .order_by(_RECORDS.c.collection)
            ).all()
        return {
            "counters": {row.name: int(row.value) for row in counters},
            "collections": {name: int(size) for name, size in sizes},
        }

    def export(self) -> dict[str, Any]:
        """The whole state as one JSON document, read as one consistent snapshot."""
        with self._transaction(snapshot=True) as connection:
            counters = connection.execute(select(_COUNTERS).order_by(_COUNTERS.c.name)).all()
            records = connection.execute(select(_RECORDS).order_by(_RECORDS.c.id)).all()
        return {
            "version": documents.FORMAT_VERSION,
            "counters": {row.name: int(row.value) for row in counters},
            "records": [
                {
                    "collection": row.collection,
                    "id": int(row.id),
                    "data": row.data,
                    "created_at": documents.isoformat(row.created_at),
                }
                for row in records
            ],
        }

    def import_(self, document: Mapping[str, Any]) -> None:
        """Replace the whole state by an :meth:`export` document.

        The document is checked completely before anything is written, and the
        replacement is one transaction: a bad document changes nothing.
        """
        counters, records = documents.parse(document)
        with self._transaction(write=True) as connection:
            connection.execute(delete(_RECORDS))
            connection.execute(delete(_COUNTERS))
            if counters:
                connection.execute(
                    sa.insert(_COUNTERS), [{"name": k, "value": v} for k, v in counters.items()]
                )
            if records:
                connection.execute(sa.insert(_RECORDS), records)
            if connection.dialect.name == "postgresql":
                # Explicit ids do not advance the sequence; never hand out an imported id again.
                connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('pactstub_records', 'id'), "
                        "GREATEST((SELECT COALESCE(MAX(id), 0) FROM pactstub_records), "
                        "nextval(pg_get_serial_sequence('pactstub_records', 'id'))))"
                    )
                )
