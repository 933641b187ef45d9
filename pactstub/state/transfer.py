"""The whole state as one JSON document, out and in: ``pactstub state export|import``.

Export reads one consistent snapshot; import checks the whole document first
(:func:`pactstub.state.documents.parse`), then replaces everything in one transaction,
writing records and their index entries in batches, so a large store moves in bounded
memory per batch and a bad document changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import delete, select

from pactstub.state import documents, sql
from pactstub.state.keys import field_key, value_key
from pactstub.state.models import COLLECTIONS, COUNTERS, FIELDS, RECORDS

__all__ = ["Progress", "Tables", "export", "import_"]

#: ``progress(done, total)``, told how far an export or import has got.
Progress = Callable[[int, int], None]


class Tables(Protocol):
    """What moving the whole state needs of a store (:class:`pactstub.state.store.Store` has it)."""

    @property
    def engine(self) -> sa.Engine: ...

    def transaction(self, *, write: bool = False, snapshot: bool = False) -> AbstractContextManager[Any]: ...

    def compiled(self, statement: sa.ClauseElement) -> str: ...


#: Rows per statement when importing (bounded so huge imports do not build huge batches).
_BATCH = 2000


def export(store: Tables, session: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The whole state (or one session's) as one JSON document, read as one snapshot.

    ``progress(records read, records in all)`` is called as the records are read.
    """
    where = {"s": session}

    def of(statement: Any, table: sa.Table) -> Any:
        return statement.where(table.c.session == sa.bindparam("s")) if session is not None else statement

    counters = of(select(COUNTERS), COUNTERS).order_by(COUNTERS.c.session, COUNTERS.c.name)
    records = of(
        select(RECORDS.c.session, RECORDS.c.collection, RECORDS.c.id, RECORDS.c.data,
               RECORDS.c.created_us, RECORDS.c.updated_us),
        RECORDS,
    ).order_by(RECORDS.c.session, RECORDS.c.collection, RECORDS.c.id)  # fmt: skip
    size = of(select(sa.func.count()).select_from(RECORDS), RECORDS)
    exported: list[dict[str, Any]] = []
    with store.transaction(snapshot=True) as cursor:
        cursor.execute(store.compiled(counters), where)
        counter_rows = cursor.fetchall()
        cursor.execute(store.compiled(size), where)
        total = int(cursor.fetchone()[0])
        cursor.execute(store.compiled(records), where)
        while batch := cursor.fetchmany(_BATCH):
            exported.extend(
                {
                    "session": s,
                    "collection": c,
                    "id": int(i),
                    "data": json.loads(d),
                    "created_at": documents.isoformat(int(created)),
                    "updated_at": documents.isoformat(int(updated)),
                }
                for s, c, i, d, created, updated in batch
            )
            if progress is not None:
                progress(len(exported), total)
    return {
        "version": documents.FORMAT_VERSION,
        "counters": [{"session": s, "name": n, "value": int(v)} for s, n, v in counter_rows],
        "records": exported,
    }


def import_(store: Tables, document: Mapping[str, Any], progress: Progress | None = None) -> int:
    """Replace every counter and record by those of an :func:`export` document.

    The document is checked completely before anything is written, and the
    replacement is one transaction: a bad document changes nothing. Returns how
    many records were imported. ``progress(rows written, rows in all)`` is called as
    the records and their index entries are written.
    """
    rows = documents.parse(document)
    collections: dict[tuple[str, str], list[int]] = {}
    for row in rows.records:
        stats = collections.setdefault((row["session"], row["collection"]), [0, 0])
        stats[0], stats[1] = max(stats[0], row["id"]), stats[1] + 1
    with store.transaction(write=True) as cursor:
        for table in (FIELDS, RECORDS, COLLECTIONS, COUNTERS):
            cursor.execute(store.compiled(delete(table)))
        _insert_all(store, cursor, COUNTERS, rows.counters)
        _insert_all(
            store,
            cursor,
            COLLECTIONS,
            [
                {"session": s, "name": name, "last_id": last, "size": size}
                for (s, name), (last, size) in collections.items()
            ],
        )
        total = len(rows.records) + sum(len(row["stored"].data) for row in rows.records)
        done = 0

        def written(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        _insert_all(store, cursor, RECORDS, _record_rows(rows.records), written)
        _insert_all(store, cursor, FIELDS, _field_rows(rows.records), written)
    if store.engine.dialect.name == "postgresql":
        # Statistics of the tables as they now are: planned with an empty table's, a lookup by
        # field joined the collection's records by scanning them, 4x slower at 100k records
        # until autovacuum caught up (``bench/store_scaling.py`` measures right after an import).
        with store.transaction() as cursor:
            cursor.execute(f"ANALYZE {RECORDS.name}, {FIELDS.name}, {COLLECTIONS.name}")
    return len(rows.records)


def _insert_all(
    store: Tables,
    cursor: Any,
    table: sa.Table,
    rows: Iterable[Mapping[str, Any]],
    written: Callable[[int], None] = lambda count: None,
) -> None:
    statement = store.compiled(sa.insert(table).values({c.name: sa.bindparam(c.name) for c in table.c}))
    dialect = store.engine.dialect.name
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            sql.execute_many(dialect, cursor, statement, batch)
            written(len(batch))
            batch = []
    if batch:
        sql.execute_many(dialect, cursor, statement, batch)
        written(len(batch))


def _record_rows(records: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in records:
        yield {
            "session": row["session"],
            "collection": row["collection"],
            "id": row["id"],
            "data": row["stored"].text,
            "created_us": row["created_us"],
            "updated_us": row["updated_us"],
            "stage_reads": 0,
            "stage_since_us": row["updated_us"],
        }


def _field_rows(records: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in records:
        for name, value in row["stored"].data.items():
            yield {
                "session": row["session"],
                "collection": row["collection"],
                "field": field_key(name),
                "key": value_key(value),
                "id": row["id"],
            }
