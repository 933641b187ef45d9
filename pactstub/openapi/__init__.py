"""An OpenAPI 3.1 document of what the stub serves, for people and tools that read OpenAPI.

Paths (with path regexes turned into parameters where they allow), methods, query and
header parameters, request and response bodies with schemas inferred from the examples
and matching rules, one named example per interaction, and the provider states in the
descriptions. ``pactstub openapi`` writes it; ``GET /_pactstub/openapi.json`` serves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pactstub import __version__
from pactstub.model import Interaction, Pact
from pactstub.openapi.operations import path_items

__all__ = ["openapi_document"]


def openapi_document(
    pacts: Sequence[Pact], interactions: Iterable[Interaction] | None = None, servers: Sequence[str] = ()
) -> dict[str, Any]:
    """The document for ``interactions`` (default: every interaction of ``pacts``)."""
    chosen = interactions if interactions is not None else (i for p in pacts for i in p.interactions)
    providers = sorted({p.provider for p in pacts if p.provider}) or ["provider"]
    parties = "; ".join(f"{p.consumer} -> {p.provider} ({p.name})" for p in pacts)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": ", ".join(providers),
            "version": __version__,
            "description": f"What pactstub serves from the pacts {parties}.",
        },
    }
    if servers:
        document["servers"] = [{"url": url} for url in servers]
    tags = {p.name: f"{p.consumer} -> {p.provider}" for p in pacts if p.name}
    if tags:
        document["tags"] = [{"name": name, "description": text} for name, text in tags.items()]
    document["paths"] = path_items(chosen)
    return document
