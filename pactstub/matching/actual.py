"""The received side of a match: a request's parts in the forms matching reads, parsed once.

The stub matches one request against several interactions. What depends only
on the request (the lower-cased header map, the parsed JSON, XML or form
body) is worked out here once, lazily, by the caller that matches it, and
shared by every candidate. Parsed values are read-only: matching never
changes them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pactstub import jsontext
from pactstub.errors import JsonLimitError
from pactstub.model import ReceivedRequest
from pactstub.wire import parse_form

#: how the media types of JSON bodies end (``application/json``, ``application/*+json``)
_JSON_MEDIA = ("/json", "+json")


class ActualBody:
    """Received body bytes and their parsed forms, each parsed on first use."""

    __slots__ = ("_form", "_json", "_text", "_xml", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._json: tuple[object, ValueError | None] | None = None
        self._text: str | None = None
        self._form: dict[str, list[str]] | None = None
        self._xml: ET.Element | str | None = None

    def json(self) -> tuple[object, str | None]:
        """``(value, None)``, or ``(None, error)`` when the bytes are not JSON (or JSON refused:
        nested too deeply, a number that is not finite, a lone surrogate; see :mod:`pactstub.jsontext`)."""
        value, error = self._parsed()
        return value, None if error is None else str(error)

    def refusal(self) -> JsonLimitError | None:
        """Why the body, parsed as JSON, is refused whatever the pact says; ``None`` if it is not."""
        error = self._parsed()[1]
        return error if isinstance(error, JsonLimitError) else None

    def _parsed(self) -> tuple[object, ValueError | None]:
        if self._json is None:
            try:
                self._json = (jsontext.loads(self.data.decode("utf-8")), None)
            except ValueError as error:  # UnicodeDecodeError and JsonLimitError are ValueErrors
                self._json = (None, error)
        return self._json

    def text(self) -> str:
        if self._text is None:
            self._text = self.data.decode("utf-8", "replace")
        return self._text

    def form(self) -> dict[str, list[str]]:
        if self._form is None:
            self._form = parse_form(self.text())
        return self._form

    def xml(self) -> ET.Element | str:
        """The document's root element, or the parser's error message."""
        if self._xml is None:
            try:
                self._xml = ET.fromstring(self.data)  # the stdlib parser resolves no external entities
            except ET.ParseError as error:
                self._xml = str(error)
        return self._xml


def received_headers(actual: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Received headers by lower-cased name, values stripped, in order."""
    received: dict[str, list[str]] = {}
    for name, value in actual:
        received.setdefault(name.lower(), []).append(value.strip())
    return received


class ActualRequest:
    """A :class:`ReceivedRequest` with what every candidate match needs.

    Make one per received request and match it against every candidate.
    """

    __slots__ = ("body", "content_type", "headers", "method", "request")

    def __init__(self, request: ReceivedRequest) -> None:
        self.request = request
        self.method = request.method.upper()
        #: lower-cased name -> the values received, each stripped, in order
        self.headers = received_headers(request.headers)
        self.content_type = request.content_type
        self.body = ActualBody(request.body)

    @property
    def declares_json(self) -> bool:
        """Whether the request says its body is JSON (its content type)."""
        media = (self.content_type or "").partition(";")[0].strip().lower()
        return media.endswith(_JSON_MEDIA)
