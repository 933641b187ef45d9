"""What every unit of work of one store shares: the engine and its statements, the locks,
the lifecycles, the random generator, the clocks, and the checks made before a write.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pactstub.errors import StoreError, StoreUnavailable
from pactstub.state import sql
from pactstub.state.clock import ClockCache
from pactstub.state.lifecycle import Lifecycle

__all__ = ["SharedRandom", "StoreContext"]


@dataclass
class StoreContext:
    """What every unit of one store shares: the engine, its statements, locks, lifecycles, clock."""

    engine: Engine
    #: the database for log lines (no password)
    where: str
    #: held for the whole unit when there is one connection (an in-memory database)
    lock: AbstractContextManager[Any]
    #: held while a unit writes to a SQLite file (see ``Store.__init__``)
    write_lock: AbstractContextManager[Any]
    lifecycles: Mapping[str, Lifecycle] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    clocks: ClockCache = field(default_factory=ClockCache)
    #: the SQLite file, to refuse writing into one replaced or deleted since it was opened
    sqlite_file: Path | None = None
    #: that file's device and inode, as first seen
    sqlite_identity: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.closed = False
        self.dialect = self.engine.dialect.name
        self.sql = sql.statements(self.dialect)
        self.rng_lock = threading.Lock()

    def check_open(self) -> None:
        """Refuse to work once closed (an in-memory database would silently start empty again)."""
        if self.closed:
            raise StoreError("the store is closed")

    def check_file(self) -> None:
        """Refuse to write when the SQLite file was deleted or replaced since the store opened it.

        Writes would go to the deleted file's inode and be lost at the next restart, and
        ids would be handed out again; better to fail loudly now.
        """
        path = self.sqlite_file
        if path is None:
            return
        try:
            found = path.stat()
        except OSError:
            raise StoreUnavailable(f"the SQLite file {path.name} was deleted while in use") from None
        identity = (found.st_dev, found.st_ino)
        if self.sqlite_identity is None:
            self.sqlite_identity = identity
        elif identity != self.sqlite_identity:
            raise StoreUnavailable(f"the SQLite file {path.name} was replaced while in use")

    def random(self) -> float:
        with self.rng_lock:
            return self.rng.random()


class SharedRandom(random.Random):
    """The store's shared generator, through its lock (lifecycles draw failures from it)."""

    def __init__(self, context: StoreContext) -> None:
        self._store_context = context

    def random(self) -> float:
        return self._store_context.random()
