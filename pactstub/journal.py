"""The journal: every request the stub saw, what answered it, or why nothing did.

It backs ``GET /_pactstub/requests``, the dashboard, and the embedded server's
``.requests``, ``.unmatched`` and ``.check()``. Entries live in the store
(:mod:`pactstub.state.journal`), so every worker and server sharing a store shares one
journal and one reset. A request never waits for the database on its account: entries
are queued and written in batches by a background thread, and whoever reads the
journal first writes what this process still holds.

Other processes' queues cannot be written from here, but each is written within
:data:`_FLUSH_DELAY_S` plus the time of the write. So on a store other processes may
share (a file or a server, not memory), a read or a reset first lets
:data:`SETTLE_S` pass: the entries of requests answered before it, by any worker,
are then in the table, read or cleared with the rest.

What an entry keeps of a request is bounded: credentials are masked, a body is kept up
to a number of bytes (and marked truncated beyond it).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pactstub.errors import StoreError, StoreUnavailable
from pactstub.matching.report import Mismatch
from pactstub.state.journal import JournalFilter, JournalRow, JournalTable

__all__ = ["Candidate", "Journal", "JournalEntry", "JournalFilter", "RequestRecord", "masked_candidates"]

log = logging.getLogger("pactstub")

#: What a masked header value reads as.
MASK = "***"
#: Entries held in memory while the store cannot take them (the oldest are dropped beyond).
_MAX_PENDING = 10_000
#: How long a queued entry may wait before the writer writes it, in seconds.
_FLUSH_DELAY_S = 0.05
#: How long a read or reset of a shared journal lets other processes' writers catch up.
SETTLE_S = 0.12
#: How long the writer thread waits for new entries before it ends.
_IDLE_S = 1.0


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

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Candidate:
        mismatches = tuple(
            Mismatch(m["kind"], m["location"], m.get("expected"), m.get("actual"), m["message"])
            for m in document.get("mismatches", ())
        )
        label = f"{document['pact']}#{document['index']} {document['interaction']!r}"
        return cls(label, document["interaction"], document["pact"], int(document["index"]), mismatches)


def masked_candidates(
    closest: tuple[Candidate, ...], headers: Iterable[tuple[str, str]], masked: frozenset[str]
) -> tuple[Candidate, ...]:
    """``closest`` with the values of masked headers hidden in their mismatches as well.

    A credential that does not match its header's rule would otherwise reach the journal,
    the log and the dashboard through the mismatch that quotes it.
    """
    if not closest:  # a request that matched: nothing quotes it
        return closest
    secrets: dict[str, set[str]] = {}
    for name, value in headers:
        if name.lower() in masked:
            parts = {part.strip() for part in value.split(",")}
            secrets.setdefault(name.lower(), set()).update({value, value.strip(), *parts} - {""})
    if not secrets:
        return closest
    return tuple(
        replace(candidate, mismatches=tuple(_masked(m, secrets) for m in candidate.mismatches))
        for candidate in closest
    )


def _masked(mismatch: Mismatch, secrets: Mapping[str, set[str]]) -> Mismatch:
    hidden = secrets.get(mismatch.location.removeprefix("header ").lower())
    if mismatch.kind != "header" or hidden is None:
        return mismatch
    message = mismatch.message
    for secret in sorted(hidden, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return replace(mismatch, actual=None if mismatch.actual is None else MASK, message=message)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the journal keeps of a request: headers masked, body bounded."""

    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    body_size: int = 0
    body_truncated: bool = False

    @classmethod
    def of(
        cls, headers: Iterable[tuple[str, str]], body: bytes, *, masked: frozenset[str], body_limit: int
    ) -> RequestRecord:
        shown = tuple((name, MASK if name.lower() in masked else value) for name, value in headers)
        kept = body[:body_limit]
        return cls(shown, kept.decode("utf-8", "replace"), len(body), len(body) > body_limit)

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": [list(pair) for pair in self.headers],
            "body": self.body,
            "body_size": self.body_size,
            "body_truncated": self.body_truncated,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> RequestRecord:
        return cls(
            tuple((str(name), str(value)) for name, value in document.get("headers", ())),
            str(document.get("body", "")),
            int(document.get("body_size", 0)),
            bool(document.get("body_truncated", False)),
        )


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request as the stub saw and answered it."""

    #: seconds since the epoch
    timestamp: float
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    session: str = "default"
    #: description of the interaction that answered, ``None`` when none did
    interaction: str | None = None
    pact: str | None = None
    #: why the request was not answered as the pact says (``None``: it was). One of
    #: ``not-found``, ``method-not-allowed``, ``mismatch``, ``template-failed``,
    #: ``store-unavailable``, ``bad-request`` (a session or Host it cannot use, a record
    #: too large, JSON refused), ``transport`` (refused for how it was sent: framing, size,
    #: timeout)
    problem: str | None = None
    closest: tuple[Candidate, ...] = ()
    #: for a failed template: its file, line and message
    detail: Mapping[str, Any] | None = None
    #: an injected fault that shaped the answer (``{"status": 503}``, ``{"drop": true}``, a delay)
    fault: Mapping[str, Any] | None = None
    request: RequestRecord = field(default_factory=RequestRecord)
    #: its place in the store's journal (0 until written)
    sequence: int = 0

    @property
    def matched(self) -> bool:
        """Whether an interaction answered it as the pact says (no problem)."""
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "time": datetime.fromtimestamp(self.timestamp, UTC).isoformat(),
            "session": self.session,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "matched": self.matched,
            "interaction": self.interaction,
            "pact": self.pact,
            "problem": self.problem,
            "detail": dict(self.detail) if self.detail else None,
            "fault": dict(self.fault) if self.fault else None,
            "closest": [c.to_json() for c in self.closest],
            "request": self.request.to_json(),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> JournalEntry:
        return cls(
            timestamp=datetime.fromisoformat(document["time"]).timestamp(),
            method=document["method"],
            path=document["path"],
            query=document["query"],
            status=int(document["status"]),
            duration_ms=float(document["duration_ms"]),
            session=document.get("session", "default"),
            interaction=document.get("interaction"),
            pact=document.get("pact"),
            problem=document.get("problem"),
            closest=tuple(Candidate.from_json(c) for c in document.get("closest", ())),
            detail=document.get("detail"),
            fault=document.get("fault"),
            request=RequestRecord.from_json(document.get("request") or {}),
            sequence=int(document.get("sequence", 0)),
        )

    def explain(self) -> str:
        """A readable account of a request that was not answered as the pact says."""
        target = f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")
        if self.problem == "not-found":
            return f"{target}: no interaction has this path"
        if self.problem == "method-not-allowed":
            return f"{target}: no interaction has this method for this path"
        if self.problem == "template-failed" and self.detail:
            where = f"{self.detail.get('template')}" + (
                f":{self.detail['line']}" if self.detail.get("line") else ""
            )
            whose = f"of {self.interaction!r}" if self.interaction else "for a request nothing matched"
            failed = f"{target}: the template {where} {whose} failed: {self.detail.get('message')}"
            return "\n".join([failed, *self._closest_lines()])
        if self.problem in ("store-unavailable", "bad-request", "transport"):
            reason = (self.detail or {}).get("message", self.problem)
            return f"{target}: {reason}"
        return "\n".join([f"{target}: no interaction matched", *self._closest_lines()])

    def _closest_lines(self) -> list[str]:
        lines = []
        for candidate in self.closest:
            lines.append(f"  closest: {candidate.label}")
            lines.extend(f"    {mismatch}" for mismatch in candidate.mismatches)
        return lines


class Journal:
    """The journal of one app: a queue in front of the store's journal table."""

    def __init__(self, table: Callable[[], JournalTable]) -> None:
        self._table = table
        self._pending: deque[JournalEntry] = deque()
        self._wake = threading.Condition()
        self._write_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._closed = False
        self._failing = False

    def add(self, entry: JournalEntry) -> None:
        """Queue an entry; the writer thread stores it within a moment."""
        with self._wake:
            if len(self._pending) >= _MAX_PENDING:
                self._pending.popleft()
            self._pending.append(entry)
            if self._writer is None and not self._closed:
                self._writer = threading.Thread(target=self._run, name="pactstub journal", daemon=True)
                self._writer.start()
            self._wake.notify()

    def _run(self) -> None:
        """Write batches while entries come; end after a quiet second (``add`` starts a new writer)."""
        while True:
            with self._wake:
                if not self._pending and not self._closed:
                    self._wake.wait(_IDLE_S)
                if not self._pending or self._closed:
                    self._writer = None
                    return
            time.sleep(_FLUSH_DELAY_S)  # gather a batch
            self.flush(quietly=True)
            if self._failing:
                time.sleep(1.0)  # the store is down: try again later, not in a loop

    def flush(self, *, quietly: bool = False) -> None:
        """Write every queued entry now (readers call this, so they see their own requests)."""
        with self._write_lock:
            with self._wake:
                batch = list(self._pending)
                self._pending.clear()
            if not batch:
                return
            try:
                self._table().append([_row(entry) for entry in batch])
            except StoreUnavailable as error:
                with self._wake:
                    self._pending.extendleft(reversed(batch))
                    while len(self._pending) > _MAX_PENDING:
                        self._pending.popleft()
                if not self._failing:
                    log.warning("the journal cannot be written (entries kept in memory): %s", error)
                self._failing = True
                if not quietly:
                    raise
                return
            except StoreError as error:  # the store refused these entries: kept, they would block the rest
                log.error("%d journal entries could not be written and are dropped: %s", len(batch), error)
                return
            if self._failing:
                log.warning("the journal is written again")
            self._failing = False

    def entries(self, selection: JournalFilter | None = None) -> list[JournalEntry]:
        """The entries selected, oldest first, this process's queued ones included."""
        self.flush()
        table = self._table()
        if table.shared:
            time.sleep(SETTLE_S)
        rows = table.read(selection or JournalFilter())
        return [JournalEntry.from_json(document) for _, document in rows]

    def clear(self, session: str | None = None) -> None:
        """Forget the entries (of one session); queued ones of that session too."""
        table = self._table()
        if table.shared:
            time.sleep(SETTLE_S)
        with self._write_lock, self._wake:
            kept = [e for e in self._pending if session is not None and e.session != session]
            self._pending.clear()
            self._pending.extend(kept)
        table.clear(session)

    def close(self) -> None:
        """Write what is queued (if the store lets us) and stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            writer = self._writer
        if writer is not None:
            writer.join(timeout=5)
        with contextlib.suppress(StoreError):
            self.flush()


def _row(entry: JournalEntry) -> JournalRow:
    document = entry.to_json()
    for key in ("sequence", "session"):
        document.pop(key)
    return JournalRow(
        session=entry.session,
        at_us=round(entry.timestamp * 1_000_000),
        status=entry.status,
        problem=entry.problem,
        interaction=entry.interaction,
        duration_ms=entry.duration_ms,
        entry=document,
    )
