"""JSON over HTTP(S) for pact URLs and brokers: timeouts, a few retries, one-line errors.

urllib3 does the transport: its ``Retry`` retries refused connections, timeouts and
502/503/504/429 answers with exponential back-off (honouring ``Retry-After``), and
retries a request that may have reached the server only when it is safe to repeat.
Credentials are sent only to the origins (scheme, host, port) they were given for,
so a link pointing elsewhere never receives them.
"""

from __future__ import annotations

import json
from typing import Any

import urllib3
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import Retry, Timeout

from pactstub import __version__
from pactstub.errors import SourceError
from pactstub.sources.access import Credentials, HttpSettings, HttpStatusError, origin_of

HAL_ACCEPT = "application/hal+json, application/json"
#: answers worth asking again for: the server was busy or a proxy could not reach it
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: how much of an error body a message quotes
QUOTE_WIDTH = 200


class HttpClient:
    """Fetches and sends JSON documents; every failure becomes a :class:`SourceError`."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._credentials: dict[tuple[str, str, int | None], Credentials] = {}
        self._pool = urllib3.PoolManager(
            timeout=Timeout(connect=self.settings.connect_timeout, read=self.settings.read_timeout),
            headers={"User-Agent": f"pactstub/{__version__}", "Accept": HAL_ACCEPT},
        )

    def authorise(self, url: str, credentials: Credentials) -> None:
        """Send ``credentials`` with every request to ``url``'s origin."""
        if credentials:
            self._credentials[origin_of(url)] = credentials

    def get_json(self, url: str) -> Any:
        return self.send("GET", url)

    def send(self, method: str, url: str, document: Any = None, *, repeatable: bool = True) -> Any:
        """``method`` ``url`` with ``document`` as a JSON body; the answer's JSON (``None`` when empty).

        ``repeatable=False`` (publishing a result) retries only when no connection was
        made, so the server never receives the request twice.
        """
        headers = {}
        credentials = self._credentials.get(origin_of(url))
        if credentials:
            headers["Authorization"] = credentials.header()
        body = None
        if document is not None:
            body = json.dumps(document).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            response = self._pool.request(
                method, url, body=body, headers=headers, retries=self._retry(repeatable), redirect=True
            )
        except MaxRetryError as error:
            raise SourceError(url, f"{_reason(error.reason, self.settings)}{self._tried()}") from error
        except HTTPError as error:
            raise SourceError(url, _reason(error, self.settings)) from error
        return _document(url, response.status, response.data, credentials is not None)

    def _retry(self, repeatable: bool) -> Retry:
        methods = Retry.DEFAULT_ALLOWED_METHODS | {"POST"} if repeatable else Retry.DEFAULT_ALLOWED_METHODS
        return Retry(
            total=self.settings.retries,
            backoff_factor=self.settings.backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=methods,
            raise_on_status=False,
            respect_retry_after_header=True,
        )

    def _tried(self) -> str:
        count = self.settings.retries + 1
        return f" (tried {count} times)" if count > 1 else ""

    def close(self) -> None:
        self._pool.clear()


def _document(url: str, status: int, data: bytes, sent_credentials: bool) -> Any:
    if status == 401:
        why = "refused the credentials" if sent_credentials else "needs credentials"
        raise HttpStatusError(url, status, f"{why} (HTTP 401)")
    if status == 403:
        raise HttpStatusError(url, status, "refused access with these credentials (HTTP 403)")
    if not 200 <= status < 300:
        quoted = " ".join(data[:QUOTE_WIDTH].decode("utf-8", "replace").split())
        raise HttpStatusError(url, status, f"answered HTTP {status}" + (f": {quoted}" if quoted else ""))
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise SourceError(url, f"answered with something that is not JSON ({error})") from error


def _reason(error: BaseException | None, settings: HttpSettings) -> str:
    """A refused connection, an unknown host, a timeout... in words."""
    if isinstance(error, NameResolutionError):
        return "cannot connect: unknown host"
    if isinstance(error, NewConnectionError):
        cause = error.__context__
        if isinstance(cause, ConnectionRefusedError):
            return "cannot connect: connection refused"
        return f"cannot connect: {getattr(cause, 'strerror', None) or cause or error}"
    if isinstance(error, ReadTimeoutError):
        return f"no answer within {settings.read_timeout:g}s"
    if isinstance(error, TimeoutError):
        return f"no connection within {settings.connect_timeout:g}s"
    if isinstance(error, SSLError):
        return f"TLS failed: {error}"
    if isinstance(error, ProtocolError):
        return f"the connection broke: {error}"
    return str(error) or type(error).__name__
