"""A bounded record of recent requests: what matched, or why nothing did.

It backs ``GET /_pactstub/requests`` and the embedded server's ``.requests``,
``.unmatched`` and ``.check()``. Appends are atomic on a ``deque``, so the
request threads never take a lock on the hot path.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pactstub.matching.report import Mismatch


@dataclass(frozen=True, slots=True)
class Candidate:
    """An interaction that came close, with every reason it did not match."""

    label: str
    description: str
    pact: str
    index: int
    mismatches: tuple[Mismatch, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "interaction": self.description,
            "pact": self.pact,
            "index": self.index,
            "mismatches": [m.to_json() for m in self.mismatches],
        }


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request as the stub saw and answered it."""

    sequence: int
    #: seconds since the epoch; formatted only when the journal is read
    timestamp: float
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    #: description of the interaction that answered, ``None`` when none did
    interaction: str | None = None
    pact: str | None = None
    #: why nothing matched: ``not-found``, ``method-not-allowed``, ``mismatch``, ``transport``
    #: (refused for how it was sent: framing, size, timeout) or ``None``
    problem: str | None = None
    closest: tuple[Candidate, ...] = ()

    @property
    def matched(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "time": datetime.fromtimestamp(self.timestamp, UTC).isoformat(),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "matched": self.matched,
            "interaction": self.interaction,
            "pact": self.pact,
            "problem": self.problem,
            "closest": [c.to_json() for c in self.closest],
        }

    def explain(self) -> str:
        """A readable account of a request that matched nothing."""
        target = f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")
        if self.problem == "not-found":
            return f"{target}: no interaction has this path"
        if self.problem == "method-not-allowed":
            return f"{target}: no interaction has this method for this path"
        if self.problem == "transport":
            return f"{target}: refused for how it was sent (framing, size or timeout)"
        lines = [f"{target}: no interaction matched"]
        for candidate in self.closest:
            lines.append(f"  closest: {candidate.label}")
            lines.extend(f"    {mismatch}" for mismatch in candidate.mismatches)
        return "\n".join(lines)


@dataclass
class Journal:
    """The last ``size`` requests, oldest first."""

    size: int = 200
    _entries: deque[JournalEntry] = field(init=False)
    _sequence: itertools.count[int] = field(init=False, default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._entries = deque(maxlen=self.size)

    def next_sequence(self) -> int:
        """A number for the next entry; ``next`` on a count is atomic under the GIL."""
        return next(self._sequence)

    def add(self, entry: JournalEntry) -> None:
        self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
