"""The store's statements: built with SQLAlchemy Core, compiled once per dialect, run on the driver.

A templated request runs a handful of short statements. Executing them through
SQLAlchemy's ``Connection.execute`` cost about 15 µs each on top of the driver (cache
key, parameter processing, result wrapping: a counter bump plus an insert in one
transaction took 1.6 to 2.2 times as long as on the sqlite3 cursor; ``python -m
bench.store_scaling --compare-execution`` measures it). So the statements of the hot path are compiled here
to SQL text once per dialect (named parameters on both: ``:name`` for sqlite3,
``%(name)s`` for psycopg2) and run on the pooled DBAPI connection. They stay SQLAlchemy
statements, rendered by the dialects, so no SQL is written twice by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from pactstub.state.models import CLOCKS, COLLECTIONS, COUNTERS, FIELDS, RECORDS

__all__ = [
    "COLUMN_ORDER",
    "DIALECTS",
    "RECORD_COLUMNS",
    "OrderBy",
    "Statements",
    "execute_many",
    "find_sql",
    "missing_field_sql",
    "statements",
]

Dialect_ = Literal["sqlite", "postgresql"]

#: The dialects, with the named parameter style the statements are written in.
DIALECTS: dict[str, Callable[[], Dialect]] = {
    "sqlite": functools.partial(sqlite.pysqlite.dialect, paramstyle="named"),
    "postgresql": postgresql.psycopg2.dialect,
}

#: What a record read returns, in this order (see ``unit.RecordState``).
RECORD_COLUMNS = (
    RECORDS.c.id,
    RECORDS.c.data,
    RECORDS.c.created_us,
    RECORDS.c.updated_us,
    RECORDS.c.stage_reads,
    RECORDS.c.stage_since_us,
)


def execute_many(dialect: str, cursor: Any, statement: str, rows: Sequence[Any]) -> None:
    """One statement for many rows, in few round trips.

    psycopg2's ``executemany`` is a round trip per row; its ``execute_batch`` sends a
    thousand at once (a record's index entries in one round trip; an import of 100,000
    records in seconds rather than minutes).
    """
    if dialect == "postgresql":
        from psycopg2.extras import execute_batch

        execute_batch(cursor, statement, rows, page_size=1000)
    else:
        cursor.executemany(statement, rows)


_SESSION: sa.BindParameter[Any] = bindparam("session")
_ONE: sa.ColumnClause[Any] = literal_column("1")


def _of(table: sa.Table, name_column: str = "name") -> Any:
    return sa.and_(table.c.session == _SESSION, table.c[name_column] == bindparam("name"))


def _record(collection: str = "collection") -> Any:
    return sa.and_(
        RECORDS.c.session == _SESSION,
        RECORDS.c.collection == bindparam(collection),
        RECORDS.c.id == bindparam("id"),
    )


def _insert(dialect: str) -> Any:
    return sqlite.insert if dialect == "sqlite" else postgresql.insert


def _compile(statement: sa.ClauseElement, dialect: str) -> str:
    return str(statement.compile(dialect=DIALECTS[dialect]()))


@dataclass(frozen=True, slots=True)
class Statements:
    """The SQL text of every fixed statement of the store, for one dialect."""

    bump_counter: str
    create_counter: str
    peek_counter: str
    next_record_id: str
    take_record_id: str
    create_collection: str
    shrink_collection: str
    insert_record: str
    get_record: str
    update_record: str
    delete_record: str
    insert_field: str
    delete_field: str
    collection_size: str
    read_clock: str


@functools.cache
def statements(dialect: str) -> Statements:
    """Every fixed statement compiled for ``dialect`` (``sqlite`` or ``postgresql``)."""
    insert = _insert(dialect)
    collections = COLLECTIONS.c
    sql = {
        "bump_counter": sa.update(COUNTERS)
        .where(_of(COUNTERS))
        .values(value=COUNTERS.c.value + _ONE)
        .returning(COUNTERS.c.value),
        "create_counter": insert(COUNTERS)
        .values(session=_SESSION, name=bindparam("name"), value=bindparam("value"))
        .on_conflict_do_nothing(index_elements=["session", "name"])
        .returning(COUNTERS.c.value),
        "peek_counter": select(COUNTERS.c.value).where(_of(COUNTERS)),
        # a record saved without an id takes the next one; with an id, ids stay above it
        "next_record_id": sa.update(COLLECTIONS)
        .where(_of(COLLECTIONS))
        .values(last_id=collections.last_id + _ONE, size=collections.size + _ONE)
        .returning(collections.last_id),
        "take_record_id": sa.update(COLLECTIONS)
        .where(_of(COLLECTIONS))
        .values(
            last_id=sa.case(
                (collections.last_id < bindparam("id"), bindparam("id")), else_=collections.last_id
            ),
            size=collections.size + _ONE,
        )
        .returning(collections.last_id),
        "create_collection": insert(COLLECTIONS)
        .values(session=_SESSION, name=bindparam("name"), last_id=bindparam("id"), size=_ONE)
        .on_conflict_do_nothing(index_elements=["session", "name"])
        .returning(collections.last_id),
        "shrink_collection": sa.update(COLLECTIONS)
        .where(_of(COLLECTIONS))
        .values(size=collections.size - bindparam("count")),
        "insert_record": insert(RECORDS)
        .values(
            session=_SESSION,
            collection=bindparam("collection"),
            id=bindparam("id"),
            data=bindparam("data"),
            created_us=bindparam("now"),
            updated_us=bindparam("now"),
            stage_reads=literal_column("0"),
            stage_since_us=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["session", "collection", "id"]),
        "get_record": select(*RECORD_COLUMNS).where(_record()),
        "update_record": sa.update(RECORDS)
        .where(_record())
        .values(
            data=bindparam("data"),
            updated_us=bindparam("now"),
            stage_reads=bindparam("stage_reads"),
            stage_since_us=bindparam("stage_since_us"),
        ),
        "delete_record": sa.delete(RECORDS).where(_record()).returning(RECORDS.c.data),
        "insert_field": sa.insert(FIELDS).values(
            session=_SESSION,
            collection=bindparam("collection"),
            field=bindparam("field"),
            key=bindparam("key"),
            id=bindparam("id"),
        ),
        "delete_field": sa.delete(FIELDS).where(
            FIELDS.c.session == _SESSION,
            FIELDS.c.collection == bindparam("collection"),
            FIELDS.c.field == bindparam("field"),
            FIELDS.c.key == bindparam("key"),
            FIELDS.c.id == bindparam("id"),
        ),
        "collection_size": select(collections.size).where(_of(COLLECTIONS)),
        "read_clock": select(CLOCKS.c.offset_us, CLOCKS.c.frozen_us).where(CLOCKS.c.session == _SESSION),
    }
    return Statements(**{name: _compile(statement, dialect) for name, statement in sql.items()})


OrderBy = tuple[str, bool] | None
"""``(field key, descending)`` for a data field, ``(COLUMN_ORDER key, descending)`` for a record column."""

#: Orderings by a column of the record itself rather than by a field of its data.
COLUMN_ORDER: dict[str, sa.Column[Any]] = {
    "\x00id": RECORDS.c.id,
    "\x00created": RECORDS.c.created_us,
    "\x00updated": RECORDS.c.updated_us,
}


@functools.lru_cache(maxsize=512)
def find_sql(dialect: str, fields: int, order: OrderBy, window: bool, count: bool, lock: bool) -> str:
    """A query over a collection's records whose ``fields`` index entries all match.

    Parameters: ``session``, ``collection``, ``f{i}``/``k{i}`` for each field's name and
    key, ``order_field`` when ordering by a field, ``limit``/``offset`` with ``window``.
    With ``count`` it counts instead. With no fields it reads the collection by id.
    Ordering by a field keeps to the records that have it (the caller reads the rest
    after them, see ``unit.find``); ordering by a record column needs no index entry.
    ``lock`` (PostgreSQL) locks the records read, for a lifecycle that will advance them.

    The first field's index entries drive the query and give the id order (``ORDER BY
    f0.id``): ordered by ``pactstub_records.id`` instead, SQLite without statistics
    preferred to walk the whole collection in id order and probe the index per record,
    a scan that grew with the collection (``bench/store_scaling.py``).
    """
    entries = [FIELDS.alias(f"f{index}") for index in range(fields)]
    conditions: list[Any] = []
    for index, entry in enumerate(entries):
        conditions += [
            entry.c.session == _SESSION,
            entry.c.collection == bindparam("collection"),
            entry.c.field == bindparam(f"f{index}"),
            entry.c.key == bindparam(f"k{index}"),
        ]
        if index:
            conditions.append(entry.c.id == entries[0].c.id)
    if count and entries:
        return _compile(select(func.count()).select_from(entries[0]).where(*conditions), dialect)
    ids = entries[0].c.id if entries else RECORDS.c.id
    joins: Any = entries[0] if entries else RECORDS
    for entry in entries[1:]:
        joins = joins.join(entry, entry.c.id == ids)
    if entries:
        joins = joins.join(
            RECORDS,
            sa.and_(
                RECORDS.c.session == _SESSION,
                RECORDS.c.collection == bindparam("collection"),
                RECORDS.c.id == ids,
            ),
        )
    else:
        conditions += [RECORDS.c.session == _SESSION, RECORDS.c.collection == bindparam("collection")]
    ordering: list[Any] = []
    descending = bool(order and order[1])
    column = COLUMN_ORDER.get(order[0]) if order is not None else None
    if column is not None and column is not RECORDS.c.id:
        ordering.append(column.desc() if descending else column)
    elif order is not None and column is None:
        if entries:
            raise ValueError("filtered records are ordered by a field in Python (see unit.find)")
        # The order field's index gives the order, so a LIMIT reads only the first entries;
        # the records without the field come after them (``unit.find``).
        sort = FIELDS.alias("sort")
        matching = sa.and_(
            sort.c.session == _SESSION,
            sort.c.collection == bindparam("collection"),
            sort.c.field == bindparam("order_field"),
            sort.c.id == ids,
        )
        joins = joins.join(sort, matching)
        ids = sort.c.id
        ordering.append(sort.c.key.desc() if descending else sort.c.key)
    ordering.append(ids.desc() if descending else ids)
    if count:
        return _compile(select(func.count()).select_from(joins).where(*conditions), dialect)
    statement: Any = select(*RECORD_COLUMNS).select_from(joins).where(*conditions).order_by(*ordering)
    if window:
        statement = statement.limit(bindparam("limit")).offset(bindparam("offset"))
    if lock and dialect == "postgresql":
        statement = statement.with_for_update(of=RECORDS)
    return _compile(statement, dialect)


@functools.lru_cache(maxsize=16)
def missing_field_sql(dialect: str, descending: bool, window: bool, lock: bool) -> str:
    """The collection's records without the ``order_field`` field, by id (listed after the others).

    One pass over the field's index entries and one over the collection (an uncorrelated
    ``NOT IN``), read only when the records that have the field did not fill the page.
    """
    having = select(FIELDS.c.id).where(
        FIELDS.c.session == _SESSION,
        FIELDS.c.collection == bindparam("collection"),
        FIELDS.c.field == bindparam("order_field"),
    )
    statement: Any = (
        select(*RECORD_COLUMNS)
        .where(
            RECORDS.c.session == _SESSION,
            RECORDS.c.collection == bindparam("collection"),
            RECORDS.c.id.not_in(having),
        )
        .order_by(RECORDS.c.id.desc() if descending else RECORDS.c.id)
    )
    if window:
        statement = statement.limit(bindparam("limit")).offset(bindparam("offset"))
    if lock and dialect == "postgresql":
        statement = statement.with_for_update(of=RECORDS)
    return _compile(statement, dialect)
