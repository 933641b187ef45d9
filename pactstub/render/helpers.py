"""The functions a response template may call: counters, records and the clock.

``next_id(counter, start=1)``
    The next value of a SQL counter shared by every thread, worker and restart:
    ``start`` the first time (pass the pact example's value, e.g.
    ``next_id("jobs", example.id)``), then one more each call.
``save(collection, document)``
    Store a JSON object; returns it as stored, with its ``created_at``.
``find(collection, **fields)``
    The collection's documents whose top-level ``fields`` equal the values
    given, in insertion order, each with its ``created_at``.
``now()``
    The current time, ISO-8601 in UTC with a ``Z``.

``created_at`` is ISO-8601 UTC with a ``Z`` and is added to a document unless
it has a field of that name itself. The store is opened on the first call, so
a template that uses none of these never touches the database.

One render is one unit of work (:class:`pactstub.state.store.UnitOfWork`): the
first helper call takes a connection, the first ``next_id`` or ``save`` begins
the write transaction, and :meth:`Helpers.commit` (the render succeeded) or
:meth:`Helpers.rollback` (it failed) ends it. A template that fails halfway
therefore leaves no record and no counter change behind, and a render's writes
cost one commit, not one each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

CREATED_AT = "created_at"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``: ``2024-11-27T11:33:00.123456Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _with_created_at(data: Mapping[str, Any], created_at: datetime) -> dict[str, Any]:
    document = dict(data)
    document.setdefault(CREATED_AT, iso_utc(created_at))
    return document


class Helpers:
    """The helper functions of one render, and its unit of work on the store."""

    def __init__(self, store: Callable[[], Any]) -> None:
        self._store = store
        self._unit: Any = None

    def _work(self) -> Any:
        """The render's unit of work, begun on the first helper call."""
        if self._unit is None:
            self._unit = self._store().unit()
        return self._unit

    def commit(self) -> None:
        """The render succeeded: make its writes durable (``StoreError`` if that fails)."""
        if self._unit is not None:
            self._unit.commit()

    def rollback(self) -> None:
        """The render failed: undo its writes, so they never happened."""
        if self._unit is not None:
            self._unit.rollback()

    def next_id(self, counter: str, start: int = 1) -> int:
        """The counter's next value (``start`` when it is new)."""
        return int(self._work().next_value(counter, start))

    def save(self, collection: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``document`` in ``collection``; the document as stored, with ``created_at``."""
        if not isinstance(document, Mapping):
            raise TypeError(f"save({collection!r}, ...) takes a JSON object, not {type(document).__name__}")
        record = self._work().save(collection, document)
        return _with_created_at(record.data, record.created_at)

    def find(self, collection: str, **fields: Any) -> list[dict[str, Any]]:
        """The documents of ``collection`` whose ``fields`` match, oldest first."""
        return [_with_created_at(r.data, r.created_at) for r in self._work().find(collection, **fields)]

    @staticmethod
    def now() -> str:
        """Now, as ISO-8601 UTC with a ``Z``."""
        return iso_utc(datetime.now(UTC))


__all__ = ["CREATED_AT", "Helpers", "iso_utc"]
