"""Pacts in, validated model out: fetch (files, URLs, a broker) -> validate -> parse."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pactstub.errors import PactLoadError, Problem
from pactstub.loading.parse import parse_pact
from pactstub.loading.validate import schema_problems
from pactstub.model import Pact
from pactstub.sources import Fetched, LoadedPact, Origin, SourceSpec, discover, fetch_sources, read_file

PactSource = str | PathLike[str] | Mapping[str, Any] | Pact | Fetched

__all__ = ["PactSource", "discover", "load_pacts", "load_sources", "load_with_origins"]


def load_sources(spec: SourceSpec) -> list[LoadedPact]:
    """Fetch, validate and parse every pact ``spec`` names, each with where it came from.

    Raises :class:`~pactstub.errors.SourceError` when a URL or broker fails, and one
    :class:`PactLoadError` listing every problem of the pacts fetched.
    """
    return load_with_origins(fetch_sources(spec))


def load_pacts(sources: Iterable[PactSource]) -> list[Pact]:
    """Load every source (paths, pact dicts, fetched documents, loaded pacts).

    Raises one :class:`PactLoadError` listing all problems.
    """
    return [loaded.pact for loaded in load_with_origins(sources)]


def load_with_origins(sources: Iterable[PactSource]) -> list[LoadedPact]:
    """:func:`load_pacts`, each pact with its :class:`Origin` (a loaded pact's is its ``source``)."""
    return _load(_item(source, index) for index, source in enumerate(sources))


def _item(source: PactSource, index: int) -> Pact | Fetched | Problem:
    if isinstance(source, Pact | Fetched):
        return source
    if isinstance(source, Mapping):
        label = f"<pact {index}>"
        return Fetched(source, Origin("memory", label, label), f"pact-{index}")
    return read_file(Path(source))


def _load(items: Iterable[Pact | Fetched | Problem]) -> list[LoadedPact]:
    loaded: list[LoadedPact] = []
    problems: list[Problem] = []
    for item in items:
        if isinstance(item, Pact):
            loaded.append(LoadedPact(item, Origin.of_parsed(item)))
            continue
        if isinstance(item, Problem):
            problems.append(item)
            continue
        label = item.origin.location
        found = schema_problems(item.document, label)
        if found:
            problems.extend(found)
            continue
        pact, found = parse_pact(item.document, label, item.name)
        problems.extend(found)
        loaded.append(LoadedPact(pact, item.origin))
    if problems:
        raise PactLoadError(problems)
    return loaded
