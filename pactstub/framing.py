"""How a message is framed on the wire: the request body read within its limit, the
response's length and connection headers set by us, never taken from a pact.

A pact recorded from real traffic often carries ``Content-Length``,
``Transfer-Encoding`` or ``Connection``. Replayed as they are, they describe some
other message: a second, wrong ``Content-Length`` on the wire, or a chunked
announcement over a plain body. Those headers belong to the HTTP server and to
this module, which computes them from the body actually sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from pactstub import jsontext
from pactstub.errors import RequestBodyError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Headers that frame one message or describe one connection (RFC 9110 section 7.6.1,
#: PEP 3333's hop-by-hop list): the server owns them, a pact or a template cannot set them.
SERVER_OWNED = frozenset(
    {
        "connection",
        "content-length",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
#: How much of a body is read from the stream at a time.
READ_SIZE = 64 * 1024


def frame(
    method: str, status: int, headers: Iterable[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body as they go on the wire.

    Server-owned headers are dropped; ``Content-Length`` is the body's own. 1xx, 204
    and 304 answers have no body and no length (RFC 9110 sections 8.6, 15.3.5). A
    HEAD answer has the length of the GET answer and no body.
    """
    kept = [(name, value) for name, value in headers if name.lower() not in SERVER_OWNED]
    if status < 200 or status in (204, 304):
        return kept, b""
    kept.append(("Content-Length", str(len(body))))
    return kept, b"" if method.upper() == "HEAD" else body


def error_body(status: int, message: str, **details: Any) -> bytes:
    """The JSON document of an error the stub answers on its own: ``{"error", "status", ...}``."""
    return jsontext.dumps_bytes({"error": message, "status": status, **details})


def read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """The request body; at most ``limit`` bytes are accepted, whatever its framing.

    A body announced larger than ``limit`` is refused before it is read; a chunked
    one (the server marks its stream ``wsgi.input_terminated``) is read up to one
    byte past the limit, so an oversized body is refused whole, never cut and used.
    """
    declared = _content_length(environ)
    if declared is not None and declared > limit:
        raise _too_large(limit, "Content-Length")
    terminated = bool(environ.get("wsgi.input_terminated"))
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding and not terminated:  # the server did not decode it: its length is unknown
        raise RequestBodyError(400, "Transfer-Encoding", f"unsupported Transfer-Encoding {coding!r}")
    if declared is None and not terminated:
        return b""  # PEP 3333: without a length, reading could block forever
    header = "Content-Length" if declared is not None else "Transfer-Encoding"
    wanted = declared if declared is not None else limit + 1
    try:
        body = _read_up_to(environ["wsgi.input"], wanted)
    except TimeoutError as error:
        raise RequestBodyError(408, header, "the request body did not arrive in time") from error
    except (OSError, ValueError) as error:
        raise RequestBodyError(400, header, f"the request body is not framed correctly: {error}") from error
    if len(body) > limit:
        raise _too_large(limit, header)
    if declared is not None and len(body) < declared and not terminated:
        message = f"the request body ended after {len(body)} of the {declared} bytes announced"
        raise RequestBodyError(400, header, message)
    return body


def _content_length(environ: WSGIEnvironment) -> int | None:
    text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise RequestBodyError(400, "Content-Length", f"Content-Length {text!r} is not a number of bytes")
    return int(text)


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Read until ``size`` bytes or the end of the stream (one ``read`` may return less)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(min(remaining, READ_SIZE))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _too_large(limit: int, header: str) -> RequestBodyError:
    return RequestBodyError(413, header, "request body too large", limit=limit)


__all__ = ["SERVER_OWNED", "error_body", "frame", "read_body"]
