"""Counters and records that survive restarts and are shared by every worker and server.

A stub that hands out ids (``jobs`` from 123, ``runs`` from 978) must never hand out
one twice: not between threads, gunicorn workers, servers on one PostgreSQL database,
nor after a crash of pactstub. So every counter is one row, bumped with a single
``UPDATE ... SET value = value + 1 RETURNING value`` in a write transaction that is
committed before the value leaves pactstub, and created on first use by
``INSERT ... ON CONFLICT DO NOTHING`` so that two processes creating it at once
both succeed.

Units of work. Everything goes through a :class:`UnitOfWork`: one connection, taken
on its first statement. Reads before its first write need no transaction of their
own (SQLite: no ``BEGIN`` at all, a statement in autocommit mode; PostgreSQL: an
autocommit connection), so a lookup costs one statement. The first write opens the
write transaction, which then holds every later read and write of the unit, and
:meth:`UnitOfWork.commit` ends it: a template render is one unit, so its writes
land together or, if the template fails, not at all (``Store.next_value`` and the
other one-call methods are units of one statement). Counter values taken in a unit
that is rolled back were never handed out, and are handed out again.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write
transactions start with ``BEGIN IMMEDIATE``: concurrent writers queue for the lock
up front instead of failing with "database is locked" when a read turns into a write.
The driver's own transaction handling is switched off so those BEGINs are ours.
Threads of one process also queue on a lock of their own before ``BEGIN IMMEDIATE``,
so they wait for each other without SQLite's sleeping busy handler.

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
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, Table, bindparam, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, StaticPool

from pactstub.errors import ConfigError, StoreError
from pactstub.state import documents
from pactstub.state import migrate as migrations
from pactstub.state.models import Base

__all__ = [
    "DEFAULT_URL",
    "DatabaseSettings",
    "Record",
    "StateDocumentError",
    "Store",
    "UnitOfWork",
    "create_engine",
]

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
_T = TypeVar("_T")


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
    # Pinned, not left to SQLAlchemy's default: find() searches the stored text.
    json_args: dict[str, Any] = {"json_serializer": documents.serialize}
    if _is_memory(url):
        # One connection for everyone: each new connection would be a new, empty database.
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}, **json_args
        )
    elif url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **json_args, **pool_args
        )
    else:
        # No pre-ping: a unit of work replaces a dropped connection itself (see UnitOfWork).
        engine = sa.create_engine(url, **json_args, **pool_args)
    if url.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    else:
        _postgres_sessions(engine)
    if not _is_memory(url):
        _guard_fork(engine)
    return engine


#: Execution option of a connection whose statements run outside any transaction
#: (SQLite: no BEGIN is sent; PostgreSQL uses an autocommit connection instead).
_READ_OPTION = "pactstub_read"


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
        if options.get(_READ_OPTION, False):
            return  # autocommit: each statement is its own implicit read transaction
        write = options.get(migrations.WRITE_OPTION, False)
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


# Statements built once; only their parameters change (building and cache-keying a
# statement per call was a visible share of a templated request).
_BUMP = (
    update(_COUNTERS)
    .where(_COUNTERS.c.name == bindparam("counter"))
    .values(value=_COUNTERS.c.value + 1)
    .returning(_COUNTERS.c.value)
)
_PEEK = select(_COUNTERS.c.value).where(_COUNTERS.c.name == bindparam("counter"))
_SAVE = sa.insert(_RECORDS).returning(_RECORDS.c.id)
_CREATE = {
    dialect: _insert(dialect)(_COUNTERS)
    .values(name=bindparam("counter"), value=bindparam("start"))
    .on_conflict_do_nothing(index_elements=["name"])
    .returning(_COUNTERS.c.value)
    for dialect in ("sqlite", "postgresql")
}


@functools.lru_cache(maxsize=256)
def _find_statement(dialect: str, shape: tuple[int, ...]) -> sa.Select[Any]:
    """The records of ``:collection`` holding, for field ``i``, one of ``:n{i}_{j}`` in their text.

    ``shape`` is the number of needles of each field (:func:`documents.needles`).
    """
    stored = sa.cast(_RECORDS.c.data, sa.Text)
    position = func.strpos if dialect == "postgresql" else func.instr
    statement = select(_RECORDS).where(_RECORDS.c.collection == bindparam("collection"))
    for field, count in enumerate(shape):
        statement = statement.where(
            sa.or_(*(position(stored, bindparam(f"n{field}_{j}")) > 0 for j in range(count)))
        )
    return statement.order_by(_RECORDS.c.id)


def _replace_if_dropped(connection: Connection) -> None:
    """Pre-ping for the rare whole-state transactions (reset, export...), which cannot retry.

    The statement is run on the DBAPI connection so SQLAlchemy begins nothing;
    a connection the PostgreSQL server dropped is invalidated, and the next
    statement on ``connection`` takes a new one (or reports why it cannot).
    """
    if connection.dialect.name != "postgresql":
        return
    dbapi_connection = connection.connection.dbapi_connection
    try:
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # type: ignore[union-attr]
    except Exception as error:  # a connection that cannot run SELECT 1 is of no use either
        connection.invalidate(error)


def _end_autocommit(dbapi_connection: Any) -> None:
    """Back to transactions before a unit's PostgreSQL connection returns to the pool."""
    with suppress(Exception):  # a dropped connection is discarded anyway
        dbapi_connection.autocommit = False


