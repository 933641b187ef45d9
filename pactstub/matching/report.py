"""What a failed match reports: one :class:`Mismatch` per difference found.

The wording of ``message`` follows the Pact reference implementation so that a
consumer team reading our output sees the sentences they already know from the
other Pact tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

#: Where a body location is reported, e.g. ``$.body.runs[0].id``.
BODY_ROOT = "$.body"
#: The part of a message a mismatch is in (``body-type``: the body's content type).
MismatchKind = Literal["method", "path", "query", "header", "body", "body-type", "status", "provider-state"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One difference between what a pact expects and what arrived."""

    kind: MismatchKind
    location: str
    expected: object
    actual: object
    message: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form; values that JSON cannot hold are shown as text."""
        return {
            "kind": self.kind,
            "location": self.location,
            "expected": _plain(self.expected),
            "actual": _plain(self.actual),
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{self.location} -> {self.message}"


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
