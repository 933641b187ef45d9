"""Provider verification: replay each interaction's request, check the response against the pact.

``verify(pacts, provider_base_url)`` checks a running provider; without a URL
it checks pactstub itself (an in-process stub on a free port, a fresh
in-memory store, the given templates), which keeps templates and state within
the contract. The result lists every interaction with its mismatches.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from pactstub.config import DEFAULT_STATE_HEADER
from pactstub.errors import ConfigError, ProviderUnreachableError
from pactstub.loading import PactSource, load_pacts
from pactstub.matching.http import match_response
from pactstub.matching.report import Mismatch
from pactstub.model import Interaction, Pact
from pactstub.render.generators import GeneratorContext
from pactstub.sources import Fetched
from pactstub.verification.replay import (
    ReplayError,
    Target,
    build_request,
    post_json,
    send,
)

__all__ = [
    "InteractionResult",
    "PactRun",
    "ProviderUnreachableError",
    "VerificationResult",
    "verify",
]


@dataclass(frozen=True, slots=True)
class InteractionResult:
    """How one interaction fared: its mismatches, or the error that stopped it."""

    description: str
    #: name (file stem) of the pact the interaction comes from
    pact: str
    passed: bool
    mismatches: tuple[Mismatch, ...] = ()
    #: why the interaction could not be checked (timeout, provider state failed, ...)
    error: str | None = None
    states: tuple[str, ...] = ()
    #: position in its pact file, from 0
    index: int = 0
    duration: float = 0.0
    #: where the pact came from (its file or URL), which tells apart pacts of the same name
    source: str = ""


@dataclass(frozen=True, slots=True)
class PactRun:
    """A pact that took part in a verification."""

    name: str
    consumer: str
    provider: str
    source: str
    #: descriptions of v4 message interactions, which are not verified over HTTP
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Every verified interaction, in pact order."""

    provider_base_url: str | None
    pacts: tuple[PactRun, ...]
    interactions: tuple[InteractionResult, ...] = field(default_factory=tuple)
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.interactions)

    @property
    def passed_count(self) -> int:
        return sum(1 for result in self.interactions if result.passed)

    @property
    def failed_count(self) -> int:
        return len(self.interactions) - self.passed_count

    @property
    def summary(self) -> str:
        return f"{self.passed_count} passed, {self.failed_count} failed"


@dataclass(frozen=True, slots=True)
class _Options:
    setup: Target | None
    description: re.Pattern[str] | None
    state: re.Pattern[str] | None
    no_state: bool
    headers: tuple[tuple[str, str], ...]
    timeout: float
    #: when verifying pactstub itself, the header that picks interactions by state
    state_header: str | None


