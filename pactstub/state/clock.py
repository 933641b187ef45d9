"""The store's clock: real time, unless a test moved a session's clock on or froze it.

A session's clock is one row (``pactstub_clocks``): an offset from real time, or the
moment it is frozen at. Every worker and server reads the same row, so skipping an
hour through one server skips it for all. Reading that row on every request would
cost a query each, so each process keeps what it read for :data:`TTL_S`; a change made
through this process is seen at once, one made through another within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TTL_S", "ClockCache", "ClockState"]

TTL_S = 0.5


@dataclass(frozen=True, slots=True)
class ClockState:
    """A session's clock: ``offset_us`` from real time, or ``frozen_us`` if frozen."""

    offset_us: int = 0
    frozen_us: int | None = None

    def now_us(self, real_us: int | None = None) -> int:
        if self.frozen_us is not None:
            return self.frozen_us
        return (real_us if real_us is not None else real_now_us()) + self.offset_us

    def advanced(self, seconds: float) -> ClockState:
        step = round(seconds * 1_000_000)
        if self.frozen_us is not None:
            return ClockState(self.offset_us + step, self.frozen_us + step)
        return ClockState(self.offset_us + step, None)

    def frozen(self) -> ClockState:
        return self if self.frozen_us is not None else ClockState(self.offset_us, self.now_us())

    def unfrozen(self) -> ClockState:
        """Running again from where it was frozen."""
        if self.frozen_us is None:
            return self
        return ClockState(self.frozen_us - real_now_us(), None)


def real_now_us() -> int:
    return time.time_ns() // 1000


class ClockCache:
    """Each session's clock as this process last read it, for at most :data:`TTL_S` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float, ClockState]] = {}

    def get(self, session: str, read: Callable[[], ClockState]) -> ClockState:
        """The session's clock; ``read`` fetches it from the database when the copy is stale."""
        found = self._known.get(session)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]
        state = read()
        self.put(session, state)
        return state

    def put(self, session: str, state: ClockState) -> None:
        with self._lock:
            if len(self._known) > 10_000:  # sessions come and go; keep the cache bounded
                self._known.clear()
            self._known[session] = (time.monotonic() + TTL_S, state)

    def forget(self, session: str | None = None) -> None:
        with self._lock:
            if session is None:
                self._known.clear()
            else:
                self._known.pop(session, None)
