"""Records as the store reads them, and the arguments of a query turned into index terms.

Pure functions and values, no database: a record's index entries (one per top-level
field), the equality terms of a ``where``, the order of ``order_by``, a LIMIT/OFFSET
window, and the ordering of filtered records by a field (done here, see ``sorted_by``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pactstub.errors import StoreError
from pactstub.state import documents
from pactstub.state.documents import DEFAULT_SESSION, MAX_ID
from pactstub.state.keys import field_key, value_key

__all__ = ["Record", "Row", "entries", "order", "sorted_by", "text", "where_terms", "window"]


@dataclass(frozen=True, slots=True)
class Record:
    """One stored JSON object; ``id`` is its id in its collection."""

    collection: str
    id: int
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    session: str = DEFAULT_SESSION


@dataclass(slots=True)
class Row:
    """A record as read, with its lifecycle bookkeeping."""

    id: int
    data: dict[str, Any]
    created_us: int
    updated_us: int
    stage_reads: int
    stage_since_us: int

    @classmethod
    def of(cls, row: Sequence[Any]) -> Row:
        return cls(int(row[0]), json.loads(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]))

    def record(self, collection: str, session: str) -> Record:
        return Record(
            collection,
            self.id,
            self.data,
            documents.from_micros(self.created_us),
            documents.from_micros(self.updated_us),
            session,
        )


def text(document: Mapping[str, Any]) -> str:
    return json.dumps(document)


def entries(data: Mapping[str, Any]) -> dict[str, str]:
    """The index entries of a record: field key -> value key, one per top-level field."""
    return {field_key(name): value_key(value) for name, value in data.items()}


def where_terms(where: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not where:
        return []
    if not isinstance(where, Mapping):
        raise StoreError(f"the fields to find must be a mapping of field name to value, not {where!r}")
    checked = documents.stored(where, "the fields to find").data
    return [(field_key(name), value_key(value)) for name, value in checked.items()]


#: ``order_by`` names that order by the record itself, not a field of its data.
_COLUMNS = {"id": "\x00id", "created_at": "\x00created", "updated_at": "\x00updated"}


def order(order_by: str | None) -> tuple[str, bool] | None:
    if order_by is None:
        return None
    if not isinstance(order_by, str) or order_by in ("", "-"):
        raise StoreError(f"order_by must be a field name (with - in front for descending), not {order_by!r}")
    descending = order_by.startswith("-")
    name = order_by[1:] if descending else order_by
    column = _COLUMNS.get(name)
    return (column if column is not None else field_key(name), descending)


def window(limit: int | None, offset: int) -> dict[str, int] | None:
    for value, what in ((limit, "limit"), (offset, "offset")):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise StoreError(f"{what} must be a whole number, not {value!r}")
    if limit is None and not offset:
        return None
    return {"limit": MAX_ID if limit is None else limit, "offset": offset}


def sorted_by(rows: Sequence[Row], by: tuple[str, bool], window: dict[str, int] | None) -> list[Row]:
    """``rows`` ordered by a field as the index orders it (by its key, then id), those
    without the field last by id; ``by`` is ``(field key, descending)``."""
    wanted, descending = by

    def key(row: Row) -> str:
        return next((value_key(v) for name, v in row.data.items() if field_key(name) == wanted), "")

    having = sorted((row for row in rows if key(row)), key=lambda row: (key(row), row.id), reverse=descending)
    missing = sorted((row for row in rows if not key(row)), key=lambda row: row.id, reverse=descending)
    ordered = having + missing
    if window is None:
        return ordered
    return ordered[window["offset"] : window["offset"] + window["limit"]]
