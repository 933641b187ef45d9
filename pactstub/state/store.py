"""Counters, records, clocks and the journal, shared by every worker and server of a sandbox.

A stub that hands out ids (``jobs`` from 123, ``runs`` from 978) must never hand out
one twice: not between threads, gunicorn workers, servers on one PostgreSQL database,
nor after a crash of pactstub. So every write is committed before its result leaves
pactstub, in a unit of work (:mod:`pactstub.state.unit`) on an engine set up for each
dialect's rules (:mod:`pactstub.state.engine`).

:class:`Store` is the face of all that: one-call counters and records (each a unit of
one operation), :meth:`Store.unit` for a template render's several, the clocks, and the
whole-state operations (reset, snapshot, export, import), each one transaction.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select
from sqlalchemy.pool import StaticPool

from pactstub import chance
from pactstub.errors import StoreError
from pactstub.state import documents, sql, transfer
from pactstub.state import migrate as migrations
from pactstub.state.clock import ClockState
from pactstub.state.context import StoreContext
from pactstub.state.documents import DEFAULT_SESSION, StateDocumentError
from pactstub.state.engine import (
    DEFAULT_URL,
    DatabaseSettings,
    create_engine,
    failure,
    one_deadline,
    sqlite_file,
)
from pactstub.state.lifecycle import Lifecycle
from pactstub.state.models import CLOCKS, COLLECTIONS, COUNTERS, FAULTS, FIELDS, JOURNAL, RECORDS
from pactstub.state.records import Record
from pactstub.state.transfer import Progress
from pactstub.state.unit import UnitOfWork

__all__ = [
    "DEFAULT_SESSION",
    "DEFAULT_URL",
    "DatabaseSettings",
    "Record",
    "StateDocumentError",
    "Store",
    "UnitOfWork",
    "create_engine",
]


class Store:
    """The store on one database; safe to share between threads.

    ``lifecycles`` (collection -> :class:`~pactstub.state.lifecycle.Lifecycle`) move the
    records of those collections along as templates read them; ``seed`` makes their
    failures reproducible. Raises :class:`~pactstub.errors.StoreError` for what the
    database refuses (:class:`~pactstub.errors.StoreUnavailable` when it cannot be
    reached) and :class:`~pactstub.errors.ConfigError` for settings it cannot use.
    """

    def __init__(
        self,
        settings: DatabaseSettings | str = DEFAULT_URL,
        *,
        migrate: bool = True,
        lifecycles: Mapping[str, Lifecycle] | None = None,
        seed: int | None = None,
    ) -> None:
        self.settings = DatabaseSettings(url=settings) if isinstance(settings, str) else settings
        engine = create_engine(self.settings)
        one_connection = isinstance(engine.pool, StaticPool)
        # In memory there is one connection, so one unit at a time may use it.
        lock: AbstractContextManager[Any] = threading.RLock() if one_connection else nullcontext()
        # A SQLite file: this process's writers queue on a lock rather than in SQLite's busy
        # handler, which sleeps (1, 2, 5, ... 100 ms) between tries: 8 threads saving at once
        # wrote about twice as many records a second (``bench/store_scaling.py --compare-locks``).
        path = sqlite_file(engine)
        write_lock: AbstractContextManager[Any] = threading.Lock() if path is not None else nullcontext()
        self._context = StoreContext(
            engine,
            self.settings.safe_url(),
            lock,
            write_lock,
            dict(lifecycles or {}),
            chance.generator(seed),
            sqlite_file=path,
        )
        if migrate:
            try:
                migrations.upgrade(engine)
            except BaseException:
                engine.dispose()
                raise
        if path is not None and path.exists():
            self._context.check_file()  # remember the file as it is now

    @property
    def engine(self) -> sa.Engine:
        """The engine, for ``pactstub db`` and tests; not for touching the tables directly."""
        return self._context.engine

    @property
    def lifecycles(self) -> Mapping[str, Lifecycle]:
        return self._context.lifecycles

    def set_lifecycles(self, lifecycles: Mapping[str, Lifecycle]) -> None:
        """Move records along these lifecycles from now on (a reloaded templates folder)."""
        self._context.lifecycles = dict(lifecycles)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; the store cannot be used afterwards."""
        self._context.closed = True
        self._context.engine.dispose()

    def time_connections(self, observe: Callable[[float], None]) -> None:
        """Call ``observe(seconds)`` whenever a connection goes back to the pool: how long it was out.

        That is the store's share of a request (a render's unit of work, a journal batch, an
        admin call), waiting for locks included; the metrics show it as a histogram.
        """

        def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
            record.info["pactstub_checked_out"] = time.perf_counter()

        def checkin(_dbapi: Any, record: Any) -> None:
            started = record.info.pop("pactstub_checked_out", None) if record is not None else None
            if started is not None:
                observe(time.perf_counter() - started)

        sa.event.listen(self._context.engine, "checkout", checkout)
        sa.event.listen(self._context.engine, "checkin", checkin)

    def unit(self, session: str = DEFAULT_SESSION) -> UnitOfWork:
        """A unit of work of ``session``: several reads and writes committed together."""
        return UnitOfWork(self._context, session)

    @contextmanager
    def transaction(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Any]:
        """A DBAPI cursor in one transaction, for operations on the whole state.

        ``write`` takes the write lock up front (SQLite: ``BEGIN IMMEDIATE``);
        ``snapshot`` reads one consistent state (PostgreSQL: REPEATABLE READ).
        """
        context = self._context
        with context.lock, context.write_lock if write else nullcontext():
            connection: Any = None
            try:
                context.check_open()
                connection = self._live_connection()
                if write:
                    context.check_file()
                cursor = connection.cursor()
                if context.dialect == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                elif snapshot:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                yield cursor
                connection.commit()
            except StoreError:
                _quietly_rollback(connection)
                raise
            except Exception as error:
                _quietly_rollback(connection)
                raise failure(error, context.where) from error
            finally:
                if connection is not None:
                    connection.close()

    def _live_connection(self) -> Any:
        """A pooled connection known to be alive (PostgreSQL: pinged, replaced if dead).

        These operations are rare, so one round trip each buys never failing on a connection
        the database dropped while it sat in the pool (units retry their first statement instead).
        """
        engine = self._context.engine
        if self._context.dialect != "postgresql":
            return engine.raw_connection()
        with one_deadline(engine):  # the ping and a new connection wait for the database once
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("SELECT 1")
                cursor.close()
                connection.rollback()  # end the ping's transaction: the caller's begins afresh
            except Exception as error:
                if not engine.dialect.is_disconnect(error, connection, None):  # type: ignore[arg-type]
                    raise
                connection.invalidate()
                connection.close()
                connection = engine.raw_connection()
            return connection

    def _compiled(self, statement: sa.ClauseElement) -> str:
        return str(statement.compile(dialect=sql.DIALECTS[self._context.dialect]()))

    def ping(self) -> None:
        """Raise :class:`~pactstub.errors.StoreUnavailable` unless the database answers now
        (and a SQLite file is still the one the store opened)."""
        with self.transaction() as cursor:
            self._context.check_file()
            cursor.execute("SELECT 1")
            cursor.fetchall()

    # -- one-call conveniences ----------------------------------------------------------

    def next_value(self, counter: str, start: int = 1, *, session: str = DEFAULT_SESSION) -> int:
        """The counter's next value: ``start`` the first time (or after a reset), then one more each call."""
        with self.unit(session) as unit:
            return unit.next_value(counter, start)

    def peek(self, counter: str, *, session: str = DEFAULT_SESSION) -> int | None:
        """The last value handed out, without taking one; ``None`` before the first."""
        with self.unit(session) as unit:
            return unit.peek(counter)

    def save(self, collection: str, data: Mapping[str, Any], *, session: str = DEFAULT_SESSION) -> Record:
        """Store a JSON object, indexed by its top-level fields; the record as it reads back.

        Its ``id`` field, if a positive integer, is its id in the collection; otherwise the
        collection's next id is given and written into the record's ``id``.
        """
        with self.unit(session) as unit:
            return unit.save(collection, data)

    def get(self, collection: str, record_id: int, *, session: str = DEFAULT_SESSION) -> Record | None:
        with self.unit(session) as unit:
            return unit.get(collection, record_id)

    def find(
        self,
        collection: str,
        where: Mapping[str, Any] | None = None,
        *,
        session: str = DEFAULT_SESSION,
        order_by: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Record]:
        """See :meth:`UnitOfWork.find <pactstub.state.unit.UnitOfWork.find>`."""
        with self.unit(session) as unit:
            return unit.find(collection, where, order_by=order_by, limit=limit, offset=offset)

    def update(
        self,
        collection: str,
        record_id: int,
        changes: Mapping[str, Any],
        *,
        session: str = DEFAULT_SESSION,
        replace: bool = False,
    ) -> Record | None:
        with self.unit(session) as unit:
            return unit.update(collection, record_id, changes, replace=replace)

    def delete(self, collection: str, record_id: int, *, session: str = DEFAULT_SESSION) -> bool:
        with self.unit(session) as unit:
            return unit.delete(collection, record_id)

    def count(
        self, collection: str, where: Mapping[str, Any] | None = None, *, session: str = DEFAULT_SESSION
    ) -> int:
        with self.unit(session) as unit:
            return unit.count(collection, where)

    def has_collection(self, collection: str, *, session: str = DEFAULT_SESSION) -> bool:
        """Whether the session has this collection: records were saved in it since it was last
        reset (it may be empty now, its ids are still taken)."""
        documents.check_session(session)
        with self.transaction() as cursor:
            cursor.execute(self._context.sql.collection_size, {"session": session, "name": collection})
            return cursor.fetchone() is not None

    # -- clocks -------------------------------------------------------------------------

    def clock(self, session: str = DEFAULT_SESSION) -> ClockState:
        """The session's clock as stored now (not cached)."""
        documents.check_session(session)
        with self.transaction() as cursor:
            return _read_clock(cursor, self._context.sql.read_clock, session)

    def move_clock(
        self, session: str = DEFAULT_SESSION, *, advance: float = 0.0, freeze: bool | None = None
    ) -> ClockState:
        """Move the session's clock on by ``advance`` seconds, and freeze or unfreeze it."""
        documents.check_session(session)
        with self.transaction(write=True) as cursor:
            state = _read_clock(cursor, self._context.sql.read_clock, session)
            if freeze is True:
                state = state.frozen()
            state = state.advanced(advance)
            if freeze is False:
                state = state.unfrozen()
            cursor.execute(
                self._compiled(delete(CLOCKS).where(CLOCKS.c.session == sa.bindparam("s"))), {"s": session}
            )
            row = {"session": session, "offset_us": state.offset_us, "frozen_us": state.frozen_us}
            cursor.execute(self._compiled(sa.insert(CLOCKS).values({c: sa.bindparam(c) for c in row})), row)
        self._context.clocks.put(session, state)
        return state

    # -- faults -------------------------------------------------------------------------

    def faults(self, session: str | None = None) -> list[dict[str, Any]]:
        """The faults set through the store: ``{"session", "target", "config"}``, by session and target."""
        statement = select(FAULTS).order_by(FAULTS.c.session, FAULTS.c.target)
        if session is not None:
            statement = statement.where(FAULTS.c.session == sa.bindparam("s"))
        with self.transaction() as cursor:
            cursor.execute(self._compiled(statement), {"s": session} if session is not None else {})
            rows = cursor.fetchall()
        return [{"session": row[0], "target": row[1], "config": json.loads(row[2])} for row in rows]

    def set_fault(self, session: str, target: str, config: Mapping[str, Any] | None) -> None:
        """Set (or, ``None``, remove) the fault of ``target`` in ``session``."""
        documents.check_session(session)
        remove = delete(FAULTS).where(
            FAULTS.c.session == sa.bindparam("s"), FAULTS.c.target == sa.bindparam("t")
        )
        with self.transaction(write=True) as cursor:
            cursor.execute(self._compiled(remove), {"s": session, "t": target})
            if config is not None:
                row = {"session": session, "target": target, "config": json.dumps(dict(config))}
                cursor.execute(
                    self._compiled(sa.insert(FAULTS).values({c: sa.bindparam(c) for c in row})), row
                )

    # -- whole state ----------------------------------------------------------------------

    def reset(self, collection: str | None = None, *, session: str | None = None) -> None:
        """Forget records and restart counters.

        With ``collection``: its records and ids, and the counter of the same name if any.
        Without: every record and counter, the journal, the clock and the faults set through
        the admin API. ``session`` limits it to one session; without, every session.
        """
        if session is not None:
            documents.check_session(session)
        if collection is not None:
            documents.check_name(collection, "collection")
        tables: list[tuple[sa.Table, str | None]] = [
            (FIELDS, "collection"),
            (RECORDS, "collection"),
            (COLLECTIONS, "name"),
            (COUNTERS, "name"),
        ]
        if collection is None:
            tables += [(CLOCKS, None), (FAULTS, None), (JOURNAL, None)]
        parameters = {"s": session, "c": collection}
        with self.transaction(write=True) as cursor:
            for table, name_column in tables:
                statement = delete(table)
                if session is not None:
                    statement = statement.where(table.c.session == sa.bindparam("s"))
                if collection is not None and name_column is not None:
                    statement = statement.where(table.c[name_column] == sa.bindparam("c"))
                cursor.execute(self._compiled(statement), parameters)
        self._context.clocks.forget(session)

    def sessions(self) -> list[str]:
        """Every session that holds counters, records, a clock or journal entries, by name."""
        union = sa.union(*(select(table.c.session) for table in (COUNTERS, COLLECTIONS, CLOCKS, JOURNAL)))
        with self.transaction() as cursor:
            cursor.execute(self._compiled(union))
            return sorted({row[0] for row in cursor.fetchall()})

    def snapshot(self, session: str = DEFAULT_SESSION) -> dict[str, Any]:
        """``{"session", "counters": {name: last value}, "collections": {name: size}}``, by name."""
        documents.check_session(session)
        counters = select(COUNTERS.c.name, COUNTERS.c.value).where(COUNTERS.c.session == sa.bindparam("s"))
        sizes = select(COLLECTIONS.c.name, COLLECTIONS.c.size).where(
            COLLECTIONS.c.session == sa.bindparam("s"), COLLECTIONS.c.size > sa.literal_column("0")
        )
        with self.transaction(snapshot=True) as cursor:
            cursor.execute(self._compiled(counters.order_by(COUNTERS.c.name)), {"s": session})
            counter_rows = cursor.fetchall()
            cursor.execute(self._compiled(sizes.order_by(COLLECTIONS.c.name)), {"s": session})
            size_rows = cursor.fetchall()
        return {
            "session": session,
            "counters": {name: int(value) for name, value in counter_rows},
            "collections": {name: int(size) for name, size in size_rows},
        }

    def export(self, session: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
        """The whole state (or one session's) as one JSON document: see :func:`transfer.export`."""
        return transfer.export(self, session, progress)

    def import_(self, document: Mapping[str, Any], progress: Progress | None = None) -> int:
        """Replace every counter and record by those of a document: see :func:`transfer.import_`."""
        count = transfer.import_(self, document, progress)
        self._context.clocks.forget()
        return count

    def compiled(self, statement: sa.ClauseElement) -> str:
        """``statement`` as SQL text for this store's database (for :mod:`pactstub.state.transfer`)."""
        return self._compiled(statement)


def _quietly_rollback(connection: Any) -> None:
    if connection is None:
        return
    try:
        connection.rollback()
    except Exception:
        connection.invalidate()


def _read_clock(cursor: Any, statement: str, session: str) -> ClockState:
    cursor.execute(statement, {"session": session})
    row = cursor.fetchone()
    return ClockState() if row is None else ClockState(int(row[0]), None if row[1] is None else int(row[1]))
