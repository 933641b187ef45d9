"""Delays and faults: slow or failing answers on purpose, so a client's timeouts and retries get tested.

A fault belongs to one interaction (by description) or to every one (``*``):

* a delay, fixed (``200ms``, ``1.5s``) or drawn from a range (``50ms-300ms``);
* an error status answered instead of the interaction's response (``503``), with a
  probability (``503@0.25``);
* a dropped connection (``drop``, ``drop@0.1``): the server closes it without a word.

They are set at start (``--delay``, ``--fault``: ``[INTERACTION=]SPEC``) and through the
admin API (``PUT /_pactstub/faults``), which keeps them in the store so that every
worker and server sharing it applies them (each process re-reads them within
:data:`TTL_S`; the one that took the change, at once). A fault set through the API for
an interaction wins over the one set at start, and one for the interaction over ``*``.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pactstub.errors import ConfigError

__all__ = ["ANY", "TTL_S", "Fault", "FaultTable", "parse_delay", "parse_option"]

#: The target of a fault that applies to every interaction.
ANY = "*"
TTL_S = 1.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to the answers of one target."""

    #: seconds to wait before answering: ``(low, high)``, drawn uniformly (``low == high``: fixed)
    delay: tuple[float, float] | None = None
    #: answer this status instead of the interaction's response
    status: int | None = None
    #: close the connection without answering
    drop: bool = False
    #: how likely the status or drop is, per request
    probability: float = 1.0

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if self.delay is not None:
            document["delay_ms"] = [round(self.delay[0] * 1000, 3), round(self.delay[1] * 1000, 3)]
        if self.status is not None:
            document["status"] = self.status
        if self.drop:
            document["drop"] = True
        if self.probability != 1.0:
            document["probability"] = self.probability
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "fault") -> Fault:
        """A fault from its JSON form (the admin API's body); :class:`ConfigError` naming the field."""
        known = {"delay_ms", "status", "drop", "probability", "interaction", "session"}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown fields {unknown} (known: {', '.join(sorted(known))})")
        delay = document.get("delay_ms")
        if delay is not None:
            low_high = [delay, delay] if isinstance(delay, int | float) else delay
            if (
                not isinstance(low_high, list)
                or len(low_high) != 2
                or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 60_000
                    for v in low_high
                )
                or low_high[0] > low_high[1]
            ):
                raise ConfigError(f"{where}.delay_ms: a number of milliseconds or [low, high], up to 60000")
            delay = (low_high[0] / 1000, low_high[1] / 1000)
        status = document.get("status")
        if status is not None and (
            not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
        ):
            raise ConfigError(f"{where}.status: an HTTP status from 100 to 599, not {status!r}")
        drop = document.get("drop", False)
        if not isinstance(drop, bool):
            raise ConfigError(f"{where}.drop: true or false, not {drop!r}")
        if drop and status is not None:
            raise ConfigError(f"{where}: a fault drops the connection or answers a status, not both")
        probability = document.get("probability", 1.0)
        if (
            not isinstance(probability, int | float)
            or isinstance(probability, bool)
            or not 0 <= probability <= 1
        ):
            raise ConfigError(f"{where}.probability: a number from 0 to 1, not {probability!r}")
        if delay is None and status is None and not drop:
            raise ConfigError(f"{where}: give delay_ms, status or drop")
        return cls(delay, status, drop, float(probability))

    def merged(self, other: Fault | None) -> Fault:
        """This fault, with ``other``'s delay when it has none of its own."""
        if other is None or self.delay is not None or other.delay is None:
            return self
        return Fault(other.delay, self.status, self.drop, self.probability)


def _seconds(text: str, option: str) -> float:
    found = _DURATION.match(text)
    if found is None:
        raise ConfigError(f"{option}: {text!r} is not a duration such as 200ms or 1.5s")
    value = float(found.group(1))
    seconds = value / 1000 if found.group(2) in (None, "ms") else value
    if seconds > 60:
        raise ConfigError(f"{option}: {text!r} is longer than a minute")
    return seconds


