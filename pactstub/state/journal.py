"""The journal's table: every worker and server sharing a store writes to and reads one journal.

Entries arrive in batches (the app writes them from a background thread, see
:mod:`pactstub.journal`), each batch one transaction. The journal is held to a number
of rows and of bytes: after a batch, the oldest entries beyond either bound are
deleted. Filters are columns (session, matched, status, interaction, time); the rest
of an entry is one JSON document, returned as it was written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.pool import StaticPool

from pactstub import jsontext
from pactstub.state import sql
from pactstub.state.models import JOURNAL
from pactstub.state.store import Store

__all__ = ["JournalFilter", "JournalRow", "JournalTable"]


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One entry to write: the filterable columns and the JSON document of the rest."""

    session: str
    at_us: int
    status: int
    problem: str | None
    interaction: str | None
    duration_ms: float
    entry: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Which entries to read; ``None`` is "any"."""

    session: str | None = None
    #: ``True``: answered by an interaction without a problem; ``False``: the others
    matched: bool | None = None
    status: int | None = None
    interaction: str | None = None
    since_us: int | None = None
    after_id: int | None = None
    #: only entries before this sequence number (with ``after_id``, a window; one entry: both around it)
    before_id: int | None = None
    limit: int | None = None


def _compiled(statement: sa.ClauseElement, dialect: str) -> str:
    return str(statement.compile(dialect=sql.DIALECTS[dialect]()))


class JournalTable:
    """The journal of one store, bounded to ``rows`` entries and ``max_bytes`` of entry text."""

    def __init__(self, store: Store, rows: int, max_bytes: int) -> None:
        self._store = store
        self.rows = rows
        self.max_bytes = max_bytes
        #: whether other processes may write to it too (a file or a server, not memory)
        self.shared = not isinstance(store.engine.pool, StaticPool)
        dialect = store.engine.dialect.name
        columns: dict[str, Any] = {c.name: bindparam(c.name) for c in JOURNAL.c if c.name != "id"}
        self._insert = _compiled(sa.insert(JOURNAL).values(columns), dialect)
        self._newest = _compiled(
            select(JOURNAL.c.id, JOURNAL.c.size)
            .order_by(JOURNAL.c.id.desc())
            .limit(bindparam("n"))
            .offset(bindparam("skip")),
            dialect,
        )
        self._trim = _compiled(delete(JOURNAL).where(JOURNAL.c.id < bindparam("keep_from")), dialect)
        self._totals = _compiled(
            select(func.count(), func.coalesce(func.sum(JOURNAL.c.size), sa.literal_column("0"))), dialect
        )
        self._dialect = dialect

    def append(self, entries: Sequence[JournalRow]) -> None:
        """Write a batch in one transaction, then trim the journal to its bounds."""
        rows = []
        for entry in entries:
            text = jsontext.dumps(entry.entry)
            rows.append(
                {
                    "session": entry.session,
                    "at_us": entry.at_us,
                    "status": entry.status,
                    "problem": entry.problem,
                    "interaction": entry.interaction,
                    "duration_ms": entry.duration_ms,
                    "size": len(text),
                    "entry": text,
                }
            )
        if not rows:
            return
        with self._store.transaction(write=True) as cursor:
            cursor.executemany(self._insert, rows)
            self._trim_to_bounds(cursor)

    def _trim_to_bounds(self, cursor: Any) -> None:
        """Delete the oldest entries past ``rows`` or past ``max_bytes`` (newest kept)."""
        cursor.execute(self._newest, {"n": self.rows + 1, "skip": 0})
        newest = cursor.fetchall()
        keep_from: int | None = None
        if len(newest) > self.rows:
            keep_from = int(newest[self.rows - 1][0]) if self.rows else int(newest[0][0]) + 1
        total = 0
        for index, (entry_id, size) in enumerate(newest[: self.rows]):
            total += int(size)
            if total > self.max_bytes and index > 0:
                keep_from = max(keep_from or 0, int(entry_id) + 1)
                break
        if keep_from is not None:
            cursor.execute(self._trim, {"keep_from": keep_from})

    def read(self, selection: JournalFilter) -> list[tuple[int, dict[str, Any]]]:
        """``(id, entry document)`` of the entries selected, oldest first (the newest ``limit``)."""
        statement = select(JOURNAL.c.id, JOURNAL.c.session, JOURNAL.c.at_us, JOURNAL.c.entry)
        parameters: dict[str, Any] = {}
        if selection.matched is not None:
            problem = JOURNAL.c.problem
            statement = statement.where(problem.is_(None) if selection.matched else problem.is_not(None))
        for column, value in (
            (JOURNAL.c.session, selection.session),
            (JOURNAL.c.status, selection.status),
            (JOURNAL.c.interaction, selection.interaction),
        ):
            if value is not None:
                statement = statement.where(column == bindparam(column.name))
                parameters[column.name] = value
        if selection.since_us is not None:
            statement = statement.where(JOURNAL.c.at_us >= bindparam("since_us"))
            parameters["since_us"] = selection.since_us
        if selection.after_id is not None:
            statement = statement.where(JOURNAL.c.id > bindparam("after_id"))
            parameters["after_id"] = selection.after_id
        if selection.before_id is not None:
            statement = statement.where(JOURNAL.c.id < bindparam("before_id"))
            parameters["before_id"] = selection.before_id
        statement = statement.order_by(JOURNAL.c.id.desc())
        if selection.limit is not None:
            statement = statement.limit(bindparam("limit")).offset(bindparam("skip"))
            parameters.update(limit=selection.limit, skip=0)
        with self._store.transaction() as cursor:
            cursor.execute(_compiled(statement, self._dialect), parameters)
            rows = cursor.fetchall()
        found = []
        for entry_id, session, at_us, text in reversed(rows):
            document = json.loads(text)
            document.update({"sequence": int(entry_id), "session": session, "at_us": int(at_us)})
            found.append((int(entry_id), document))
        return found

    def clear(self, session: str | None = None) -> None:
        statement = delete(JOURNAL)
        if session is not None:
            statement = statement.where(JOURNAL.c.session == bindparam("session"))
        with self._store.transaction(write=True) as cursor:
            cursor.execute(_compiled(statement, self._dialect), {"session": session} if session else {})

    def totals(self) -> tuple[int, int]:
        """How many entries the journal holds, and how many bytes of entry text."""
        with self._store.transaction() as cursor:
            cursor.execute(self._totals)
            count, size = cursor.fetchone()
        return int(count), int(size)
