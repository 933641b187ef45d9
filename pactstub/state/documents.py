"""The JSON side of the store: names, stored objects and their limits, the export format.

Kept apart from the SQL so that everything checked before a write (and the whole of
an import document) is plain Python, testable without a database. Every refusal is a
:class:`~pactstub.errors.StoreError` naming what was wrong and where (a JSON path).

Export format, version 2::

    {"version": 2,
     "counters": [{"session": "default", "name": "jobs", "value": 124}],
     "records": [{"session": "default", "collection": "jobs", "id": 123, "data": {...},
                  "created_at": "2024-11-27T11:33:00.123456+00:00",
                  "updated_at": "2024-11-27T11:33:00.123456+00:00"}]}

Version 1 (``"counters": {"jobs": 124}``, records without a session) is still read, into
the default session. On import ``version``, ``counters``, ``records``, a record's
``session``, ``id``, ``created_at`` and ``updated_at`` may be left out (hand-written
fixtures): a missing id is the data's own ``id`` when that is a valid record id (as a
template's ``save`` takes it), else the next after the largest id of its collection, written
into data without an ``id`` (as ``save`` writes it); a
missing time is now, a naive time is UTC.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pactstub.errors import StoreError

__all__ = [
    "DEFAULT_SESSION",
    "FORMAT_VERSION",
    "MAX_FIELDS",
    "MAX_ID",
    "MAX_NAME_LENGTH",
    "MAX_RECORD_BYTES",
    "ImportRows",
    "RecordTooLarge",
    "StateDocumentError",
    "check_id",
    "check_int",
    "check_name",
    "check_session",
    "from_micros",
    "isoformat",
    "micros",
    "parse",
    "stored",
]

FORMAT_VERSION = 2
DEFAULT_SESSION = "default"
MAX_NAME_LENGTH = 255
MAX_SESSION_LENGTH = 128
#: The largest stored record (its JSON text); a bigger one is refused, not stored slowly.
MAX_RECORD_BYTES = 1024 * 1024
#: The most top-level fields a record may have (each is an index entry).
MAX_FIELDS = 1000
#: Ids and counter values stay exact in JavaScript clients (2**53 - 1).
MAX_ID = 2**53 - 1


class StateDocumentError(StoreError):
    """A document given to ``Store.import_`` is not a state document; nothing was changed."""


class RecordTooLarge(StoreError):
    """A record over :data:`MAX_RECORD_BYTES` or :data:`MAX_FIELDS`: refused, nothing stored."""


def _name_problem(name: object, limit: int = MAX_NAME_LENGTH) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > limit:
        return f"must be at most {limit} characters"
    if not name.isprintable():
        return "must be printable text (no control characters)"
    if _has_surrogate(name):
        return "must be valid Unicode (it has a lone surrogate)"
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_name(name: object, what: str) -> str:
    """Counter and collection names: printable, non-empty strings that fit the column."""
    problem = _name_problem(name)
    if problem:
        raise StoreError(f"{what} name {name!r} {problem}")
    return name  # type: ignore[return-value]


def check_session(name: object) -> str:
    """Session names: 1 to 128 visible ASCII characters (they arrive in a request header)."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_SESSION_LENGTH
        or not all("!" <= c <= "~" for c in name)
    ):
        raise StoreError(f"session name {name!r} must be 1 to {MAX_SESSION_LENGTH} visible ASCII characters")
    return name


