"""Lifecycles: records that move through states as they are read, or as the clock runs.

A lifecycle belongs to a collection: every record of it holds its current state in one
field (``status``, say) and moves on by itself. A state lasts a number of reads of the
record, or a number of seconds on the store's clock, or both (whichever comes first);
a state with neither is final. Leaving a state may fail instead, with a probability,
into another state. Entering a state writes that state's ``set`` fields into the record.

This module is the model and the arithmetic, without a database: the unit of work
(:mod:`pactstub.state.unit`) keeps ``stage_reads`` and ``stage_since_us`` beside each
record and calls :func:`read`, :func:`saved` and :func:`updated`. The definitions come
from the templates folder (:mod:`pactstub.render.lifecycles`).

Each time a write moves a record to another state the stub logs it (:func:`announce`, after
the unit of work that moved it has committed), so a sandbox's log tells a run's story. A read
that catches up with the clock through several states logs one line, from the state the record
was stored in to the one it is in now.

Reads and time differ on purpose. Time has passed whether or not anyone looked, so a
read first catches up with the clock and then shows the state the record is in. A read
is what moves a read-counted state on, so a read shows the state *before* it counts:
with ``QUEUED: {reads: 1}`` the first poll sees ``QUEUED``, the next one ``RUNNING``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pactstub.errors import StoreError

__all__ = [
    "LIFECYCLE_FIELD",
    "Lifecycle",
    "Progress",
    "Stage",
    "Transition",
    "announce",
    "read",
    "saved",
    "updated",
]

log = logging.getLogger("pactstub")
#: The attribute of a log record holding a lifecycle event's fields (see :mod:`pactstub.logs`).
LIFECYCLE_FIELD = "pactstub_lifecycle"

_NOTHING: Mapping[str, Any] = MappingProxyType({})
#: A chain of time-based states longer than this in one catch-up is a definition error.
_MAX_STEPS = 10_000


@dataclass(frozen=True, slots=True)
class Stage:
    """One state of a lifecycle."""

    name: str
    #: reads of the record in this state before it moves on (``None``: not by reads)
    reads: int | None = None
    #: seconds on the store's clock before it moves on (``None``: not by time)
    seconds: float | None = None
    #: the state it moves on to (``None`` only for a final state)
    next: str | None = None
    #: probability of moving to ``fail_to`` instead of ``next``
    fail_rate: float = 0.0
    fail_to: str | None = None
    #: fields written into the record when it enters this state
    set: Mapping[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.reads is None and self.seconds is None


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The states of the records of one collection, and the field that holds them."""

    collection: str
    field: str
    #: every state by name, in the order defined; the first is the initial state
    stages: Mapping[str, Stage]
    #: where it was defined, for messages
    source: str = "<memory>"

    @property
    def initial(self) -> str:
        return next(iter(self.stages))

    def stage_of(self, data: Mapping[str, Any]) -> Stage | None:
        """The state a record is in; ``None`` when its field names no state of this lifecycle."""
        value = data.get(self.field)
        return self.stages.get(value) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Progress:
    """A record after a read: what the reader sees, and what is stored for the next one."""

    shown: dict[str, Any]
    stored: dict[str, Any]
    reads: int
    since_us: int
    #: whether anything must be written back
    changed: bool


@dataclass(frozen=True, slots=True)
class Transition:
    """A record that entered a state: ``before`` is ``None`` for a new record."""

    collection: str
    id: int
    before: Any
    after: Any


def announce(session: str, transitions: Iterable[Transition]) -> None:
    """Log each transition: ``runs 978: QUEUED -> RUNNING`` (the fields too, for JSON logs)."""
    if not log.isEnabledFor(logging.INFO):
        return
    where = "" if session == "default" else f" (session {session})"
    for moved in transitions:
        fields = {
            "collection": moved.collection,
            "id": moved.id,
            "session": session,
            "from": moved.before,
            "to": moved.after,
        }
        before = "(new)" if moved.before is None else moved.before
        log.info(
            "%s %d%s: %s -> %s", moved.collection, moved.id, where, before, moved.after,
            extra={LIFECYCLE_FIELD: fields},
        )  # fmt: skip


def _enter(lifecycle: Lifecycle, data: dict[str, Any], name: str, keep: Mapping[str, Any] = _NOTHING) -> None:
    data[lifecycle.field] = name
    for key, value in lifecycle.stages[name].set.items():
        if key not in keep:
            data[key] = value


def _leave(lifecycle: Lifecycle, stage: Stage, rng: random.Random) -> str | None:
    if stage.fail_to is not None and stage.fail_rate > 0 and rng.random() < stage.fail_rate:
        return stage.fail_to
    return stage.next


def _named(lifecycle: Lifecycle, data: Mapping[str, Any]) -> Stage:
    """The state the record's field names; :class:`StoreError` when it names none of the lifecycle's."""
    stage = lifecycle.stage_of(data)
    if stage is None:
        states = ", ".join(lifecycle.stages)
        raise StoreError(
            f"{data.get(lifecycle.field)!r} is not a state of {lifecycle.collection!r} "
            f"(states: {states}; field {lifecycle.field!r}, defined in {lifecycle.source})"
        )
    return stage


def saved(lifecycle: Lifecycle, data: dict[str, Any]) -> None:
    """A new record starts in the state its field names, else (no field, or null) the initial one.

    The state's ``set`` fields fill in what the record does not give itself. A field that
    names no state is refused (:class:`StoreError`): a typo would leave the record stuck.
    """
    name = lifecycle.initial if data.get(lifecycle.field) is None else _named(lifecycle, data).name
    _enter(lifecycle, data, name, keep=data)


def updated(
    lifecycle: Lifecycle, before: Mapping[str, Any], data: dict[str, Any], changes: Mapping[str, Any]
) -> bool:
    """After ``changes`` were merged into ``data``: enter the state they name, if they name a new one.

    Returns whether the record entered a state (its reads and time then start again).
    ``changes`` win over the state's ``set`` fields; a state that does not exist is
    refused (:class:`StoreError`).
    """
    if lifecycle.field not in changes or changes[lifecycle.field] == before.get(lifecycle.field):
        return False
    _enter(lifecycle, data, _named(lifecycle, data).name, keep=changes)
    return True


def read(
    lifecycle: Lifecycle, data: dict[str, Any], reads: int, since_us: int, now_us: int, rng: random.Random
) -> Progress:
    """One read of a record: catch up with the clock, show it, count the read."""
    changed = False
    stage = lifecycle.stage_of(data)
    steps = 0
    while stage is not None and stage.seconds is not None and now_us - since_us >= stage.seconds * 1e6:
        target = _leave(lifecycle, stage, rng)
        if target is None:
            break
        since_us += round(stage.seconds * 1e6)
        reads = 0
        _enter(lifecycle, data, target)
        stage, changed = lifecycle.stages[target], True
        steps += 1
        if steps > _MAX_STEPS:
            break
    shown = dict(data)
    if stage is None or stage.reads is None:
        return Progress(shown, data, reads, since_us, changed)
    reads += 1
    if reads >= stage.reads:
        target = _leave(lifecycle, stage, rng)
        if target is not None:
            _enter(lifecycle, data, target)
            reads, since_us = 0, now_us
    return Progress(shown, data, reads, since_us, True)
