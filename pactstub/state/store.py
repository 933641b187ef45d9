"""Counters and records that survive restarts and are shared by every worker and server.

A stub that hands out ids (``jobs`` from 123, ``runs`` from 978) must never hand out
one twice: not between threads, gunicorn workers, servers on one PostgreSQL database,
nor after a crash of pactstub. So every counter bump is committed before its value
leaves pactstub, in a unit of work (:mod:`pactstub.state.unit`) on an engine set up
for each dialect's concurrency and durability rules (:mod:`pactstub.state.engine`).

:class:`Store` is the face of all that: one-call counters and records (each a unit
of one statement), :meth:`Store.unit` for a template render's several, and the
whole-state operations (reset, snapshot, export, import), each one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from pactstub.state import documents
from pactstub.state import migrate as migrations
from pactstub.state.engine import DEFAULT_URL, WRITE_OPTION, DatabaseSettings, create_engine
from pactstub.state.models import COUNTERS, RECORDS
from pactstub.state.unit import Record, UnitOfWork, database_error

__all__ = [
    "DEFAULT_URL",
    "DatabaseSettings",
    "Record",
    "StateDocumentError",
    "Store",
    "UnitOfWork",
    "create_engine",
]

StateDocumentError = documents.StateDocumentError


class Store:
    """The counter and record store on one database; safe to share between threads.

    Raises :class:`~pactstub.errors.StoreError` for anything the database refuses and
    :class:`~pactstub.errors.ConfigError` for settings it cannot use.
    """

    def __init__(self, settings: DatabaseSettings | str = DEFAULT_URL, *, migrate: bool = True) -> None:
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
        return UnitOfWork(self._engine, self.settings.safe_url(), self._lock, self._write_lock)

    @contextmanager
    def _transaction(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Connection]:
        """One transaction for a whole-state operation; ``snapshot`` reads one consistent state."""
        with self._lock, self._write_lock if write else nullcontext():
            try:
                with self._engine.connect() as connection:
                    if write:
                        connection.execution_options(**{WRITE_OPTION: True})
                    with connection.begin():
                        if snapshot and connection.dialect.name == "postgresql":
                            # For this transaction only: sessions are READ COMMITTED (engine.py).
                            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        yield connection
            except SQLAlchemyError as error:
                raise database_error(self.settings.safe_url(), error) from error

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
                connection.execute(delete(RECORDS))
                connection.execute(delete(COUNTERS))
            else:
                connection.execute(delete(RECORDS).where(RECORDS.c.collection == collection))
                connection.execute(delete(COUNTERS).where(COUNTERS.c.name == collection))

    def snapshot(self) -> dict[str, Any]:
        """``{"counters": {name: last value}, "collections": {name: size}}``, by name."""
        with self._transaction(snapshot=True) as connection:
            counters = connection.execute(select(COUNTERS).order_by(COUNTERS.c.name)).all()
            sizes = connection.execute(
                select(RECORDS.c.collection, func.count())
                .group_by(RECORDS.c.collection)
                .order_by(RECORDS.c.collection)
            ).all()
        return {
            "counters": {row.name: int(row.value) for row in counters},
            "collections": {name: int(size) for name, size in sizes},
        }

    def export(self) -> dict[str, Any]:
        """The whole state as one JSON document, read as one consistent snapshot."""
        with self._transaction(snapshot=True) as connection:
            counters = connection.execute(select(COUNTERS).order_by(COUNTERS.c.name)).all()
            records = connection.execute(select(RECORDS).order_by(RECORDS.c.id)).all()
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
            connection.execute(delete(RECORDS))
            connection.execute(delete(COUNTERS))
            if counters:
                rows = [{"name": name, "value": value} for name, value in counters.items()]
                connection.execute(sa.insert(COUNTERS), rows)
            if records:
                connection.execute(sa.insert(RECORDS), records)
            if connection.dialect.name == "postgresql":
                # Explicit ids do not advance the sequence; never hand out an imported id again.
                connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('pactstub_records', 'id'), "
                        "GREATEST((SELECT COALESCE(MAX(id), 0) FROM pactstub_records), "
                        "nextval(pg_get_serial_sequence('pactstub_records', 'id'))))"
                    )
                )
