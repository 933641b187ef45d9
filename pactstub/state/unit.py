"""The unit of work: the reads and writes of one template render, committed together.

A unit takes one pooled connection on its first statement and runs the statements of
:mod:`pactstub.state.sql` on the driver. Reads before its first write need no
transaction on SQLite (each statement reads a consistent snapshot by itself); the first
write opens the write transaction (``BEGIN IMMEDIATE``, so concurrent writers queue for
the lock up front instead of failing when a read turns into a write), which then holds
every later statement of the unit. PostgreSQL's driver opens a transaction with the
first statement. :meth:`UnitOfWork.commit` ends it: a render's writes land together or,
if the template fails, not at all, and a counter value taken in a unit that is rolled
back was never handed out.

Records live in collections of a session. Every write keeps the field index
(:mod:`pactstub.state.keys`) in step in the same transaction, so a lookup by field
equality, a count, or an ordering by field reads index entries, never the collection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from pactstub.errors import StoreError
from pactstub.state import documents, lifecycle, records, sql
from pactstub.state.clock import ClockState
from pactstub.state.context import SharedRandom, StoreContext
from pactstub.state.documents import DEFAULT_SESSION, MAX_ID
from pactstub.state.engine import failure, one_deadline
from pactstub.state.lifecycle import Lifecycle
from pactstub.state.records import Record, Row

__all__ = ["Record", "StoreContext", "UnitOfWork"]

_T = TypeVar("_T")


class UnitOfWork:
    """Reads and writes on one connection, written all together or not at all.

    Got from :meth:`Store.unit <pactstub.state.store.Store.unit>` for one session. As a
    context manager it commits, or rolls back when the block raises. Used by one thread
    at a time.
    """

    def __init__(self, context: StoreContext, session: str = DEFAULT_SESSION) -> None:
        self._context = context
        self.session = documents.check_session(session)
        self._connection: Any = None
        self._cursor: Any = None
        self._held: list[AbstractContextManager[Any]] = []
        self._writing = False
        self._finished = False
        self._clock: ClockState | None = None
        #: records that entered a lifecycle state, logged once the unit commits
        self._moved: list[lifecycle.Transition] = []

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()

    # -- the connection ---------------------------------------------------------------

    def _hold(self, lock: AbstractContextManager[Any]) -> None:
        lock.__enter__()
        self._held.append(lock)

    def _run(self, action: Callable[[Any], _T], *, write: bool = False) -> _T:
        """``action(cursor)``, in the write transaction if ``write``; driver errors become store errors.

        A connection found dead on the unit's first statement (the database restarted while
        it sat in the pool) is replaced and the statement run again: nothing was done on it.
        """
        if self._finished:
            raise StoreError("this unit of work is already committed or rolled back")
        first = self._cursor is None
        with one_deadline(self._context.engine):  # a database that stops answering is waited for once
            try:
                return self._attempt(action, write)
            except StoreError:
                raise
            except Exception as error:
                if not self._lost(error):
                    raise failure(error, self._context.where) from error
                if not first:
                    raise failure(error, self._context.where) from error
                try:
                    return self._attempt(action, write)
                except StoreError:
                    raise
                except Exception as again:
                    self._lost(again)
                    raise failure(again, self._context.where) from again

    def _attempt(self, action: Callable[[Any], _T], write: bool) -> _T:
        if self._cursor is None:
            self._context.check_open()
            if not self._held:
                self._hold(self._context.lock)
            self._connection = self._context.engine.raw_connection()
            self._cursor = self._connection.cursor()
        if write and not self._writing:
            self._begin_write()
        return action(self._cursor)

    def _lost(self, error: Exception) -> bool:
        """Whether ``error`` means the connection is gone; if so it is discarded (not pooled)."""
        if not self._context.engine.dialect.is_disconnect(error, self._connection, self._cursor):  # type: ignore[arg-type]
            return False
        self._invalidate()
        return True

    def _begin_write(self) -> None:
        self._context.check_file()
        self._hold(self._context.write_lock)
        if self._context.dialect == "sqlite":
            self._cursor.execute("BEGIN IMMEDIATE")
        self._writing = True

    def _invalidate(self) -> None:
        """Discard the connection (the pool opens a new one); the unit starts afresh on its next statement."""
        connection, self._connection, self._cursor = self._connection, None, None
        self._writing = False
        if connection is not None and connection.is_valid:
            connection.invalidate()

    def commit(self) -> None:
        """Make every write of the unit durable and end it."""
        if self._finished:
            return
        try:
            if self._connection is not None:
                self._connection.commit()
        except Exception as error:
            self.rollback()
            raise failure(error, self._context.where) from error
        self._end()
        if self._moved:
            lifecycle.announce(self.session, self._moved)

    def rollback(self) -> None:
        """Forget every write of the unit and end it; counter values taken are free again."""
        if self._finished:
            return
        try:
            if self._connection is not None:
                self._connection.rollback()
        except Exception:  # a dropped connection: it is discarded, and nothing was written
            self._invalidate()
        finally:
            self._end()

    def _end(self) -> None:
        self._finished = True
        try:
            if self._cursor is not None:
                self._cursor.close()
            if self._connection is not None:
                self._connection.close()  # back to the pool
        except Exception:
            pass
        finally:
            self._cursor = self._connection = None
            while self._held:
                self._held.pop().__exit__(None, None, None)

    def _one(self, statement: str, parameters: Mapping[str, Any], *, write: bool = False) -> Any:
        def run(cursor: Any) -> Any:
            cursor.execute(statement, parameters)
            return cursor.fetchone()

        return self._run(run, write=write)

    def _all(self, statement: str, parameters: Mapping[str, Any], *, write: bool = False) -> list[Any]:
        def run(cursor: Any) -> list[Any]:
            cursor.execute(statement, parameters)
            return list(cursor.fetchall())

        return self._run(run, write=write)

    def _many(self, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for many rows: the index entries of a record, in one round trip."""
        if rows:
            dialect = self._context.dialect
            self._run(lambda cursor: sql.execute_many(dialect, cursor, statement, rows), write=True)

    # -- time -------------------------------------------------------------------------

    def clock(self) -> ClockState:
        """The session's clock (read once per unit, and cached across units for a moment)."""
        if self._clock is None:

            def read() -> ClockState:
                row = self._one(self._context.sql.read_clock, {"session": self.session})
                return (
                    ClockState(int(row[0]), None if row[1] is None else int(row[1])) if row else ClockState()
                )

            self._clock = self._context.clocks.get(self.session, read)
        return self._clock

    def now_us(self) -> int:
        """Now on the session's clock, in microseconds since the epoch."""
        return self.clock().now_us()

    # -- counters ---------------------------------------------------------------------

    def next_value(self, counter: str, start: int = 1) -> int:
        """The counter's next value: ``start`` the first time (or after a reset), then one more."""
        documents.check_name(counter, "counter")
        documents.check_int(start, "start")
        names = {"session": self.session, "name": counter}
        statements = self._context.sql
        row = self._one(statements.bump_counter, names, write=True)
        if row is None:
            row = self._one(statements.create_counter, {**names, "value": start}, write=True)
        if row is None:  # another process created it between our two statements
            row = self._one(statements.bump_counter, names, write=True)
        value = int(row[0])
        if value > MAX_ID:
            raise StoreError(f"counter {counter!r} is past {MAX_ID}; reset it")
        return value

    def peek(self, counter: str) -> int | None:
        """The last value handed out, without taking one; ``None`` before the first."""
        row = self._one(self._context.sql.peek_counter, {"session": self.session, "name": counter})
        return None if row is None else int(row[0])

    # -- records: writes ----------------------------------------------------------------

    def save(self, collection: str, data: Mapping[str, Any]) -> Record:
        """Store a JSON object; see :meth:`Store.save <pactstub.state.store.Store.save>`."""
        documents.check_name(collection, "collection")
        document = documents.stored(data).data
        cycle = self._context.lifecycles.get(collection)
        if cycle is not None:
            lifecycle.saved(cycle, document)
        record_id = self._take_id(collection, document.get("id"))
        if "id" not in document:
            document["id"] = record_id
        text = records.text(document)
        now = self.now_us()
        where = {"session": self.session, "collection": collection, "id": record_id}

        def insert(cursor: Any) -> int:
            cursor.execute(self._context.sql.insert_record, {**where, "data": text, "now": now})
            return int(cursor.rowcount)

        if self._run(insert, write=True) != 1:
            raise StoreError(f"collection {collection!r} already has a record with id {record_id}")
        self._index(collection, record_id, records.entries(document), {})
        if cycle is not None:
            self._moved.append(lifecycle.Transition(collection, record_id, None, document.get(cycle.field)))
        return Row(record_id, document, now, now, 0, now).record(collection, self.session)

    def _take_id(self, collection: str, given: Any) -> int:
        """The record's id: the one its ``id`` field gives, else the collection's next."""
        statements = self._context.sql
        names = {"session": self.session, "name": collection}
        explicit = isinstance(given, int) and not isinstance(given, bool) and 1 <= given <= MAX_ID
        if explicit:
            row = self._one(statements.take_record_id, {**names, "id": given}, write=True)
        else:
            row = self._one(statements.next_record_id, names, write=True)
        if row is None:
            row = self._one(
                statements.create_collection, {**names, "id": given if explicit else 1}, write=True
            )
        if row is None:  # created by another process in between
            return self._take_id(collection, given)
        record_id = int(given) if explicit else int(row[0])
        if record_id > MAX_ID:
            raise StoreError(f"collection {collection!r} has no record id left below {MAX_ID}")
        return record_id

    def _index(self, collection: str, record_id: int, new: Mapping[str, str], old: Mapping[str, str]) -> None:
        """Bring the record's index entries from ``old`` to ``new`` (field key -> value key)."""
        base = {"session": self.session, "collection": collection, "id": record_id}
        gone = [{**base, "field": f, "key": k} for f, k in old.items() if new.get(f) != k]
        added = [{**base, "field": f, "key": k} for f, k in new.items() if old.get(f) != k]
        self._many(self._context.sql.delete_field, gone)
        self._many(self._context.sql.insert_field, added)

    def update(
        self, collection: str, record_id: int, changes: Mapping[str, Any], *, replace: bool = False
    ) -> Record | None:
        """Merge ``changes`` into the record (or, ``replace``, make them its data); ``None`` if absent.

        In a collection with a lifecycle, changing the state field moves the record into
        that state (its ``set`` fields applied, its reads and time started again). The
        ``id`` field that names the record cannot change (:class:`StoreError`).
        """
        changed = documents.stored(changes, "changes").data
        found = self._get_row(collection, record_id, lock=True)
        if found is None:
            return None
        before = found.data
        if before.get("id") == record_id and changed.get("id", record_id) != record_id:
            raise StoreError(
                f"record {record_id} of collection {collection!r} keeps its id; "
                f"the changes cannot make it {changed['id']!r}"
            )
        data = dict(changed) if replace else {**before, **changed}
        cycle = self._context.lifecycles.get(collection)
        reads, since = found.stage_reads, found.stage_since_us
        if cycle is not None and lifecycle.updated(cycle, before, data, changed):
            reads, since = 0, self.now_us()
            self._moved.append(
                lifecycle.Transition(collection, record_id, before.get(cycle.field), data[cycle.field])
            )
        found.data = data
        self._write(collection, found, before, reads, since)
        return found.record(collection, self.session)

    def _write(self, collection: str, row: Row, before: Mapping[str, Any], reads: int, since: int) -> None:
        """Store the row's data and lifecycle bookkeeping; ``updated_at`` moves only if the data changed
        (a read that a lifecycle merely counts is no update)."""
        text = documents.stored(row.data).text
        now = self.now_us() if row.data != before else row.updated_us
        parameters = {
            "session": self.session,
            "collection": collection,
            "id": row.id,
            "data": text,
            "now": now,
            "stage_reads": reads,
            "stage_since_us": since,
        }
        self._run(lambda cursor: cursor.execute(self._context.sql.update_record, parameters), write=True)
        self._index(collection, row.id, records.entries(row.data), records.entries(before))
        row.updated_us, row.stage_reads, row.stage_since_us = now, reads, since

    def delete(self, collection: str, record_id: int) -> bool:
        """Forget one record; ``True`` when it existed."""
        where = {"session": self.session, "collection": collection, "id": record_id}
        row = self._one(self._context.sql.delete_record, where, write=True)
        if row is None:
            return False
        self._index(collection, record_id, {}, records.entries(json.loads(row[0])))
        self._run(
            lambda cursor: cursor.execute(
                self._context.sql.shrink_collection,
                {"session": self.session, "name": collection, "count": 1},
            ),
            write=True,
        )
        return True

    # -- records: reads -----------------------------------------------------------------

    def _get_row(self, collection: str, record_id: int, *, lock: bool = False) -> Row | None:
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise StoreError(f"a record id is an integer, not {record_id!r}")
        if not 1 <= record_id <= MAX_ID:
            return None
        statement = self._context.sql.get_record
        if lock and self._context.dialect == "postgresql":
            statement += " FOR UPDATE"
        row = self._one(
            statement, {"session": self.session, "collection": collection, "id": record_id}, write=lock
        )
        return None if row is None else Row.of(row)

    def get(self, collection: str, record_id: int, *, advance: bool = False) -> Record | None:
        """One record by id; ``advance`` counts the read for its lifecycle (templates do)."""
        cycle = self._context.lifecycles.get(collection) if advance else None
        found = self._get_row(collection, record_id, lock=cycle is not None)
        if found is None:
            return None
        return self._advance(collection, cycle, [found])[0]

    def find(
        self,
        collection: str,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        advance: bool = False,
    ) -> list[Record]:
        """Records whose top-level fields equal ``where``'s values, by id or by ``order_by``.

        JSON equality, the same on SQLite and PostgreSQL: ``1`` is not ``"1"`` nor
        ``true``, ``1`` is ``1.0``, objects and arrays compare whole; a field missing from
        a record never matches, not even ``None``. ``order_by`` is a field name, or
        ``"id"``, ``"created_at"``, ``"updated_at"`` for the record's own (those names
        are never a field of the data here), ``-`` in front for descending; records
        without the field come last, by id. The record's times are not indexed: ordering
        by them sorts the matching records.
        """
        keys = records.where_terms(where)
        order = records.order(order_by)
        window = records.window(limit, offset)
        cycle = self._context.lifecycles.get(collection) if advance else None
        parameters: dict[str, Any] = {"session": self.session, "collection": collection}
        for index, (name, key) in enumerate(keys):
            parameters[f"f{index}"], parameters[f"k{index}"] = name, key
        lock = cycle is not None
        dialect = self._context.dialect
        if order is None or order[0] in sql.COLUMN_ORDER:
            statement = sql.find_sql(dialect, len(keys), order, window is not None, False, lock)
            found = [
                Row.of(row) for row in self._all(statement, {**parameters, **(window or {})}, write=lock)
            ]
        elif keys:
            found = self._sorted(parameters, len(keys), order, window, lock)
        else:
            found = [Row.of(row) for row in self._find_by_field(parameters, order, window, lock)]
        return self._advance(collection, cycle, found)

    def _sorted(
        self,
        parameters: dict[str, Any],
        fields: int,
        order: tuple[str, bool],
        window: dict[str, int] | None,
        lock: bool,
    ) -> list[Row]:
        """Filtered and ordered by a field: the matches (found through the filters' index entries)
        sorted here by that field's index key, those without the field last, by id.

        In SQL, either the filters or the order field's entries drive the query; driven by
        the order field, it would walk every record having that field to find a few matches.
        """
        statement = sql.find_sql(self._context.dialect, fields, None, False, False, lock)
        rows = [Row.of(row) for row in self._all(statement, parameters, write=lock)]
        return records.sorted_by(rows, order, window)

    def _find_by_field(
        self,
        parameters: dict[str, Any],
        order: tuple[str, bool],
        window: dict[str, int] | None,
        lock: bool,
    ) -> list[Any]:
        """Ordered by a field: the records that have it in index order, then the rest by id."""
        dialect = self._context.dialect
        parameters = {**parameters, "order_field": order[0]}
        having = sql.find_sql(dialect, 0, order, window is not None, False, lock)
        rows = self._all(having, {**parameters, **(window or {})}, write=lock)
        if window is not None and len(rows) >= window["limit"]:
            return rows
        rest_window: dict[str, int] | None = None
        if window is not None:
            skip = 0
            if not rows and window["offset"]:
                counted = sql.find_sql(dialect, 0, order, False, True, False)
                with_field = int(self._one(counted, parameters)[0])
                skip = max(0, window["offset"] - with_field)
            rest_window = {"limit": window["limit"] - len(rows), "offset": skip}
        missing = sql.missing_field_sql(dialect, order[1], rest_window is not None, lock)
        return rows + self._all(missing, {**parameters, **(rest_window or {})}, write=lock)

    def count(self, collection: str, where: Mapping[str, Any] | None = None) -> int:
        """How many records of the collection have the fields of ``where``."""
        keys = records.where_terms(where)
        if not keys:
            row = self._one(self._context.sql.collection_size, {"session": self.session, "name": collection})
            return 0 if row is None else int(row[0])
        parameters: dict[str, Any] = {"session": self.session, "collection": collection}
        for index, (name, key) in enumerate(keys):
            parameters[f"f{index}"], parameters[f"k{index}"] = name, key
        statement = sql.find_sql(self._context.dialect, len(keys), None, False, True, False)
        return int(self._one(statement, parameters)[0])

    def _advance(self, collection: str, cycle: Lifecycle | None, rows: list[Row]) -> list[Record]:
        """The records as a reader sees them; with a lifecycle, each read counts."""
        if cycle is None:
            return [row.record(collection, self.session) for row in rows]
        records: list[Record] = []
        now = self.now_us()
        for row in rows:
            before = row.data
            progress = lifecycle.read(
                cycle, dict(before), row.stage_reads, row.stage_since_us, now, SharedRandom(self._context)
            )
            if progress.changed:
                row.data = progress.stored
                self._write(collection, row, before, progress.reads, progress.since_us)
                state = cycle.field
                moved = lifecycle.Transition(collection, row.id, before.get(state), row.data.get(state))
                if moved.before != moved.after:
                    self._moved.append(moved)
            records.append(
                Record(
                    collection,
                    row.id,
                    progress.shown,
                    documents.from_micros(row.created_us),
                    documents.from_micros(row.updated_us),
                    self.session,
                )
            )
        return records
