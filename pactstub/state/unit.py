"""The unit of work: the reads and writes of one template render, committed together.

Everything but the whole-state operations goes through a :class:`UnitOfWork`: one
connection, taken on its first statement. Reads before its first write need no
transaction of their own (SQLite: no ``BEGIN`` at all, a statement in autocommit
mode; PostgreSQL: an autocommit connection), so a lookup costs one statement. The
first write opens the write transaction, which then holds every later read and
write of the unit, and :meth:`UnitOfWork.commit` ends it: a render's writes land
together or, if the template fails, not at all. Counter values taken in a unit
that is rolled back were never handed out, and are handed out again.

A counter is one row, bumped with a single ``UPDATE ... SET value = value + 1
RETURNING value``, and created on first use by ``INSERT ... ON CONFLICT DO
NOTHING`` so that two processes creating it at once both succeed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError

from pactstub.errors import DatabaseError, StoreError
from pactstub.state import documents
from pactstub.state.engine import READ_OPTION, WRITE_OPTION
from pactstub.state.migrate import describe_error
from pactstub.state.models import COUNTERS, RECORDS

__all__ = ["Record", "UnitOfWork", "database_error"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Record:
    """One stored JSON document; ``id`` orders a collection by insertion."""

    collection: str
    id: int
    data: dict[str, Any]
    created_at: datetime


def database_error(where: str, error: SQLAlchemyError) -> DatabaseError:
    """What the database refused, naming it by ``where`` (a URL without password)."""
    return DatabaseError(f"database {where}: {describe_error(error)}")


# Statements built once; only their parameters change (building and cache-keying a
# statement per call was a visible share of a templated request).
_BUMP = (
    update(COUNTERS)
    .where(COUNTERS.c.name == bindparam("counter"))
    .values(value=COUNTERS.c.value + 1)
    .returning(COUNTERS.c.value)
)
_PEEK = select(COUNTERS.c.value).where(COUNTERS.c.name == bindparam("counter"))
_SAVE = sa.insert(RECORDS).returning(RECORDS.c.id)
_CREATE = {
    dialect: insert(COUNTERS)
    .values(name=bindparam("counter"), value=bindparam("start"))
    .on_conflict_do_nothing(index_elements=["name"])
    .returning(COUNTERS.c.value)
    for dialect, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


@functools.lru_cache(maxsize=256)
def _find_statement(dialect: str, shape: tuple[int, ...]) -> sa.Select[Any]:
    """The records of ``:collection`` holding, for field ``i``, one of ``:n{i}_{j}`` in their text.

    ``shape`` is the number of needles of each field (:func:`documents.needles`).
    """
    stored = sa.cast(RECORDS.c.data, sa.Text)
    position = func.strpos if dialect == "postgresql" else func.instr
    statement = select(RECORDS).where(RECORDS.c.collection == bindparam("collection"))
    for field, count in enumerate(shape):
        statement = statement.where(
            sa.or_(*(position(stored, bindparam(f"n{field}_{j}")) > 0 for j in range(count)))
        )
    return statement.order_by(RECORDS.c.id)


def _end_autocommit(dbapi_connection: Any) -> None:
    """Back to transactions before a unit's PostgreSQL connection returns to the pool."""
    with suppress(Exception):  # a dropped connection is discarded anyway
        dbapi_connection.autocommit = False