class UnitOfWork:
    """Reads and writes on one connection, written all together or not at all.

    Got from :meth:`Store.unit`. The connection is taken on the first statement;
    reads before the first write run outside any transaction, the first write
    begins the write transaction (SQLite: ``BEGIN IMMEDIATE``) that every later
    statement joins. :meth:`commit` or :meth:`rollback` ends the unit and gives
    the connection back; as a context manager it commits, or rolls back when
    the block raises. Used by one thread at a time.

    A pooled PostgreSQL connection the server has dropped meanwhile (a restarted
    sandbox database) fails the unit's first statement; nothing of the unit has
    happened then, so the statement is run again once on a new connection. This
    replaces SQLAlchemy's pre-ping, a ``SELECT 1`` round trip on every checkout.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._held = ExitStack()  # the store's lock, the connection, the write lock
        self._connection: Connection | None = None
        self._dbapi: DBAPIConnection | None = None
        self._writing = False
        self._statements = 0
        self._finished = False

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()

    def _run(self, action: Callable[[Connection], _T], *, write: bool) -> _T:
        """``action`` on the unit's connection, in the write transaction if ``write``."""
        if self._finished:
            raise StoreError("this unit of work is already committed or rolled back")
        for attempt in (1, 2):
            try:
                result = action(self._begin_write() if write else self._connect())
            except DBAPIError as error:
                if attempt == 1 and self._statements == 0 and error.connection_invalidated:
                    self._release()  # a dead pooled connection: take another, nothing is lost
                    continue
                raise self._store._error(error) from error
            except SQLAlchemyError as error:
                raise self._store._error(error) from error
            self._statements += 1
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self) -> Connection:
        if self._connection is None:
            self._held.enter_context(self._store._lock)
            try:
                connection = self._held.enter_context(self._store._engine.connect())
                if connection.dialect.name == "postgresql":
                    # On the driver, not through SQLAlchemy's isolation level: flipping
                    # psycopg2's flag never talks to the server (set_isolation_level may).
                    self._dbapi = connection.connection.dbapi_connection
                    self._dbapi.autocommit = True  # type: ignore[union-attr]
                    self._held.callback(_end_autocommit, self._dbapi)
                else:
                    connection.execution_options(**{_READ_OPTION: True})
            except BaseException:
                self._held.close()
                raise
            self._connection = connection
        return self._connection

    def _begin_write(self) -> Connection:
        """The connection, in the unit's write transaction (begun on the first write)."""
        connection = self._connect()
        if not self._writing:
            self._held.enter_context(self._store._write_lock)
            connection.commit()  # ends the (empty) autobegun read transaction, if any
            if connection.dialect.name == "postgresql":
                self._dbapi.autocommit = False  # type: ignore[union-attr]
            else:
                connection.execution_options(**{_READ_OPTION: False, migrations.WRITE_OPTION: True})
            connection.begin()
            self._writing = True
        return connection

    def _read(self, statement: sa.Executable, parameters: Mapping[str, Any]) -> list[sa.Row[Any]]:
        def read(connection: Connection) -> list[sa.Row[Any]]:
            rows = list(connection.execute(statement, parameters).all())
            if not self._writing:
                connection.commit()  # no statement: nothing was begun (see _READ_OPTION)
            return rows

        return self._run(read, write=False)

    def commit(self) -> None:
        """Make every write of the unit durable (see the module docstring) and end it."""
        if self._finished:
            return
        try:
            if self._connection is not None and self._writing:
                try:
                    self._connection.commit()
                except SQLAlchemyError as error:
                    raise self._store._error(error) from error
        except BaseException:
            self.rollback()
            raise
        self._end()

    def rollback(self) -> None:
        """Forget every write of the unit and end it; counter values taken are free again."""
        if self._finished:
            return
        try:
            if self._connection is not None:
                try:
                    self._connection.rollback()
                except SQLAlchemyError as error:
                    raise self._store._error(error) from error
        finally:
            self._end()

    def _release(self) -> None:
        """Give back the connection and the locks; the unit may take them again."""
        self._connection = self._dbapi = None
        self._writing = False
        self._held.close()

    def _end(self) -> None:
        self._finished = True
        self._release()

    # -- counters ---------------------------------------------------------------------

    def next_value(self, counter: str, start: int = 1) -> int:
        """See :meth:`Store.next_value`."""
        documents.check_name(counter, "counter")
        documents.check_int(start, "start")

        def bump(connection: Connection) -> int:
            value = connection.execute(_BUMP, {"counter": counter}).scalar_one_or_none()
            if value is None:
                create = _CREATE[connection.dialect.name]
                value = connection.execute(create, {"counter": counter, "start": start}).scalar_one_or_none()
            if value is None:  # another process created it between our two statements
                value = connection.execute(_BUMP, {"counter": counter}).scalar_one()
            return int(value)

        return self._run(bump, write=True)

    def peek(self, counter: str) -> int | None:
        """See :meth:`Store.peek`."""
        rows = self._read(_PEEK, {"counter": counter})
        return int(rows[0][0]) if rows else None

    # -- records ----------------------------------------------------------------------

    def save(self, collection: str, data: Mapping[str, Any]) -> Record:
        """See :meth:`Store.save`."""
        documents.check_name(collection, "collection")
        document = documents.json_object(data, "data")
        created_at = datetime.now(UTC)
        row = {"collection": collection, "data": document, "created_at": created_at}
        record_id = self._run(lambda connection: connection.execute(_SAVE, row).scalar_one(), write=True)
        return Record(collection, int(record_id), document, created_at)

    def find(self, collection: str, **fields: Any) -> list[Record]:
        """See :meth:`Store.find`."""
        expected = documents.json_object(fields, "fields")
        parameters: dict[str, Any] = {"collection": collection}
        shape: list[int] = []
        for field, (name, value) in enumerate(expected.items()):
            needles = documents.needles(name, value)
            shape.append(len(needles))
            parameters.update({f"n{field}_{j}": needle for j, needle in enumerate(needles)})
        statement = _find_statement(self._store._engine.dialect.name, tuple(shape))
        return [
            Record(row.collection, int(row.id), row.data, row.created_at)
            for row in self._read(statement, parameters)
            if documents.matches(row.data, expected)
        ]


