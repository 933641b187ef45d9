"""What a response template can see: the request, the interaction, state, and the helpers.

Built per request from plain values. Values that come from the pact (the example,
provider-state parameters) are frozen once, at load (:func:`frozen`), so no template can
change them for later requests and none has to be copied per request.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from pactstub.matching.actual import ActualBody
from pactstub.model import Interaction, ReceivedRequest
from pactstub.state.unit import UnitOfWork

__all__ = ["RequestView", "TemplateContext", "frozen", "path_params"]


def frozen(value: Any) -> Any:
    """A read-only copy: mappings become mapping proxies, lists tuples (JSON writes both as before)."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value


class RequestView:
    """The parts of a request a template reads, decoded on first use."""

    def __init__(
        self,
        request: ReceivedRequest,
        path_params: Mapping[Any, str | None] | None = None,
        parsed: ActualBody | None = None,
    ) -> None:
        self._request = request
        #: the body as matching parsed it (parsed once per request, whoever asks first)
        self._parsed = parsed or ActualBody(request.body)
        #: named groups of the interaction's path regex by name, unnamed ones by position (from 1)
        self.path_params: Mapping[Any, str | None] = path_params or {}

    @property
    def method(self) -> str:
        return self._request.method.upper()

    @property
    def path(self) -> str:
        return self._request.path

    @cached_property
    def segments(self) -> list[str]:
        """``/jobs/123`` -> ``["jobs", "123"]``."""
        return self._request.path.split("/")[1:]

    @cached_property
    def query(self) -> dict[str, tuple[str | None, ...]]:
        return dict(self._request.query)

    @cached_property
    def headers(self) -> dict[str, str]:
        """Lower-cased names; repeated headers joined with ``, ``."""
        found: dict[str, str] = {}
        for name, value in self._request.headers:
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        return found

    @cached_property
    def text(self) -> str:
        return self._request.body.decode("utf-8", "replace")

    @cached_property
    def body(self) -> Any:
        """The body as JSON, or ``None`` when it is empty, not JSON or JSON refused (too deep...)."""
        if not self._request.body.strip():
            return None
        value, error = self._parsed.json()
        return None if error else value

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """A form-encoded body: name -> its values, in order (whatever its content type says)."""
        parsed: dict[str, list[str]] = {}
        for name, value in parse_qsl(self.text, keep_blank_values=True):
            parsed.setdefault(name, []).append(value)
        return parsed

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "text": self.text,
        }


def path_params(interaction: Interaction, path: str) -> dict[Any, str | None]:
    """The groups of the interaction's path regex in ``path``: by name, and by position from 1."""
    rules = interaction.request.rules.path
    if rules is None:
        return {}
    for matcher in rules.matchers:
        pattern = matcher.regex
        found = pattern.fullmatch(path) if pattern is not None else None
        if found is not None:
            params: dict[Any, str | None] = dict(enumerate(found.groups(), start=1))
            params.update(found.groupdict())
            return params
    return {}


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Everything a template is rendered with."""

    request: RequestView
    interaction: Interaction | None
    #: the stub's base URL as clients should reach it, e.g. ``http://127.0.0.1:5000``
    base_url: str
    #: opens the render's unit of work on the request's session (called on first use)
    unit: Callable[[], UnitOfWork]
    #: the stub's random generator (seeded by ``--seed``)
    rng: random.Random
    #: provider-state parameters of the interaction (frozen)
    state_params: Mapping[str, Any] = field(default_factory=dict)
    #: for the no-match template: the explanation of what failed
    no_match: Mapping[str, Any] | None = None
    #: refuses (``TemplateError``) a status chosen with ``set_status`` that the pact does not allow
    check_status: Callable[[int], None] | None = None
