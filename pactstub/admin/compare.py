"""A journaled request beside the request its interaction expects, with the mismatches marked.

The dashboard shows a miss as two columns: what the closest interaction expects and what
arrived, part by part (method, path, each query parameter, each header, the body), with
every mismatch attached to the part its location names and, in a JSON body, to the very
lines under that location. The journal keeps only what it may show (credentials masked,
bodies up to a limit), so that is what the actual side shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pactstub.journal import JournalEntry
from pactstub.listing import format_query
from pactstub.matching.paths import render
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.model import Body, HttpRequest
from pactstub.wire import parse_query_string

__all__ = ["Comparison", "Line", "Row", "compare", "json_lines"]

#: Deeper JSON than this is written on one line (the page stays readable, the recursion bounded).
_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Line:
    """One line of one side; ``missed`` when a mismatch is at or above its location."""

    text: str
    missed: bool = False


@dataclass(slots=True)
class Row:
    """One part of the request on both sides, and the mismatches found there."""

    part: str
    expected: list[Line] = field(default_factory=list)
    actual: list[Line] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def missed(self) -> bool:
        return bool(self.messages)


@dataclass(frozen=True, slots=True)
class Comparison:
    """The rows, in the order a request reads: method, path, query, headers, body."""

    rows: tuple[Row, ...]


def compare(expected: HttpRequest | None, entry: JournalEntry, mismatches: Sequence[Mismatch]) -> Comparison:
    """Both sides of ``entry``'s request; ``expected`` is ``None`` when no interaction came close."""
    rows: dict[str, Row] = {
        "method": Row("method", _lines(expected.method.upper() if expected else None), [Line(entry.method)]),
        "path": Row("path", _lines(expected.path if expected else None), [Line(entry.path)]),
    }
    _query_rows(rows, expected, entry)
    _header_rows(rows, expected, entry)
    body = Row("body")
    rows["body"] = body
    for mismatch in mismatches:
        _row_for(rows, mismatch.location).messages.append(str(mismatch))
    body_paths = [m.location for m in mismatches if m.location.startswith(BODY_ROOT)]
    body.expected = _body_lines(_expected_body(expected), body_paths)
    body.actual = _body_lines(_actual_body(entry), body_paths)
    if body.missed and not any(line.missed for line in (*body.expected, *body.actual)):
        body.expected = [Line(line.text, True) for line in body.expected]  # a location the lines cannot show
        body.actual = [Line(line.text, True) for line in body.actual]
    if not body.expected and not body.actual and not body.missed:
        del rows["body"]
    return Comparison(tuple(rows.values()))


def _lines(text: str | None) -> list[Line]:
    return [] if text is None else [Line(text)]


def _query_rows(rows: dict[str, Row], expected: HttpRequest | None, entry: JournalEntry) -> None:
    wanted = (expected.query or {}) if expected else {}
    received = parse_query_string(entry.query)
    for name in [*wanted, *(n for n in received if n not in wanted)]:
        rows[f"query {name}"] = Row(
            f"query {name}",
            [Line(_query_value(name, v)) for v in wanted.get(name, ())],
            [Line(_query_value(name, v)) for v in received.get(name, ())],
        )


def _query_value(name: str, value: str | None) -> str:
    return format_query({name: (value,)})


def _header_rows(rows: dict[str, Row], expected: HttpRequest | None, entry: JournalEntry) -> None:
    wanted = (expected.headers or {}) if expected else {}
    received: dict[str, list[str]] = {}
    names: dict[str, str] = {name.lower(): name for name in wanted}
    for name, value in entry.request.headers:
        received.setdefault(name.lower(), []).append(value)
        names.setdefault(name.lower(), name)
    for lower, name in names.items():
        shown = next((n for n in wanted if n.lower() == lower), None)
        rows[f"header {lower}"] = Row(
            f"header {name}",
            [Line(v) for v in (wanted[shown] if shown is not None else ())],
            [Line(v) for v in received.get(lower, ())],
        )


def _row_for(rows: dict[str, Row], location: str) -> Row:
    """The row a mismatch location names (made for the occasion when no side has that part)."""
    kind, _, name = location.partition(" ")
    if location.startswith(BODY_ROOT):
        key = "body"
    elif kind in ("query", "header") and name:
        key = f"{kind} {name.lower() if kind == 'header' else name}"
    else:
        key = location
    if key not in rows:
        rows[key] = Row(location)
    return rows[key]


def _expected_body(expected: HttpRequest | None) -> Any:
    body: Body | None = expected.body if expected else None
    if body is None:
        return _NO_BODY
    if body.kind == "json":
        return body.value
    return body.to_bytes().decode("utf-8", "replace")


def _actual_body(entry: JournalEntry) -> Any:
    record = entry.request
    if not record.body_size:
        return _NO_BODY
    text = record.body
    if record.body_truncated:
        return f"{text}\n... ({record.body_size} bytes, the journal kept the first {len(text.encode())})"
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


class _Absent:
    """No body at all (not JSON ``null``)."""


_NO_BODY = _Absent()


def _body_lines(value: Any, missed: Sequence[str]) -> list[Line]:
    if isinstance(value, _Absent):
        return []
    if isinstance(value, str):  # text has no locations: a body mismatch is about all of it
        return [Line(text, bool(missed)) for text in value.splitlines() or [""]]
    return [Line(text, _under(path, missed)) for path, text in json_lines(value)]


def _under(path: str, locations: Iterable[str]) -> bool:
    return any(path == at or path.startswith((f"{at}.", f"{at}[")) for at in locations)


def json_lines(value: Any) -> list[tuple[str, str]]:
    """``value`` pretty-printed, each line with the body location it shows (``$.body.runs[0].id``)."""
    out: list[tuple[str, str]] = []
    _write(out, (), value, "", "")
    return out


def _write(out: list[tuple[str, str]], at: tuple[str | int, ...], value: Any, lead: str, tail: str) -> None:
    """Append ``value`` at location ``at``: ``lead`` before its first line, ``tail`` after its last."""
    path = BODY_ROOT + render(at)[1:]
    indent = "  " * len(at)
    items: list[tuple[str | int, Any, str]]
    if isinstance(value, dict) and value and len(at) < _MAX_DEPTH:
        items = [(key, child, json.dumps(key, ensure_ascii=False) + ": ") for key, child in value.items()]
        opening, closing = "{", "}"
    elif isinstance(value, list) and value and len(at) < _MAX_DEPTH:
        items = [(index, child, "") for index, child in enumerate(value)]
        opening, closing = "[", "]"
    else:
        out.append((path, f"{indent}{lead}{_compact(value)}{tail}"))
        return
    out.append((path, f"{indent}{lead}{opening}"))
    for position, (key, child, child_lead) in enumerate(items):
        _write(out, (*at, key), child, child_lead, "," if position < len(items) - 1 else "")
    out.append((path, f"{indent}{closing}{tail}"))


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return repr(value)
