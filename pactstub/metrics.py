"""Prometheus metrics of one stub: what it answered, how fast, and how its store is doing.

Labels stay bounded whatever clients send: interaction descriptions and pact names
(bounded by the pacts), status codes and the journal's problem names. Nothing from a
request (path, query, header or body) ever becomes a label, so ``/metrics`` cannot leak
a request's content or credentials and cannot grow with traffic.

Several worker processes (gunicorn) each count their own requests; prometheus-client's
multiprocess mode adds them up at scrape time from files in ``PROMETHEUS_MULTIPROC_DIR``.
That mode is chosen when prometheus-client is first imported, so this module imports
it only when a :class:`Metrics` is made: ``pactstub serve`` sets the directory first.
The journal's size is read from the store at scrape time (the store is shared, so any
worker can answer it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pactstub.errors import StoreError

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from pactstub.journal import JournalEntry

__all__ = ["MULTIPROCESS_ENV", "Metrics"]

#: Where prometheus-client's multiprocess mode keeps each process's values.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Latency buckets in seconds: a stub answers in microseconds to a few hundred milliseconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Label value of a request that no interaction answered.
NONE = ""


class Metrics:
    """The metrics of one app; ``exposition()`` is what ``GET /metrics`` answers."""

    def __init__(self, journal_totals: Callable[[], tuple[int, int]]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess_dir = os.environ.get(MULTIPROCESS_ENV) or None
        # In multiprocess mode values live in files; a registry would only hold this process's.
        self._registry: CollectorRegistry | None = (
            None if self.multiprocess_dir else CollectorRegistry(auto_describe=True)
        )
        #: the labelled series of each (pact, interaction, status, problem) seen
        self._series: dict[tuple[str | None, str | None, int, str | None], tuple[Any, Any]] = {}
        # Registered first: reading the journal updates pactstub_store_up before it is collected.
        self._journal = _JournalCollector(journal_totals, self.store_answered)
        if self._registry is not None:
            self._registry.register(self._journal)
        kept: Any = {"registry": self._registry}
        seconds: Any = {"buckets": BUCKETS, **kept}
        self.requests = Counter(
            "pactstub_requests",
            "Requests answered, by the interaction that answered (empty: none), status and outcome "
            "(matched, or the journal's problem: mismatch, not-found, template-failed...).",
            ["pact", "interaction", "status", "outcome"],
            **kept,
        )
        self.unmatched = Counter(
            "pactstub_unmatched_requests",
            "Requests that matched no interaction of their path, by the closest interaction.",
            ["pact", "closest"],
            **kept,
        )
        self.request_seconds = Histogram(
            "pactstub_request_seconds", "Time from reading a request to answering it.", **seconds
        )
        self.render_seconds = Histogram(
            "pactstub_render_seconds",
            "Time to produce a matched interaction's response: its example, or its template "
            "with the store work the template does.",
            ["pact", "interaction"],
            **seconds,
        )
        self.store_seconds = Histogram(
            "pactstub_store_seconds",
            "Time a unit of work or transaction held a pooled store connection, from checkout to checkin.",
            **seconds,
        )
        self.store_up = Gauge(
            "pactstub_store_up",
            "1 when the store last answered (health checks, scrapes, requests), 0 when it last failed.",
            multiprocess_mode="mostrecent",
            **kept,
        )

    # -- observations --------------------------------------------------------------------

    def request(self, entry: JournalEntry, render_seconds: float | None = None) -> None:
        """Count one journaled request; ``render_seconds`` when an interaction was answered."""
        key = (entry.pact, entry.interaction, entry.status, entry.problem)
        series = self._series.get(key)
        if series is None:  # labels() checks and locks each time; its children are kept instead
            pact, interaction = entry.pact or NONE, entry.interaction or NONE
            series = self._series[key] = (
                self.requests.labels(pact, interaction, str(entry.status), entry.problem or "matched"),
                None if entry.interaction is None else self.render_seconds.labels(pact, interaction),
            )
        series[0].inc()
        self.request_seconds.observe(entry.duration_ms / 1000)
        if entry.closest:
            closest = entry.closest[0]
            self.unmatched.labels(closest.pact, closest.description).inc()
        if render_seconds is not None and series[1] is not None:
            series[1].observe(render_seconds)
        if entry.problem == "store-unavailable":
            self.store_up.set(0)

    def store_work(self, seconds: float) -> None:
        self.store_seconds.observe(seconds)

    def store_answered(self, up: bool) -> None:
        self.store_up.set(1 if up else 0)

    # -- exposition ----------------------------------------------------------------------

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus's text format, and its content type."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.exposition import CONTENT_TYPE_LATEST

        if self._registry is not None:
            return generate_latest(self._registry), CONTENT_TYPE_LATEST
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        registry.register(self._journal)
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _JournalCollector:
    """The journal's size, read from the store at scrape time (a read that also shows the store is up)."""

    def __init__(self, totals: Callable[[], tuple[int, int]], answered: Callable[[bool], None]) -> None:
        self._totals = totals
        self._answered = answered

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            entries, size = self._totals()
        except StoreError:
            self._answered(False)
            return
        self._answered(True)
        yield GaugeMetricFamily("pactstub_journal_entries", "Requests the journal holds.", value=entries)
        yield GaugeMetricFamily(
            "pactstub_journal_bytes", "Bytes of entry text the journal holds.", value=size
        )

    def describe(self) -> list[Any]:
        return []  # collected fresh every time; never checked for name clashes up front
