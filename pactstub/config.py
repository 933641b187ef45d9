"""Settings shared by ``create_app`` and the CLI, with their defaults in one place.

The CLI's options mirror these fields one to one, so ``pactstub serve
--strict-headers`` and ``create_app(pacts, strict_headers=True)`` are the same
thing. The defaults suit a test suite: an in-memory store, no files written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pactstub.errors import ConfigError

DEFAULT_STATE_HEADER = "X-Pact-Provider-State"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that changes how the stub answers."""

    #: folder of response templates (``<pact stem>/<interaction slug>.json.j2``)
    templates: Path | None = None
    #: SQLAlchemy URL of the counter and record store; ``sqlite://`` is in memory
    database_url: str = "sqlite://"
    pool_size: int = 10
    max_overflow: int = 20
    pool_timeout: float = 30.0
    #: allowed CORS origins; ``("*",)`` allows any
    cors_origins: tuple[str, ...] = ("*",)
    #: only interactions with a provider state matching this regex are served
    provider_state: str | None = None
    #: with ``provider_state``, also serve interactions without a provider state (or with
    #: an unnamed one), as ``pact stub --empty-provider-state`` does
    empty_provider_state: bool = False
    #: request header whose value picks interactions by provider state
    provider_state_header: str = DEFAULT_STATE_HEADER
    #: match transport headers (Host, Content-Length, ...) too
    strict_headers: bool = False
    #: status of the answer when a path and method exist but nothing matches
    no_match_status: int = 400
    #: largest request body accepted, in bytes (413 above it)
    max_body_size: int = 10 * 1024 * 1024
    #: how many recent requests ``/_pactstub/requests`` keeps
    journal_size: int = 200
    #: serve ``GET /health`` and ``GET /`` unless the pact defines them
    builtin_endpoints: bool = True

    def __post_init__(self) -> None:
        if self.provider_state is not None:
            try:
                re.compile(self.provider_state)
            except re.error as error:
                raise ConfigError(f"--provider-state: invalid regular expression: {error}") from error
        if self.empty_provider_state and self.provider_state is None:
            raise ConfigError("--empty-provider-state needs --provider-state REGEX")
        if not 100 <= self.no_match_status <= 599:
            raise ConfigError(f"--no-match-status: {self.no_match_status} is not an HTTP status")
        for name in ("max_body_size", "journal_size", "pool_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Settings:
        """Build settings from keyword options, rejecting unknown names clearly."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        values = dict(options)
        if isinstance(values.get("cors_origins"), str):
            values["cors_origins"] = split_origins(values["cors_origins"])
        if values.get("templates") is not None:
            values["templates"] = Path(values["templates"])
        return cls(**values)


def split_origins(text: str) -> tuple[str, ...]:
    """``"https://a, https://b"`` -> ``("https://a", "https://b")``."""
    return tuple(part.strip() for part in text.split(",") if part.strip()) or ("*",)


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` scheme that hosting platforms hand out."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url
