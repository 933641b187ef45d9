"""The functions a response template may call: records, counters, time, randomness, the response.

Records (each one JSON object in a collection, indexed by its top-level fields):

``save(collection, document)``
    Store a JSON object; returns it as stored, with its ``created_at``. A positive
    integer ``id`` is its id in the collection, else it gets the next one.
``get(collection, id)`` / ``find(collection, where=None, order_by=None, limit=None, offset=0, **fields)``
    One record by id (or ``none``) / the records whose fields equal ``where``'s (a mapping,
    for any field name) and ``fields``', by id or ``order_by`` (``"-field"`` descending).
``update(collection, id, changes)`` / ``delete(collection, id)`` / ``count(collection, where=None, **fields)``
``next_id(counter, start=1)``
    The next value of a counter shared by every thread, worker and restart.

Reading a record through ``get`` or ``find`` moves it along its lifecycle, if its
collection has one. ``now(format=None)`` reads the session's clock; ``random_int``,
``random_choice`` and ``uuid`` follow ``--seed``. ``set_status(code)`` and
``set_header(name, value)`` shape the response; ``json_array(items)`` used as a call
block writes a JSON array of what the block renders for each item.

One render is one unit of work (:class:`pactstub.state.unit.UnitOfWork`) of the
request's session: the first helper that needs the store takes a connection, the first
write begins the write transaction, and :meth:`Helpers.commit` (the render succeeded)
or :meth:`Helpers.rollback` (it failed) ends it. A template that fails halfway leaves
no record and no counter change behind. A template that uses none of these never
touches the database.
"""

from __future__ import annotations

import random
import uuid as uuid_module
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pactstub.state.records import Record
from pactstub.state.unit import UnitOfWork

__all__ = ["CREATED_AT", "Helpers", "ResponseChoices", "iso_utc"]

CREATED_AT = "created_at"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``: ``2024-11-27T11:33:00.123456Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _view(record: Record | None) -> dict[str, Any] | None:
    """What a template sees of a record: its data, with ``created_at`` unless it has its own."""
    if record is None:
        return None
    document = dict(record.data)
    document.setdefault(CREATED_AT, iso_utc(record.created_at))
    return document


class ResponseChoices:
    """The status and headers a template chose with ``set_status`` and ``set_header``."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []


class Helpers:
    """The helper functions of one render, and its unit of work on the store."""

    def __init__(
        self,
        unit: Callable[[], UnitOfWork],
        rng: random.Random,
        choices: ResponseChoices | None = None,
    ) -> None:
        self._open_unit = unit
        self._unit: UnitOfWork | None = None
        self._rng = rng
        self.choices = choices or ResponseChoices()

    def _work(self) -> UnitOfWork:
        """The render's unit of work, begun on the first helper call that needs it."""
        if self._unit is None:
            self._unit = self._open_unit()
        return self._unit

    def commit(self) -> None:
        """The render succeeded: make its writes durable (``StoreError`` if that fails)."""
        if self._unit is not None:
            self._unit.commit()

    def rollback(self) -> None:
        """The render failed: undo its writes, so they never happened."""
        if self._unit is not None:
            self._unit.rollback()

    def functions(self) -> dict[str, Callable[..., Any]]:
        """Every helper, by the name templates call it."""
        return {
            "next_id": self.next_id,
            "save": self.save,
            "get": self.get,
            "find": self.find,
            "update": self.update,
            "delete": self.delete,
            "count": self.count,
            "now": self.now,
            "random_int": self.random_int,
            "random_choice": self.random_choice,
            "uuid": self.uuid,
            "set_status": self.set_status,
            "set_header": self.set_header,
            "json_array": json_array,
        }

    # -- records ------------------------------------------------------------------------

    def next_id(self, counter: str, start: int = 1) -> int:
        """The counter's next value (``start`` when it is new)."""
        return self._work().next_value(counter, start)

    def save(self, collection: str, document: Mapping[str, Any]) -> dict[str, Any] | None:
        """Store ``document`` in ``collection``; the document as stored, with ``created_at``."""
        return _view(self._work().save(collection, document))

    def get(self, collection: str, record_id: int) -> dict[str, Any] | None:
        """The record with this id, or ``None``."""
        return _view(self._work().get(collection, record_id, advance=True))

    def find(
        self,
        collection: str,
        where: Mapping[str, Any] | None = None,
        /,
        *,
        order_by: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        **fields: Any,
    ) -> list[dict[str, Any] | None]:
        """The records whose fields equal those given, by id (or ``order_by``)."""
        wanted = {**(where or {}), **fields}
        found = self._work().find(
            collection, wanted, order_by=order_by, limit=limit, offset=offset, advance=True
        )
        return [_view(record) for record in found]

    def update(self, collection: str, record_id: int, changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """The record with ``changes`` merged in, or ``None`` when there is no such record."""
        return _view(self._work().update(collection, record_id, changes))

    def delete(self, collection: str, record_id: int) -> bool:
        """Forget the record; whether it existed."""
        return self._work().delete(collection, record_id)

    def count(self, collection: str, where: Mapping[str, Any] | None = None, /, **fields: Any) -> int:
        """How many records have the fields given."""
        return self._work().count(collection, {**(where or {}), **fields})

    # -- time and chance ----------------------------------------------------------------

    def now(self, format: str | None = None) -> str | int:
        """Now on the session's clock: ISO-8601 UTC (``Z``), ``epoch``, ``epoch_ms``, or a strftime format."""
        micros = self._work().now_us()
        if format == "epoch":
            return micros // 1_000_000
        if format == "epoch_ms":
            return micros // 1000
        moment = datetime.fromtimestamp(micros / 1_000_000, UTC)
        return iso_utc(moment) if format is None else moment.strftime(format)

    def random_int(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``, both included."""
        return self._rng.randint(int(low), int(high))

    def random_choice(self, items: Sequence[Any]) -> Any:
        """One of ``items``."""
        return self._rng.choice(list(items))

    def uuid(self) -> str:
        """A random (version 4) UUID, reproducible with ``--seed``."""
        return str(uuid_module.UUID(int=self._rng.getrandbits(128), version=4))

    # -- the response -------------------------------------------------------------------

    def set_status(self, status: int) -> None:
        """Answer with ``status`` (it must be one the pact allows for the interaction)."""
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ValueError(f"set_status takes an HTTP status from 100 to 599, not {status!r}")
        self.choices.status = status

    def set_header(self, name: str, value: Any) -> None:
        """Add a response header."""
        text = str(value)
        if not isinstance(name, str) or not name or any(c in name + text for c in "\r\n\x00"):
            raise ValueError(f"set_header takes a header name and a one-line value, not {name!r}: {text!r}")
        self.choices.headers.append((name, text))


def json_array(items: Iterable[Any], caller: Callable[[Any], str]) -> str:
    """``{% call(item) json_array(items) %}...{% endcall %}``: a JSON array of the block per item.

    Each rendering of the block is one element; the commas and brackets come from here,
    so a loop of objects needs no hand-placed commas. The whole output is still checked
    as JSON when the render ends.
    """
    return "[" + ",".join(str(caller(item)).strip() for item in items) + "]"
