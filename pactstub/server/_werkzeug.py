"""werkzeug's threaded server, for ``--server werkzeug`` and the embedded ``StubServer``.

A thread per connection and a connection per request (werkzeug closes every
connection after its response): simple, and enough for one test's traffic. What
it lacks for a stub is added here: its error pages for unreadable requests become
the stub's JSON refusals and journal entries, chunk extensions are understood, a
connection idle longer than the timeout is closed, and :class:`ConnectionDropped`
closes the connection with nothing written.
"""

from __future__ import annotations

import socket
import ssl
import string
from collections.abc import Iterable
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from werkzeug.serving import DechunkedInput, ThreadedWSGIServer, WSGIRequestHandler

from pactstub.errors import ConnectionDropped
from pactstub.server.config import ServerConfig
from pactstub.server.tls import TlsFiles
from pactstub.server.transport import Refusal, Report, ignore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Longest chunk-size line read (size, extensions and line end).
CHUNK_LINE_LIMIT = 4096
HEX_DIGITS = frozenset(string.hexdigits.encode())


class _DroppedByApp(ConnectionError):
    """:class:`ConnectionDropped` in the form werkzeug's handler treats as a lost connection."""


def dropping(app: WSGIApplication) -> WSGIApplication:
    """``app``, with :class:`ConnectionDropped` turned into a closed connection by the handler."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except ConnectionDropped as error:
            raise _DroppedByApp(str(error)) from error

    return wsgi


class _Dechunked(DechunkedInput):
    """werkzeug's chunked reader, accepting chunk extensions (``1a;name=value``, RFC 9112 7.1.1)."""

    def read_chunk_len(self) -> int:
        line = self._rfile.readline(CHUNK_LINE_LIMIT)
        if not line.endswith(b"\n"):
            raise OSError("chunk size line too long or cut short")
        size = line.split(b";", 1)[0].strip(b" \t\r\n")
        if not size or not HEX_DIGITS.issuperset(size):
            raise OSError(f"invalid chunk size {size[:20]!r}")
        return int(size, 16)


class RequestHandler(WSGIRequestHandler):
    """One connection of the stub on werkzeug's server."""

    protocol_version = "HTTP/1.1"
    #: seconds a connection may wait for the client (socket timeout)
    timeout: ClassVar[float | None] = 30.0
    report: ClassVar[Report] = staticmethod(ignore)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The app logs one line per request itself; werkzeug's own line would be a second."""

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        if isinstance(environ["wsgi.input"], DechunkedInput):
            environ["wsgi.input"] = _Dechunked(cast(IO[bytes], self.rfile))
        return environ

    def parse_request(self) -> bool:
        """Refuse HTTP/0.9 (a request line without a version): its answer would have no status."""
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(400, "a request line needs an HTTP version")
            return False
        return True

    def connection_dropped(self, error: BaseException, environ: WSGIEnvironment | None = None) -> None:
        self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """``http.server``'s refusals of an unreadable request, as the stub's JSON."""
        reason = message or HTTPStatus(code).phrase
        path = getattr(self, "path", None)
        refusal = Refusal.of(code, f"malformed request: {reason}", self.command, path)
        refusal.report_to(type(self).report)
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # set when the request line was unreadable
            self.request_version = "HTTP/1.0"  # so that the status line and headers are sent
        self.send_response(refusal.status, refusal.reason)
        for name, value in refusal.headers():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(refusal.body())


def handler_class(
    report: Report, timeout: float, base: type[RequestHandler] = RequestHandler
) -> type[RequestHandler]:
    """A handler class that reports refusals to ``report`` and times out after ``timeout``."""
    attributes: dict[str, Any] = {"report": staticmethod(report), "timeout": timeout}
    return type("StubRequestHandler", (base,), attributes)


def ssl_context(tls: TlsFiles | None) -> ssl.SSLContext | None:
    if tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    return context


def make_server(
    app: WSGIApplication, sock: socket.socket, config: ServerConfig, report: Report
) -> ThreadedWSGIServer:
    """The threaded server on the bound socket ``sock`` (werkzeug takes a duplicate of it)."""
    host, port = sock.getsockname()[:2]
    server = ThreadedWSGIServer(
        host,
        port,
        dropping(app),
        handler_class(report, config.timeout),
        ssl_context=ssl_context(config.tls),
        fd=sock.fileno(),
    )
    sock.close()
    return server
