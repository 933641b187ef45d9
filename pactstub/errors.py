"""Every error pactstub raises on purpose derives from :class:`PactstubError`.

Each class carries the location of the problem as structured fields; ``str()``
is the message a person reads. The CLI turns them into an exit code (the
class's ``exit_code``), the WSGI app into an HTTP response, the pytest plugin
into an ``AssertionError``.

Exit codes: ``1`` is left to "the check failed" (``verify`` found mismatches);
``2`` means what was given cannot be used (options, pact files, templates,
documents), so running again changes nothing until it is fixed; ``3`` means
something pactstub needs is unavailable (the database, the provider, the
address to listen on), so running again later may work. A pact that cannot be
fetched (:class:`SourceError`) is ``2`` even when its broker is down, as the
Pact tools treat a contract they cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

#: what was given cannot be used
EXIT_UNUSABLE = 2
#: something pactstub needs (the database, the provider) is unavailable
EXIT_UNAVAILABLE = 3


class PactstubError(Exception):
    """Base class of pactstub's own errors."""

    #: the process exit status when the error ends a command
    exit_code: ClassVar[int] = EXIT_UNUSABLE


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
    """The counter and record store refused what was asked (a bad name, value or document)."""


class RecordNotFound(StoreError):
    """No record has this id in the collection (of the session); nothing was read or changed."""

    def __init__(self, collection: str, record_id: int, session: str) -> None:
        self.collection = collection
        self.record_id = record_id
        self.session = session
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"no record {self.record_id} in collection {self.collection!r} of session {self.session!r}"


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, refusing connections, too slow, or its file is gone).

    Unlike other store errors this says nothing about the request: the same request may
    succeed once the database is back, so the app answers 503 with ``Retry-After``. The
    message names neither host, user nor password.
    """

    exit_code = EXIT_UNAVAILABLE


class LocatedError(PactstubError):
    """An error at one place, ``location`` (a JSON path, a URL), told as ``location: message``."""

    def __init__(self, location: str, message: str) -> None:
        self.location = location
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class JsonLimitError(LocatedError, ValueError):
    """JSON that parses but that pactstub will not take: nested too deeply, a number that is
    not finite (``NaN``, ``Infinity``, ``1e999``), or a string with a lone surrogate.

    ``location`` is the JSON path inside the document (``$.tags[0]``). It is a
    :class:`ValueError` too, so code that refuses invalid JSON refuses this as well.
    """


class ConfigError(PactstubError):
    """An option or environment setting has a value pactstub cannot use."""


class SourceError(LocatedError):
    """A pact could not be fetched: a URL or broker refused, failed or was unreachable.

    ``location`` is the URL asked for (credentials removed); the message is one line.
    """


class ProviderUnreachableError(PactstubError):
    """``verify`` could not connect to the provider (or its provider-state URL)."""

    exit_code = EXIT_UNAVAILABLE


class ConnectionDropped(PactstubError):
    """Raised by the WSGI app, before it starts a response, to have the server close the
    connection without answering anything (a fault a test asked for).

    Every server pactstub runs on catches it and drops the client's connection; a plain
    WSGI caller (a test client) sees the exception itself.
    """


class RequestBodyError(PactstubError):
    """A request body that cannot be read as its headers frame it, or is larger than allowed.

    ``header`` names the header that frames the body (``Content-Length`` or
    ``Transfer-Encoding``); ``status`` is the HTTP status the request is answered with.
    """

    def __init__(self, status: int, header: str, message: str, limit: int | None = None) -> None:
        self.status = status
        self.header = header
        self.message = message
        self.limit = limit
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} ({self.header})"


class ListenError(PactstubError):
    """The server could not listen on the address asked for (taken, or not this machine's).

    Exit 3, as for anything unavailable: a taken port is usually free again later.
    """

    exit_code = EXIT_UNAVAILABLE
