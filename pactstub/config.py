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
from pactstub.state.engine import DatabaseSettings

_POOL = DatabaseSettings()

DEFAULT_STATE_HEADER = "X-Pact-Provider-State"
DEFAULT_SESSION_HEADER = "X-Pactstub-Session"
#: Request headers whose values the journal never shows.
DEFAULT_MASKED_HEADERS = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "Offline-Token",
    "X-Api-Key",
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that changes how the stub answers."""

    #: folder of response templates (``<pact stem>/<interaction slug>.json.j2``)
    templates: Path | None = None
    #: SQLAlchemy URL of the counter and record store; ``sqlite://`` is in memory
    database_url: str = "sqlite://"
    pool_size: int = _POOL.pool_size
    max_overflow: int = _POOL.max_overflow
    pool_timeout: float = _POOL.pool_timeout
    #: seconds connecting to PostgreSQL, or one statement, may take before the store counts as unavailable
    database_timeout: float = _POOL.timeout
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
    #: how many recent requests the journal keeps (in the store, shared by every worker)
    journal_size: int = 1000
    #: how many bytes of entries the journal keeps at most
    journal_bytes: int = 16 * 1024 * 1024
    #: how many bytes of a request body an entry keeps (the rest is marked truncated)
    journal_body_limit: int = 4096
    #: request headers whose values the journal shows as ``***``
    masked_headers: tuple[str, ...] = DEFAULT_MASKED_HEADERS
    #: seconds one template render may take before it is stopped (answered 500)
    render_timeout: float = 2.0
    #: bytes one template render may write (and the largest value one step of it may build)
    render_max_bytes: int = 1024 * 1024
    #: serve ``GET /health`` and ``GET /`` unless the pact defines them
    builtin_endpoints: bool = True
    #: request header naming the session (its own counters, records, clock and journal)
    session_header: str = DEFAULT_SESSION_HEADER
    #: seed of every random choice (generators, templates, lifecycle failures); ``None``: random
    seed: int | None = None
    #: ``[INTERACTION=]DURATION`` delays (``200ms``, ``50ms-300ms``)
    delays: tuple[str, ...] = ()
    #: ``[INTERACTION=]STATUS|drop[@PROBABILITY]`` faults
    faults: tuple[str, ...] = ()
    #: bearer token every ``/_pactstub/`` call must carry (``None``: no token needed)
    admin_token: str | None = None
    #: the base URL the stub hands out (templates' ``base_url``); ``None``: as the client reached it
    public_url: str | None = None
    #: how many proxies in front may set ``X-Forwarded-*`` (0: the headers are ignored)
    trusted_proxies: int = 0

    def __post_init__(self) -> None:
        if self.provider_state is not None:
            try:
                re.compile(self.provider_state)
            except re.error as error:
                raise ConfigError(f"provider_state: invalid regular expression: {error}") from error
        if self.empty_provider_state and self.provider_state is None:
            raise ConfigError("empty_provider_state needs provider_state (a regular expression)")
        if not 100 <= self.no_match_status <= 599:
            raise ConfigError(f"no_match_status: {self.no_match_status} is not an HTTP status")
        for name in (
            "max_body_size",
            "journal_size",
            "journal_bytes",
            "journal_body_limit",
            "pool_size",
            "trusted_proxies",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        for name in ("database_timeout", "render_timeout", "render_max_bytes"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be more than 0")
        if self.public_url is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", self.public_url):
            raise ConfigError(f"public_url: {self.public_url!r} is not an http(s) URL")
        if self.admin_token is not None and (not self.admin_token or not self.admin_token.isprintable()):
            raise ConfigError("admin_token must be printable text")

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
        for name in ("delays", "faults", "masked_headers"):
            if isinstance(values.get(name), str):
                values[name] = (values[name],)
            elif values.get(name) is not None:
                values[name] = tuple(values[name])
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