def _is_int(value: object) -> bool:
    """An integer the BIGINT columns hold, and not a bool (``True`` would silently be 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def check_int(value: object, what: str) -> int:
    """Refuse what the database would refuse (or, SQLite, turn into a float)."""
    if not _is_int(value):
        raise StoreError(f"{what} must be a 64-bit integer, not {value!r}")
    return value  # type: ignore[return-value]


def check_id(value: object, what: str = "record id") -> int:
    """A record id: 1 to :data:`MAX_ID`."""
    if not _is_int(value) or not 1 <= value <= MAX_ID:  # type: ignore[operator]
        raise StoreError(f"{what} must be an integer from 1 to {MAX_ID}, not {value!r}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Stored:
    """A JSON object as the store keeps it: its text, and a fresh decoded copy of that text."""

    text: str
    data: dict[str, Any]


def stored(data: object, what: str = "data") -> Stored:
    """``data`` checked and written as the store keeps it, or a :class:`StoreError` saying why.

    The copy comes from the text, so what a caller gets back is exactly what a later
    read gives (tuples are lists, keys are strings), and no caller can change it under
    the store. The size limit applies to that text (non-ASCII characters count as their
    ``\\u`` escapes).
    """
    if not isinstance(data, Mapping):
        raise StoreError(f"{what} must be a JSON object (a mapping), not {type(data).__name__}")
    if len(data) > MAX_FIELDS:
        raise RecordTooLarge(f"{what} has {len(data)} fields; a record may have at most {MAX_FIELDS}")
    try:
        text = json.dumps(dict(data), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise StoreError(f"{what} is not JSON: {_first_problem(data, '$')}") from None
    if len(text) > MAX_RECORD_BYTES:
        raise RecordTooLarge(
            f"{what} is {len(text)} bytes of JSON; a record may have at most {MAX_RECORD_BYTES} bytes"
        )
    if _SURROGATE_ESCAPE.search(text):  # rare: look closer, a literal backslash may be all it is
        problem = _first_problem(data, "$")
        if problem:
            raise StoreError(f"{what} is not JSON: {problem}")
    return Stored(text, json.loads(text))


#: A ``\\uD800``-``\\uDFFF`` escape in ``json.dumps`` output: maybe a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\ud[89a-f][0-9a-f]{2}")


def _first_problem(value: Any, path: str, depth: int = 0) -> str:
    """Where and why ``value`` is not storable JSON (only called once it is known not to be)."""
    if depth > 200:
        return f"{path}: nested too deeply"
    if isinstance(value, str):
        return f"{path}: a string with a lone surrogate" if _has_surrogate(value) else ""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path}: {value} is not a JSON number"
    if value is None or isinstance(value, bool | int | float):
        return ""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: key {key!r} is not a string"
            found = _first_problem(key, f"{path} key", depth + 1) or _first_problem(
                item, f"{path}.{key}", depth + 1
            )
            if found:
                return found
        return ""
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_problem(item, f"{path}[{index}]", depth + 1)
            if found:
                return found
        return ""
    return f"{path}: a {type(value).__name__} is not JSON"


def micros(moment: datetime) -> int:
    """An aware time as microseconds since the epoch (how the store keeps times)."""
    return round(moment.timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


def isoformat(value: int) -> str:
    """A stored time as the export writes it."""
    return from_micros(value).isoformat()


# ---------------------------------------------------------------------------------- import


def _fail(where: str, message: str) -> StateDocumentError:
    return StateDocumentError(f"invalid state document: {where}: {message}")


@dataclass(frozen=True, slots=True)
class ImportRows:
    """An import document turned into rows, every value checked."""

    counters: list[dict[str, Any]]
    records: list[dict[str, Any]]


def _time(value: object, where: str, now: int) -> int:
    if value is None:
        return now
    if not isinstance(value, str):
        raise _fail(where, "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"{value!r} is not an ISO 8601 date-time") from None
    return micros(parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed)


def _session(value: object, where: str) -> str:
    if value is None:
        return DEFAULT_SESSION
    try:
        return check_session(value)
    except StoreError as error:
        raise _fail(where, str(error)) from None


def _counters(value: object) -> list[dict[str, Any]]:
    if isinstance(value, Mapping):  # version 1: {name: last value}
        value = [{"name": name, "value": last} for name, last in value.items()]
    if not isinstance(value, list):
        raise _fail("counters", "must be a list of {session, name, value}")
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(value):
        where = f"counters[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"session", "name", "value"}:
            raise _fail(where, "must be an object with session, name and value")
        session = _session(item.get("session"), f"{where}.session")
        problem = _name_problem(item.get("name"))
        if problem:
            raise _fail(f"{where}.name", f"counter name {problem}")
        last = item.get("value")
        if not _is_int(last) or not -MAX_ID <= last <= MAX_ID:  # type: ignore[operator]
            raise _fail(f"{where}.value", f"must be an integer from {-MAX_ID} to {MAX_ID}, not {last!r}")
        if (session, item["name"]) in seen:
            raise _fail(where, f"counter {item['name']!r} appears twice in session {session!r}")
        seen.add((session, item["name"]))
        rows.append({"session": session, "name": item["name"], "value": last})
    return rows


_RECORD_KEYS = {"session", "collection", "id", "data", "created_at", "updated_at"}


def _records(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _fail("records", "must be a list")
    rows: list[dict[str, Any]] = []
    now = micros(datetime.now(UTC))
    taken: dict[tuple[str, str], set[int]] = {}
    pending: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(value):
        where = f"records[{index}]"
        if not isinstance(item, Mapping):
            raise _fail(where, "must be an object")
        unknown = set(item) - _RECORD_KEYS
        if unknown:
            raise _fail(where, f"unknown keys {sorted(unknown)}")
        session = _session(item.get("session"), f"{where}.session")
        problem = _name_problem(item.get("collection"))
        if problem:
            raise _fail(f"{where}.collection", problem)
        try:
            document = stored(item.get("data"), f"{where}.data")
        except StoreError as error:
            raise _fail(f"{where}.data", str(error).removeprefix(f"{where}.data ")) from None
        created = _time(item.get("created_at"), f"{where}.created_at", now)
        row = {
            "session": session,
            "collection": item["collection"],
            "id": None,
            "stored": document,
            "created_us": created,
            "updated_us": _time(item.get("updated_at"), f"{where}.updated_at", created),
        }
        ids = taken.setdefault((session, item["collection"]), set())
        record_id, id_path = item.get("id"), f"{where}.id"
        own = document.data.get("id")
        if record_id is None and isinstance(own, int) and not isinstance(own, bool) and 1 <= own <= MAX_ID:
            record_id, id_path = own, f"{where}.data.id"
        if record_id is None:
            pending.append((index, row))
        else:
            try:
                row["id"] = check_id(record_id)
            except StoreError as error:
                raise _fail(id_path, str(error)) from None
            if record_id in ids:
                raise _fail(id_path, f"{record_id} appears twice in collection {item['collection']!r}")
            ids.add(record_id)
        rows.append(row)
    last = {key: max(ids, default=0) for key, ids in taken.items()}
    for index, row in pending:
        key = (row["session"], row["collection"])
        row["id"] = last[key] = last[key] + 1
        if row["id"] > MAX_ID:
            raise _fail(f"records[{index}].id", f"no id left below {MAX_ID}")
        if "id" not in row["stored"].data:
            row["stored"] = stored({**row["stored"].data, "id": row["id"]}, f"records[{index}].data")
    return rows


def parse(document: object) -> ImportRows:
    """The rows of an import document, or :class:`StateDocumentError` naming the JSON path."""
    if not isinstance(document, Mapping):
        raise _fail("$", f"must be a JSON object, not {type(document).__name__}")
    unknown = set(document) - {"version", "counters", "records"}
    if unknown:
        raise _fail("$", f"unknown keys {sorted(unknown)} (expected version, counters, records)")
    version = document.get("version", FORMAT_VERSION)
    if version not in (1, 2) or not _is_int(version):
        raise _fail("version", f"{version!r} is not supported (expected 1 or {FORMAT_VERSION})")
    return ImportRows(_counters(document.get("counters", [])), _records(document.get("records", [])))
