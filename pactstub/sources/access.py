"""How to reach a pact over HTTP: credentials, timeouts and retries, and the error a status makes.

No I/O here, so the CLI can build its options without importing the HTTP client.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from pactstub.errors import SourceError


@dataclass(frozen=True, slots=True)
class Credentials:
    """HTTP basic credentials, or a bearer token."""

    username: str | None = None
    password: str | None = None
    token: str | None = None

    def __bool__(self) -> bool:
        return bool(self.username or self.token)

    def header(self) -> str:
        if self.token:
            return f"Bearer {self.token}"
        pair = f"{self.username or ''}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True, slots=True)
class HttpSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: attempts after the first one
    retries: int = 3
    #: seconds; the n-th retry waits ``backoff * 2**(n-1)`` (the first none)
    backoff: float = 0.25


class HttpStatusError(SourceError):
    """The server answered, with a status that is not a success."""

    def __init__(self, location: str, status: int, message: str) -> None:
        self.status = status
        super().__init__(location, message)


def origin_of(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def split_credentials(url: str) -> tuple[str, Credentials]:
    """``https://user:secret@host/x`` -> (``https://host/x``, those credentials)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, Credentials()
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, Credentials(unquote(parts.username), unquote(parts.password or ""))


def redact(url: str) -> str:
    """``url`` without credentials, for messages and labels."""
    return split_credentials(url)[0]