def parse_delay(text: str, option: str = "--delay") -> tuple[float, float]:
    """``200ms`` -> (0.2, 0.2); ``50ms-300ms`` -> (0.05, 0.3)."""
    low, dash, high = text.partition("-")
    bounds = (_seconds(low, option), _seconds(high if dash else low, option))
    if bounds[0] > bounds[1]:
        raise ConfigError(f"{option}: {text!r} goes from more to less")
    return bounds


def _split_target(text: str) -> tuple[str, str]:
    target, equals, spec = text.rpartition("=")
    return (target.strip() or ANY, spec.strip()) if equals else (ANY, text.strip())


def parse_option(
    delays: Iterable[str], faults: Iterable[str], served: Collection[str] | None = None
) -> dict[str, Fault]:
    """The faults of ``--delay [INTERACTION=]DURATION`` and ``--fault [INTERACTION=]STATUS|drop[@P]``.

    With ``served`` (the descriptions of the interactions served), a target that names
    none of them is refused: a typo would otherwise leave the fault silently unused.
    """
    table: dict[str, Fault] = {}

    def target_of(text: str, option: str) -> tuple[str, str]:
        target, spec = _split_target(text)
        if served is not None and target != ANY and target not in served:
            raise ConfigError(f"{option} {text!r}: no interaction is described {target!r}")
        return target, spec

    for text in faults:
        target, spec = target_of(text, "--fault")
        action, at, chance = spec.partition("@")
        try:
            probability = float(chance) if at else 1.0
        except ValueError:
            raise ConfigError(f"--fault {text!r}: {chance!r} is not a probability") from None
        if action.strip().lower() == "drop":
            document: dict[str, Any] = {"drop": True, "probability": probability}
        elif action.strip().isdigit():
            document = {"status": int(action), "probability": probability}
        else:
            raise ConfigError(
                f"--fault {text!r}: expected [INTERACTION=]STATUS or [INTERACTION=]drop, with @PROBABILITY"
            )
        table[target] = Fault.from_json(document, f"--fault {text!r}").merged(table.get(target))
    for text in delays:
        target, spec = target_of(text, "--delay")
        found = table.get(target, Fault(delay=(0.0, 0.0)))
        table[target] = Fault(
            parse_delay(spec, f"--delay {text!r}"), found.status, found.drop, found.probability
        )
    return table


class FaultTable:
    """The faults in force: those set at start, and those in the store (re-read every :data:`TTL_S`)."""

    def __init__(
        self,
        configured: Mapping[str, Fault],
        stored: Callable[[], list[dict[str, Any]]],
        rng: random.Random,
    ) -> None:
        self._configured = dict(configured)
        self._read_stored = stored
        self._rng = rng
        self._lock = threading.Lock()
        self._stored: dict[tuple[str, str], Fault] = {}
        self._read_at = float("-inf")

    def forget(self) -> None:
        """Re-read the stored faults on the next request (this process changed them)."""
        self._read_at = float("-inf")

    def _current(self) -> dict[tuple[str, str], Fault]:
        """The stored faults. When they are merely old, one thread re-reads them while the others go
        on with those they have, so a store slow to answer slows one request, not all of them; when
        they were changed (or never read), everyone waits for them."""
        now = time.monotonic()
        must = self._read_at == float("-inf")
        if now - self._read_at >= TTL_S and self._lock.acquire(blocking=must):
            try:
                if now - self._read_at >= TTL_S:
                    self._stored = {
                        (row["session"], row["target"]): Fault.from_json(row["config"])
                        for row in self._read_stored()
                    }
                    self._read_at = now
            finally:
                self._lock.release()
        return self._stored

    def for_request(self, session: str, interaction: str | None) -> Fault | None:
        """The fault for an answer of ``interaction`` (``None``: no interaction matched) in ``session``."""
        stored = self._current()
        targets = [ANY] if interaction is None else [interaction, ANY]
        for target in targets:
            found = stored.get((session, target)) or self._configured.get(target)
            if found is not None:
                return found
        return None

    def decide(self, fault: Fault) -> tuple[float, bool]:
        """For one request: how long to wait, and whether the status or drop happens."""
        with self._lock:
            wait = self._rng.uniform(*fault.delay) if fault.delay else 0.0
            happens = (fault.status is not None or fault.drop) and self._rng.random() < fault.probability
        return wait, happens