def verify(
    pacts: PactSource | Iterable[PactSource],
    provider_base_url: str | None = None,
    *,
    templates: str | PathLike[str] | None = None,
    provider_states_setup_url: str | None = None,
    filter_description: str | None = None,
    filter_state: str | None = None,
    filter_no_state: bool = False,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    request_timeout: float = 30.0,
    on_result: Callable[[InteractionResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> VerificationResult:
    """Verify a provider (or, without ``provider_base_url``, pactstub itself) against pacts.

    ``pacts`` are paths, pact dicts or loaded :class:`~pactstub.model.Pact`
    values. ``templates`` is the templates folder of the in-process stub (only
    used without ``provider_base_url``). ``headers`` are added to every
    replayed request, replacing the pact's header of the same name.
    ``on_start`` is called with how many interactions will be verified, once the
    provider is ready; ``on_result`` as each interaction finishes.

    Raises :class:`~pactstub.errors.PactLoadError` for bad pacts,
    :class:`~pactstub.errors.ConfigError` for bad options and
    :class:`ProviderUnreachableError` when the provider accepts no connection.
    """
    if isinstance(pacts, str | PathLike | Mapping | Pact | Fetched):
        pacts = [pacts]
    if filter_state is not None and filter_no_state:
        raise ConfigError("--filter-state and --filter-no-state exclude each other")
    if request_timeout <= 0:
        raise ConfigError("--request-timeout must be more than 0 seconds")
    loaded = load_pacts(pacts)
    base = Target.parse(provider_base_url) if provider_base_url is not None else None
    options = _Options(
        setup=Target.parse(
            provider_states_setup_url, "--provider-states-setup-url", "the provider state setup URL"
        )
        if provider_states_setup_url
        else None,
        description=_regex(filter_description, "--filter-description"),
        state=_regex(filter_state, "--filter-state"),
        no_state=filter_no_state,
        headers=tuple(headers.items() if isinstance(headers, Mapping) else headers),
        timeout=request_timeout,
        state_header=None if base is not None else DEFAULT_STATE_HEADER,
    )
    started = time.perf_counter()
    runs = tuple(PactRun(p.name, p.consumer, p.provider, p.source, p.skipped) for p in loaded)
    results: list[InteractionResult] = []
    chosen = [(pact, i) for pact in loaded for i in pact.interactions if _selected(i, options)]
    with _provider(base, loaded, templates) as target:
        if on_start is not None:
            on_start(len(chosen))
        for pact, interaction in chosen:
            result = _verify_one(pact, interaction, target, options)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return VerificationResult(
        provider_base_url, runs, tuple(results), round(time.perf_counter() - started, 6)
    )


def _regex(pattern: str | None, option: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigError(f"{option}: invalid regular expression: {error}") from error


def _selected(interaction: Interaction, options: _Options) -> bool:
    if options.description is not None and not options.description.search(interaction.description):
        return False
    names = [state.name for state in interaction.provider_states]
    if options.no_state:
        return not names
    if options.state is not None:
        return any(options.state.search(name) for name in names)
    return True


@contextmanager
def _provider(
    base: Target | None, pacts: Sequence[Pact], templates: str | PathLike[str] | None
) -> Iterator[Target]:
    """The provider to verify: the one at ``base``, or an in-process pactstub."""
    if base is not None:
        yield base
        return
    from pactstub.testing.server import StubServer

    stub = StubServer(pacts, templates=templates, database_url="sqlite://", check_on_exit=False)
    with stub:
        yield Target.parse(stub.url)


def _verify_one(pact: Pact, interaction: Interaction, target: Target, options: _Options) -> InteractionResult:
    started = time.perf_counter()
    states = tuple(state.name for state in interaction.provider_states)
    mismatches: list[Mismatch] = []
    error: str | None = None
    params: dict[str, Any] = {}
    try:
        for state in interaction.provider_states:
            params.update(state.params)
            params.update(_change_state(pact, interaction, state.name, state.params, "setup", options))
        extra = list(options.headers)
        if options.state_header is not None and states:
            extra.append((options.state_header, states[0]))
        ctx = GeneratorContext(state_params=params, base_url=target.url)
        response = send(target, build_request(interaction.request, ctx, target, extra), options.timeout)
        try:
            mismatches = match_response(interaction.response, response)
        except Exception as failure:  # a matcher bug must not hide the other interactions
            error = f"matching failed: {type(failure).__name__}: {failure}"
    except ReplayError as failure:
        error = str(failure)
    finally:
        for state in interaction.provider_states:
            try:
                _change_state(pact, interaction, state.name, state.params, "teardown", options)
            except ReplayError as failure:
                error = error or str(failure)
    return InteractionResult(
        description=interaction.description,
        pact=pact.name,
        passed=not mismatches and error is None,
        mismatches=tuple(mismatches),
        error=error,
        states=states,
        index=interaction.index,
        duration=round(time.perf_counter() - started, 6),
        source=pact.source,
    )


def _change_state(
    pact: Pact, interaction: Interaction, name: str, params: Mapping[str, Any], action: str, options: _Options
) -> dict[str, Any]:
    """POST one state change; a JSON object answered to a setup feeds ProviderState generators."""
    if options.setup is None:
        return {}
    document = {
        "consumer": pact.consumer,
        "state": name,
        "states": [state.name for state in interaction.provider_states],
        "params": dict(params),
        "action": action,
    }
    try:
        response = post_json(options.setup, document, options.timeout)
    except ReplayError as error:
        raise ReplayError(f"provider state {action} for {name!r} failed: {error}") from error
    if not 200 <= response.status < 300:
        text = response.body[:200].decode("utf-8", "replace")
        raise ReplayError(
            f"provider state {action} for {name!r} failed: HTTP {response.status} {text}".rstrip()
        )
    if action == "setup" and response.body:
        try:
            answer = json.loads(response.body)
        except ValueError:
            return {}
        if isinstance(answer, dict):
            return answer
    return {}