class Store:
    """The counter and record store on one database; safe to share between threads.

    Raises :class:`~pactstub.errors.StoreError` for anything the database refuses and
    :class:`~pactstub.errors.ConfigError` for settings it cannot use.
    """

    def __init__(self, settings: DatabaseSettings | str = DEFAULT_SETTINGS, *, migrate: bool = True) -> None:
        self.settings = DatabaseSettings(url=settings) if isinstance(settings, str) else settings
        self._engine = create_engine(self.settings)
        one_connection = isinstance(self._engine.pool, StaticPool)
        # In memory: one connection, so one user at a time (the lock is held per unit).
        self._lock: AbstractContextManager[Any] = threading.RLock() if one_connection else nullcontext()
        # SQLite file: writers of this process queue here, not in SQLite's busy handler.
        sqlite_file = self._engine.dialect.name == "sqlite" and not one_connection
        self._write_lock: AbstractContextManager[Any] = threading.RLock() if sqlite_file else nullcontext()
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

    def unit(self) -> UnitOfWork:
        """A unit of work: several reads and writes committed together (see :class:`UnitOfWork`)."""
        return UnitOfWork(self)

    def _error(self, error: SQLAlchemyError) -> StoreError:
        return StoreError(f"database {self.settings.safe_url()}: {migrations.describe_error(error)}")

    @contextmanager
    def _transaction(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Connection]:
        with self._lock, self._write_lock if write else nullcontext():
            try:
                with self._engine.connect() as connection:
                    _replace_if_dropped(connection)
                    if write:
                        connection.execution_options(**{migrations.WRITE_OPTION: True})
                    with connection.begin():
                        if snapshot and connection.dialect.name == "postgresql":
                            # For this transaction only (see _postgres_sessions).
                            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        yield connection
            except SQLAlchemyError as error:
                raise self._error(error) from error

    # -- counters ---------------------------------------------------------------------

    def next_value(self, counter: str, start: int = 1) -> int:
        """The counter's next value: ``start`` the first time, then one more each call.

        ``start`` only matters when the counter does not exist yet (or after a reset).
        """
        with self.unit() as unit:
            return unit.next_value(counter, start)

    def peek(self, counter: str) -> int | None:
        """The last value handed out, without taking one; ``None`` before the first."""
        with self.unit() as unit:
            return unit.peek(counter)

    # -- records ----------------------------------------------------------------------

    def save(self, collection: str, data: Mapping[str, Any]) -> Record:
        """Store a JSON object; the record returned holds it as it will be read back."""
        with self.unit() as unit:
            return unit.save(collection, data)

    def find(self, collection: str, **fields: Any) -> list[Record]:
        """The collection's records whose top-level ``fields`` equal the values given.

        JSON equality, the same on SQLite and PostgreSQL: ``1`` is not ``"1"`` nor
        ``true``, ``1`` is ``1.0``, nested objects compare whole. A field missing
        from a record never matches, not even ``None``. The database narrows the
        collection down to the records whose stored text holds the field with that
        value (:func:`~pactstub.state.documents.needles`: a plain substring search,
        no JSON parsing, so no dialect's JSON rules), in insertion order; each of
        those is then checked in Python with that equality.
        """
        with self.unit() as unit:
            return unit.find(collection, **fields)

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