class UnitOfWork:
    """Reads and writes on one connection, written all together or not at all.

    Got from :meth:`Store.unit <pactstub.state.store.Store.unit>`. The connection is
    taken on the first statement; reads before the first write run outside any
    transaction, the first write begins the write transaction (SQLite: ``BEGIN
    IMMEDIATE``) that every later statement joins. :meth:`commit` or :meth:`rollback`
    ends the unit and gives the connection back; as a context manager it commits, or
    rolls back when the block raises. Used by one thread at a time.

    ``lock`` is held while the unit has its connection (the one connection of an
    in-memory database), ``write_lock`` while it writes (SQLite writers of one
    process queue there rather than in SQLite's sleeping busy handler).
    """

    def __init__(
        self,
        engine: Engine,
        where: str,
        lock: AbstractContextManager[Any],
        write_lock: AbstractContextManager[Any],
    ) -> None:
        self._engine = engine
        self._where = where
        self._lock = lock
        self._write_lock = write_lock
        self._held = ExitStack()  # the lock, the connection, the write lock
        self._connection: Connection | None = None
        self._dbapi: DBAPIConnection | None = None
        self._writing = False
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
        try:
            return action(self._begin_write() if write else self._connect())
        except SQLAlchemyError as error:
            raise database_error(self._where, error) from error

    def _connect(self) -> Connection:
        if self._connection is None:
            self._held.enter_context(self._lock)
            try:
                connection = self._held.enter_context(self._engine.connect())
                if connection.dialect.name == "postgresql":
                    # On the driver, not through SQLAlchemy's isolation level: flipping
                    # psycopg2's flag never talks to the server (set_isolation_level may).
                    self._dbapi = connection.connection.dbapi_connection
                    self._dbapi.autocommit = True  # type: ignore[union-attr]
                    self._held.callback(_end_autocommit, self._dbapi)
                else:
                    connection.execution_options(**{READ_OPTION: True})
            except BaseException:
                self._held.close()
                raise
            self._connection = connection
        return self._connection

    def _begin_write(self) -> Connection:
        """The connection, in the unit's write transaction (begun on the first write)."""
        connection = self._connect()
        if not self._writing:
            self._held.enter_context(self._write_lock)
            connection.commit()  # ends the (empty) autobegun read transaction, if any
            if connection.dialect.name == "postgresql":
                self._dbapi.autocommit = False  # type: ignore[union-attr]
            else:
                connection.execution_options(**{READ_OPTION: False, WRITE_OPTION: True})
            connection.begin()
            self._writing = True
        return connection

    def _read(self, statement: sa.Executable, parameters: Mapping[str, Any]) -> list[sa.Row[Any]]:
        def read(connection: Connection) -> list[sa.Row[Any]]:
            rows = list(connection.execute(statement, parameters).all())
            if not self._writing:
                connection.commit()  # no statement: nothing was begun (see READ_OPTION)
            return rows

        return self._run(read, write=False)

    def commit(self) -> None:
        """Make every write of the unit durable and end it (see :mod:`pactstub.state.engine`)."""
        if self._finished:
            return
        try:
            if self._connection is not None and self._writing:
                try:
                    self._connection.commit()
                except SQLAlchemyError as error:
                    raise database_error(self._where, error) from error
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
                    raise database_error(self._where, error) from error
        finally:
            self._end()

    def _end(self) -> None:
        """Give back the connection and the locks; the unit takes no new ones."""
        self._finished = True
        self._connection = self._dbapi = None
        self._held.close()

    # -- counters ---------------------------------------------------------------------

    def next_value(self, counter: str, start: int = 1) -> int:
        """See :meth:`Store.next_value <pactstub.state.store.Store.next_value>`."""
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
        """See :meth:`Store.peek <pactstub.state.store.Store.peek>`."""
        rows = self._read(_PEEK, {"counter": counter})
        return int(rows[0][0]) if rows else None

    # -- records ----------------------------------------------------------------------

    def save(self, collection: str, data: Mapping[str, Any]) -> Record:
        """See :meth:`Store.save <pactstub.state.store.Store.save>`."""
        documents.check_name(collection, "collection")
        document = documents.json_object(data, "data")
        created_at = datetime.now(UTC)
        row = {"collection": collection, "data": document, "created_at": created_at}
        record_id = self._run(lambda connection: connection.execute(_SAVE, row).scalar_one(), write=True)
        return Record(collection, int(record_id), document, created_at)

    def find(self, collection: str, **fields: Any) -> list[Record]:
        """See :meth:`Store.find <pactstub.state.store.Store.find>`."""
        expected = documents.json_object(fields, "fields")
        parameters: dict[str, Any] = {"collection": collection}
        shape: list[int] = []
        for field, (name, value) in enumerate(expected.items()):
            needles = documents.needles(name, value)
            shape.append(len(needles))
            parameters.update({f"n{field}_{j}": needle for j, needle in enumerate(needles)})
        statement = _find_statement(self._engine.dialect.name, tuple(shape))
        return [
            Record(row.collection, int(row.id), row.data, row.created_at)
            for row in self._read(statement, parameters)
            if documents.matches(row.data, expected)
        ]
