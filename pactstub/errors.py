"""Every error pactstub raises on purpose derives from :class:`PactstubError`.

Each class carries the location of the problem as structured fields; ``str()``
is the message a person reads. The CLI turns them into an exit code, the WSGI
app into an HTTP response, the pytest plugin into an ``AssertionError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PactstubError(Exception):
    """Base class of pactstub's own errors."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a pact file, at a JSON path inside it."""

    source: str
    json_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.json_path}: {self.message}"


class PactLoadError(PactstubError):
    """One or more pact files could not be loaded; all problems are listed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"invalid pact: {self.problems[0]}"
        head = f"invalid pact ({len(self.problems)} problems):"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class TemplateError(PactstubError):
    """A response template failed to load or render, or produced invalid output."""

    def __init__(self, template: str, message: str, line: int | None = None) -> None:
        self.template = template
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.template}:{self.line}" if self.line else self.template
        return f"template {where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"template": self.template, "line": self.line, "message": self.message}


class StoreError(PactstubError):
    """The counter and record store could not do what was asked."""


class ConfigError(PactstubError):
    """An option or environment setting has a value pactstub cannot use."""


class ProviderUnreachableError(PactstubError):
    """``verify`` could not connect to the provider (or its provider-state URL)."""


class ConnectionDropped(PactstubError):
    """Raised by the WSGI app, before it starts a response, to have the server close the
    connection without answering anything (a fault a test asked for).

    Every server pactstub runs on catches it and drops the client's connection; a plain
    WSGI caller (a test client) sees the exception itself.
    """
