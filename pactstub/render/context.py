"""What a response template can see: the request, the interaction, and state.

Built per request from plain values; the store is reached through a callable
so a template that never touches state never opens a database connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pactstub.model import Interaction, ReceivedRequest


@dataclass(frozen=True, slots=True)
class RequestView:
    """The parts of a request a template reads, already decoded."""

    method: str
    path: str
    query: Mapping[str, tuple[str | None, ...]]
    headers: Mapping[str, str]
    body: Any
    text: str

    @classmethod
    def of(cls, request: ReceivedRequest) -> RequestView:
        text = request.body.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        headers: dict[str, str] = {}
        for name, value in request.headers:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return cls(request.method.upper(), request.path, dict(request.query), headers, body, text)


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Everything a template is rendered with."""

    request: RequestView
    interaction: Interaction | None
    #: the stub's base URL as the client reached it, e.g. ``http://127.0.0.1:5000``
    base_url: str
    #: opens (once) and returns the counter and record store
    store: Callable[[], Any]
    #: provider-state parameters of the interaction
    state_params: Mapping[str, Any] = field(default_factory=dict)
    #: for the no-match template: the explanation of what failed
    no_match: Mapping[str, Any] | None = None
