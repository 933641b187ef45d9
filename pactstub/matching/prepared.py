"""A received request made ready for matching once, then matched against every candidate.

The stub matches one request against several interactions. What depends only
on the request (the lower-cased header map, the parsed JSON, XML or form
body) is computed here once, lazily, and shared by every candidate. Parsed
values are shared read-only: matching never changes them.
"""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from typing import Any

from pactstub.loading.parse import parse_form
from pactstub.model import ReceivedRequest

_UNSET: Any = object()


class ActualBody:
    """Received body bytes and their parsed forms, each parsed on first use."""

    __slots__ = ("_form", "_json", "_text", "_xml", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._json: tuple[Any, str | None] = _UNSET
        self._text: str = _UNSET
        self._form: dict[str, list[str]] = _UNSET
        self._xml: ET.Element | str = _UNSET

    def json(self) -> tuple[Any, str | None]:
        """``(value, None)``, or ``(None, error)`` when the bytes are not JSON."""
        if self._json is _UNSET:
            try:
                self._json = (json.loads(self.data.decode("utf-8")), None)
            except (UnicodeDecodeError, ValueError) as error:
                self._json = (None, str(error))
        return self._json

    def text(self) -> str:
        if self._text is _UNSET:
            self._text = self.data.decode("utf-8", "replace")
        return self._text

    def form(self) -> dict[str, list[str]]:
        if self._form is _UNSET:
            self._form = parse_form(self.text())
        return self._form

    def xml(self) -> ET.Element | str:
        """The document's root element, or the parser's error message."""
        if self._xml is _UNSET:
            try:
                self._xml = ET.fromstring(self.data)  # the stdlib parser resolves no external entities
            except ET.ParseError as error:
                self._xml = str(error)
        return self._xml


class PreparedRequest:
    """A :class:`ReceivedRequest` with what every candidate match needs, computed once."""

    __slots__ = ("body", "content_type", "headers", "method", "request")

    def __init__(self, request: ReceivedRequest) -> None:
        self.request = request
        self.method = request.method.upper()
        headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers.setdefault(name.lower(), []).append(value.strip())
        #: lower-cased name -> the values received, each stripped, in order
        self.headers = headers
        self.content_type = request.content_type
        self.body = ActualBody(request.body or b"")


_last = threading.local()


def prepare(request: ReceivedRequest | PreparedRequest) -> PreparedRequest:
    """The prepared form of ``request``; the same object for repeated calls in a row.

    Callers matching one request against many candidates should call this
    once and pass the result; a bare :class:`ReceivedRequest` is also looked
    up in a one-entry per-thread cache, so older callers share the work too.
    """
    if isinstance(request, PreparedRequest):
        return request
    cached: PreparedRequest | None = getattr(_last, "prepared", None)
    if cached is not None and cached.request is request:
        return cached
    prepared = PreparedRequest(request)
    _last.prepared = prepared
    return prepared
