"""``--watch``: the pacts and templates reloaded when they change, everything else kept.

:class:`WatchedSources` loads the pacts once, remembering what it read;
:class:`Reloader` then runs beside the app in each process that serves it (a
gunicorn worker has its own copy of the app and starts its own, since threads do not
survive a fork). Its threads look at the files a few times a second and fetch the
URLs and the broker every ``interval`` seconds. When something has changed, the
pacts and templates are read again and the app builds a new contract from them,
swapped in whole: requests under way finish on the old one; the store, its counters,
sessions and lifecycles carry on. A new version that fails to load is refused with
one log line saying what is wrong and the old contract keeps serving, until the next
change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from pactstub.app import StubApp
from pactstub.contract import FailedReload
from pactstub.errors import PactLoadError, PactstubError
from pactstub.listing import shadowed
from pactstub.loading import load_with_origins
from pactstub.sources import Fetched, LoadedPact, SourceSpec, discover
from pactstub.sources.watch import Snapshot, changed, digest, fetch_remote, has_remote, snapshot

__all__ = ["FILE_CHECK_S", "Reloader", "WatchedSources"]

log = logging.getLogger("pactstub.watch")

#: seconds between two looks at the files; a change is loaded once one look confirms it
FILE_CHECK_S = 0.25
#: seconds a stopping reloader waits for a fetch or reload under way (its threads are daemons)
STOP_WAIT_S = 1.0
#: changed files named in a log line before "and N more"
NAMED = 3


class WatchedSources:
    """The pacts of some sources as last read, and what has changed since."""

    def __init__(self, spec: SourceSpec, templates: Path | None, interval: float) -> None:
        self.spec = spec
        self.templates = templates
        #: seconds between two fetches of the URLs and the broker
        self.interval = interval
        self._remote: list[Fetched] = []
        self._remote_digest = digest([])
        self._read: Snapshot = {}
        self._seen: Snapshot = {}
        #: the process that loaded first; another one (a worker) may have missed a change
        self.loaded_in = os.getpid()

    def load(self) -> list[LoadedPact]:
        """Fetch and load everything, as ``pactstub serve`` does without ``--watch``."""
        self._remote = fetch_remote(self.spec)
        self._remote_digest = digest(self._remote)
        self.loaded_in = os.getpid()
        return self.read()

    def read(self) -> list[LoadedPact]:
        """Load the files as they are now, with the URLs' and broker's pacts as last fetched.

        The files are stamped before they are read, so one that changes while it is
        read is read again at the next change. A failed read is not retried until then.
        """
        self._read = self._seen = snapshot(self.spec, self.templates)
        items: list[Path | Fetched] = [*discover(self.spec.files, self.spec.dirs), *self._remote]
        return load_with_origins(items)

    def watches_files(self) -> bool:
        return bool(self.spec.files or self.spec.dirs or self.templates)

    def watches_remote(self) -> bool:
        return has_remote(self.spec)

    def settled_changes(self) -> list[str]:
        """The files changed since they were read, once two looks in a row agree (a copy may be under way)."""
        now = snapshot(self.spec, self.templates)
        settled, self._seen = now == self._seen, now
        return changed(self._read, now) if settled else []

    def take_remote(self, fetched: list[Fetched]) -> bool:
        """Keep ``fetched`` for the next read; whether it differs from what was fetched before."""
        new = digest(fetched)
        if new == self._remote_digest:
            return False
        self._remote, self._remote_digest = fetched, new
        return True

    def describe(self) -> str:
        """What is watched, for the banner."""
        parts = []
        if self.watches_files():
            parts.append("watching the pact files, folders and templates for changes")
        if self.watches_remote():
            parts.append(f"fetching the pacts at URLs and in the broker again every {self.interval:g}s")
        return "; ".join(parts)


class Reloader:
    """Reloads ``app``'s contract while the ``with`` block runs (in one serving process)."""

    def __init__(self, app: StubApp, sources: WatchedSources) -> None:
        self.app = app
        self.sources = sources
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one reload at a time
        self._threads: list[threading.Thread] = []
        self._fetch_error: str | None = None

    def __enter__(self) -> Reloader:
        if self.sources.watches_files():
            self._spawn(self._watch_files, "pactstub-watch-files")
        if self.sources.watches_remote():
            self._spawn(self._poll_remote, "pactstub-watch-remote")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(STOP_WAIT_S)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=self._guarded, args=(target,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _guarded(self, target: Callable[[], None]) -> None:
        """Run ``target``; an unforeseen error is logged, and the watching starts over."""
        while not self._stop.is_set():
            try:
                target()
            except Exception:
                log.exception("watching for changes failed; trying again")
                self._stop.wait(self.sources.interval)

    def _watch_files(self) -> None:
        while not self._stop.wait(FILE_CHECK_S):
            with self._lock:
                names = self.sources.settled_changes()
                if names:
                    self.reload(_named(names))

    def _poll_remote(self) -> None:
        if os.getpid() != self.sources.loaded_in:  # a worker started later may have missed a change
            self._fetch()
        while not self._stop.wait(self.sources.interval):
            self._fetch()

    def _fetch(self) -> None:
        try:
            fetched = fetch_remote(self.sources.spec)
        except PactstubError as error:
            if str(error) != self._fetch_error:  # said once, not at every attempt
                log.warning(
                    "cannot fetch the pacts to see whether they changed; still serving the last ones: %s",
                    error,
                )
            self._fetch_error = str(error)
            return
        if self._fetch_error is not None:
            log.info("the pacts can be fetched again")
            self._fetch_error = None
        with self._lock:
            if self.sources.take_remote(fetched):
                self.reload("a pact at a URL or in the broker changed")

    def reload(self, reason: str) -> None:
        """Read everything again and serve it, or log why not and keep serving what was loaded."""
        serving = self.app.contract
        try:
            loaded = self.sources.read()
            contract = self.app.replace_contract(
                [item.pact for item in loaded], [item.origin for item in loaded]
            )
        except PactstubError as error:
            message = _one_line(error)
            self.app.failed_reload = FailedReload(time.time(), reason, message)
            since = time.strftime("%H:%M:%S", time.localtime(serving.loaded_at))
            log.error(
                "not reloaded after %s; still serving what was loaded at %s: %s", reason, since, message
            )
            return
        pacts, interactions = (
            _count(len(contract.pacts), "pact"),
            _count(len(contract.index.routes), "interaction"),
        )
        log.info("process %d reloaded after %s: %s, %s", os.getpid(), reason, pacts, interactions)
        for sentence in shadowed(contract.index):
            log.warning("%s", sentence)


def _one_line(error: PactstubError) -> str:
    """The error's message on one line: every problem of a pact, separated by ``;``."""
    if isinstance(error, PactLoadError):
        return "invalid pact: " + "; ".join(str(problem) for problem in error.problems)
    return " ".join(str(error).split())


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED])
    more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
    return f"{shown}{more} changed"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
