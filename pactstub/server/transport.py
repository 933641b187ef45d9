"""Requests an HTTP server refuses before the app runs, answered and reported alike.

Each server has its own parser and its own error page (waitress's text, gunicorn's
HTML, ``http.server``'s HTML). A client of the stub sees one shape instead: a JSON
body ``{"error": ..., "status": ...}``, and the stub's journal and log get an entry
through :data:`Report`, as for any request the app answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from pactstub.framing import error_body

#: ``report(method, path, status, message)``: ``StubApp.transport_error``.
Report = Callable[[str, str, int, str], None]
#: Method and path of a request whose first line could not be read.
UNKNOWN = "-"


def ignore(method: str, path: str, status: int, message: str) -> None:
    """A :data:`Report` for a WSGI app that keeps no journal."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused for how it was sent: bad framing, too large, too slow."""

    status: int
    message: str
    method: str = UNKNOWN
    path: str = UNKNOWN
    #: the body limit, for a 413
    limit: int | None = None

    @classmethod
    def of(
        cls, status: int, message: str, method: str | None, path: str | None, limit: int | None = None
    ) -> Refusal:
        """Refusals are 4xx: a server's 501 for a transfer coding it does not know is the
        client's request that cannot be read, so a 400 (no 5xx for any malformed request)."""
        client_status = 400 if status >= 500 else status
        one_line = message.replace("\r", "\\r").replace("\n", "\\n")  # it quotes what was sent
        return cls(client_status, one_line, method or UNKNOWN, path or UNKNOWN, limit)

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Bad Request"

    def body(self) -> bytes:
        if self.limit is None:
            return error_body(self.status, self.message)
        return error_body(self.status, self.message, limit_bytes=self.limit)

    def headers(self) -> list[tuple[str, str]]:
        """The answer's headers; the connection is closed after it (its framing is in doubt)."""
        return [("Content-Type", "application/json"), ("Content-Length", str(len(self.body())))]

    def http_response(self) -> bytes:
        """The whole answer as HTTP/1.1 bytes, for a server that writes to the socket itself."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{name}: {value}" for name, value in self.headers()]
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body()

    def report_to(self, report: Report) -> None:
        report(self.method, self.path, self.status, self.message)


__all__ = ["UNKNOWN", "Refusal", "Report", "ignore"]
