"""The contract being served: pacts, route index, templates and lifecycles, as one immutable value.

Everything a request is answered from that comes from files is built here, once, and
never changed afterwards. Reloading (``--watch``) builds a new :class:`Contract` and the
app swaps it in with one assignment: a request that started on the old one finishes on
it, and a contract that fails to build never replaces the one serving.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pactstub.config import Settings
from pactstub.model import Interaction, Pact
from pactstub.render.limits import RenderLimits
from pactstub.render.response import RenderedResponse
from pactstub.render.templates import TemplateSet
from pactstub.routing import Route, RouteIndex
from pactstub.sources.origin import Origin
from pactstub.state.lifecycle import Lifecycle

__all__ = ["Contract", "FailedReload"]


@dataclass(frozen=True)
class Contract:
    """What one version of the pacts and templates serves."""

    pacts: tuple[Pact, ...]
    index: RouteIndex
    templates: TemplateSet
    #: when it was built (seconds since the epoch), for ``/_pactstub/interactions``
    loaded_at: float
    #: for each route, the statuses of the interactions with its method and path
    siblings: dict[int, frozenset[int]] = field(default_factory=dict)
    #: ``/``, ``/health`` and ``/metrics`` when no interaction uses them
    builtin: frozenset[str] = frozenset()
    #: responses with nothing to compute, by route order, filled on first use
    static: dict[int, RenderedResponse] = field(default_factory=dict)
    #: where each pact came from, in the order of ``pacts``
    sources: tuple[Origin, ...] = ()

    @classmethod
    def build(
        cls, pacts: Sequence[Pact], settings: Settings, sources: Sequence[Origin] | None = None
    ) -> Contract:
        """Index the interactions served and bind the templates (``TemplateError`` if they are bad).

        ``sources`` go with ``pacts`` one for one; without them each pact's ``source`` is all
        that is known of where it came from.
        """
        if sources is None:
            sources = [Origin.of_parsed(pact) for pact in pacts]
        if len(sources) != len(pacts):
            raise ValueError(f"{len(pacts)} pacts but {len(sources)} sources")
        served = [i for pact in pacts for i in pact.interactions if _served(i, settings)]
        index = RouteIndex.build(served, strict_headers=settings.strict_headers)
        limits = RenderLimits(settings.render_timeout, settings.render_max_bytes)
        templates = TemplateSet.load(settings.templates, pacts, limits)
        groups: dict[tuple[str, str], set[int]] = defaultdict(set)
        for route in index.routes:
            request = route.interaction.request
            groups[(request.method.upper(), request.path)].add(route.interaction.response.status)
        siblings = {
            route.order: frozenset(
                groups[(route.interaction.request.method.upper(), route.interaction.request.path)]
            )
            for route in index.routes
        }
        builtin = frozenset(
            path
            for path in ("/", "/health", "/metrics")
            if settings.builtin_endpoints and not index.methods_for(path)
        )
        return cls(tuple(pacts), index, templates, time.time(), siblings, builtin, sources=tuple(sources))

    @property
    def lifecycles(self) -> dict[str, Lifecycle]:
        return self.templates.lifecycles

    def route_of(self, interaction: Interaction) -> Route | None:
        return next((r for r in self.index.routes if r.interaction is interaction), None)


@dataclass(frozen=True, slots=True)
class FailedReload:
    """A new version of the pacts or templates that was refused: the one before it still serves."""

    #: when it was refused (seconds since the epoch)
    at: float
    #: what had changed
    reason: str
    #: what is wrong with it, on one line
    error: str


def _served(interaction: Interaction, settings: Settings) -> bool:
    """``provider_state`` keeps the interactions with a state it matches (and, with
    ``empty_provider_state``, those without a named state, as ``pact stub`` does)."""
    pattern = settings.provider_state
    if pattern is None:
        return True
    states = interaction.provider_states
    if settings.empty_provider_state and all(not state.name for state in states):
        return True
    return any(re.search(pattern, state.name) for state in states)
