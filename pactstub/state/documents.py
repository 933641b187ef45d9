"""The JSON side of the store: names, JSON objects, JSON equality, the export format.

Kept apart from ``store.py`` so that everything checked before a write (and the
whole of an import document) is plain Python, testable without a database.

Export format, version 1::

    {"version": 1,
     "counters": {"jobs": 124},
     "records": [{"collection": "jobs", "id": 1, "data": {...},
                  "created_at": "2024-11-27T11:33:00.123456+00:00"}]}

On import ``version``, ``counters``, ``records``, a record's ``id`` and
``created_at`` may be left out (hand-written fixtures): a missing id is the next
after the largest id so far, a missing time is now, a naive time is UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pactstub.errors import StoreError

__all__ = [
    "FORMAT_VERSION",
    "MAX_NAME_LENGTH",
    "StateDocumentError",
    "check_int",
    "isoformat",
    "check_name",
    "json_equal",
    "json_object",
    "matches",
    "needles",
    "parse",
    "serialize",
]

FORMAT_VERSION = 1
MAX_NAME_LENGTH = 255


class StateDocumentError(StoreError):
    """A document given to ``Store.import_`` is not a state document; nothing was changed."""


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters"
    return None


def check_name(name: object, what: str) -> None:
    """Counter and collection names: non-empty strings that fit the column."""
    problem = _name_problem(name)
    if problem:
        raise StoreError(f"{what} name {name!r} {problem}")


def _is_int(value: object) -> bool:
    """An integer the BIGINT columns hold, and not a bool (``True`` would silently be 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def check_int(value: object, what: str) -> None:
    """Refuse what the database would refuse (or, SQLite, turn into a float)."""
    if not _is_int(value):
        raise StoreError(f"{what} must be a 64-bit integer, not {value!r}")


def json_object(data: object, what: str) -> dict[str, Any]:
    """``data`` as it reads back from the database: a JSON round trip of a mapping.

    Tuples become lists and keys strings now rather than after a restart, and
    anything JSON cannot hold (sets, NaN, objects) is refused before the write.
    """
    if not isinstance(data, Mapping):
        raise StoreError(f"{what} must be a JSON object (a mapping), not {type(data).__name__}")
    try:
        result: dict[str, Any] = json.loads(json.dumps(dict(data), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise StoreError(f"{what} is not JSON: {error}") from None
    return result


def json_equal(actual: Any, expected: Any) -> bool:
    """Equality of decoded JSON values: ``true`` is not ``1``, ``1`` equals ``1.0``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(json_equal(actual[k], expected[k]) for k in actual)
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(map(json_equal, actual, expected))
    return type(actual) is type(expected) and actual == expected


def serialize(document: Any) -> str:
    """The text a document is stored as, on both databases (the engines' JSON serializer).

    Always :func:`json.dumps` with its default separators (``", "``, ``": "``) and
    ASCII escapes: :func:`needles` relies on exactly this layout.
    """
    return json.dumps(document)


#: Integers below this are written the same way as an int (``5``) and as a float
#: (``5.0``), digit for digit; beyond it a float may be written ``1e+16``.
_EXACT_INTEGERS = 2**53


def needles(name: str, value: Any) -> tuple[str, ...]:
    """Pieces of stored text, one of which is in every document whose ``name`` equals ``value``.

    A prefilter for ``find``: the database keeps the text :func:`serialize` wrote,
    and a top-level field ``name`` equal to ``value`` (:func:`json_equal`) is
    written as one of these strings, so a document without any of them cannot
    match. The converse is not true (the piece may be in a nested object, or
    in a longer number): matches are always re-checked with :func:`json_equal`.
    Numbers get every spelling an equal number may have (``5``, ``5.0``,
    ``-0.0``) followed by what may follow a value in an object (``,`` or ``}``);
    objects and arrays (whose keys may be in another order, whose numbers may
    be spelt differently) only the key and the opening bracket.
    """
    key = serialize(name) + ": "
    if value is None or isinstance(value, bool | str):
        return (key + serialize(value),)
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            spellings = [repr(value)]  # json.dumps writes a float as its repr
        elif value == 0:
            spellings = ["0", "0.0", "-0.0"]
        elif abs(value) < _EXACT_INTEGERS:
            spellings = [str(int(value)), f"{int(value)}.0"]
        else:
            return (key,)
        return tuple(key + spelling + end for spelling in spellings for end in (",", "}"))
    if isinstance(value, dict):
        return (key + "{",)
    if isinstance(value, list):
        return (key + "[",)
    return (key,)


def matches(data: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """Whether every field of ``expected`` is in ``data`` with an equal JSON value."""
    return all(name in data and json_equal(data[name], value) for name, value in expected.items())


def _fail(where: str, message: str) -> StateDocumentError:
    return StateDocumentError(f"invalid state document: {where}: {message}")


def _created_at(value: object, where: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if not isinstance(value, str):
        raise _fail(where, "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"{value!r} is not an ISO 8601 date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _counters(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise _fail("counters", "must be an object of counter name to last value")
    counters: dict[str, int] = {}
    for name, last in value.items():
        problem = _name_problem(name)
        if problem:
            raise _fail(f"counters[{name!r}]", f"counter name {problem}")
        if not _is_int(last):
            raise _fail(f"counters[{name!r}]", f"must be a 64-bit integer, not {last!r}")
        counters[name] = last
    return counters


def _records(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _fail("records", "must be a list")
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    given = [r["id"] for r in value if isinstance(r, Mapping) and _is_int(r.get("id"))]
    next_id: int = max([0, *given]) + 1
    for index, item in enumerate(value):
        where = f"records[{index}]"
        if not isinstance(item, Mapping):
            raise _fail(where, "must be an object")
        unknown = set(item) - {"collection", "id", "data", "created_at"}
        if unknown:
            raise _fail(where, f"unknown keys {sorted(unknown)}")
        problem = _name_problem(item.get("collection"))
        if problem:
            raise _fail(f"{where}.collection", problem)
        record_id = item.get("id")
        if record_id is None:
            record_id, next_id = next_id, next_id + 1
        elif not _is_int(record_id) or record_id < 1:
            raise _fail(f"{where}.id", f"must be a positive 64-bit integer, not {record_id!r}")
        if record_id in seen:
            raise _fail(f"{where}.id", f"{record_id} appears twice")
        seen.add(record_id)
        try:
            data = json_object(item.get("data"), "data")
        except StoreError as error:
            raise _fail(f"{where}.data", str(error)) from None
        created_at = _created_at(item.get("created_at"), f"{where}.created_at")
        rows.append(
            {"id": record_id, "collection": item["collection"], "data": data, "created_at": created_at}
        )
    return rows


def parse(document: object) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Counters and record rows of an import document, or :class:`StateDocumentError`."""
    if not isinstance(document, Mapping):
        raise _fail("$", f"must be a JSON object, not {type(document).__name__}")
    unknown = set(document) - {"version", "counters", "records"}
    if unknown:
        raise _fail("$", f"unknown keys {sorted(unknown)} (expected version, counters, records)")
    version = document.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or not _is_int(version):
        raise _fail("version", f"{version!r} is not supported (expected {FORMAT_VERSION})")
    return _counters(document.get("counters", {})), _records(document.get("records", []))


def isoformat(moment: datetime) -> str:
    """A UTC time as the export writes it."""
    return moment.astimezone(UTC).isoformat()
