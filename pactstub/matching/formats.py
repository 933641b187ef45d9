"""Checks of a string's format: Java-style date/time patterns, ISO-8601, semver, magic bytes.

Pact files carry date formats in ``java.time.format.DateTimeFormatter`` syntax
(``yyyy-MM-dd'T'HH:mm:ss``). Each pattern is translated once into a regular
expression with named fields, so checking a value is one regex match plus a
calendar check (30 February must fail even though it has the right shape).
"""

from __future__ import annotations

import datetime as dt
import re

from pactstub import jsontext
from pactstub.model import DateFormat

_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
#: pattern letter run -> regex; the longest key that fits a run is used
_FIELDS: dict[str, str] = {
    "G": r"(?:AD|BC|Anno Domini|Before Christ)",
    "yyyy": r"(?P<year>\d{4})",
    "uuuu": r"(?P<year>\d{4})",
    "yy": r"\d{2}",
    "uu": r"\d{2}",
    "y": r"(?P<year>\d{1,9})",
    "u": r"(?P<year>-?\d{1,9})",
    "MMMM": r"(?:January|February|March|April|May|June|July|August|September|October|November|December)",
    "MMM": r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)",
    "MM": r"(?P<month>\d{2})",
    "M": r"(?P<month>\d{1,2})",
    "LL": r"(?P<month>\d{2})",
    "L": r"(?P<month>\d{1,2})",
    "dd": r"(?P<day>\d{2})",
    "d": r"(?P<day>\d{1,2})",
    "DDD": r"\d{3}",
    "D": r"\d{1,3}",
    "EEEE": r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)",
    "E": r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)",
    "a": r"(?:AM|PM|am|pm)",
    "HH": r"(?P<hour>\d{2})",
    "H": r"(?P<hour>\d{1,2})",
    "kk": r"(?P<hour24>\d{2})",
    "k": r"(?P<hour24>\d{1,2})",
    "hh": r"(?P<hour12>\d{2})",
    "h": r"(?P<hour12>\d{1,2})",
    "KK": r"(?P<hour11>\d{2})",
    "K": r"(?P<hour11>\d{1,2})",
    "mm": r"(?P<minute>\d{2})",
    "m": r"(?P<minute>\d{1,2})",
    "ss": r"(?P<second>\d{2})",
    "s": r"(?P<second>\d{1,2})",
    "n": r"\d{1,9}",
    "N": r"\d{1,19}",
    "A": r"\d{1,8}",
    "XXXXX": _ZONE,
    "XXX": r"(?:Z|[+-]\d{2}:\d{2})",
    "XX": r"(?:Z|[+-]\d{4})",
    "X": r"(?:Z|[+-]\d{2}(?:\d{2})?)",
    "xxx": r"[+-]\d{2}:\d{2}",
    "xx": r"[+-]\d{4}",
    "x": r"[+-]\d{2}(?:\d{2})?",
    "ZZZZZ": _ZONE,
    "ZZZZ": r"(?:GMT|UTC)(?:[+-]\d{1,2}(?::\d{2})?)?",
    "Z": r"[+-]\d{4}",
    "z": r"[A-Za-z][A-Za-z0-9/_+-]*",
    "VV": r"[A-Za-z][A-Za-z0-9/_+-]*",
    "O": r"GMT(?:[+-]\d{1,2}(?::\d{2})?)?",
}
_RANGES = {"month": (1, 12), "day": (1, 31), "hour": (0, 23), "hour24": (1, 24), "hour12": (1, 12),
           "hour11": (0, 11), "minute": (0, 59), "second": (0, 59)}  # fmt: skip
_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|.", re.DOTALL)


def compile_date_format(pattern: str) -> DateFormat:
    """Translate a ``DateTimeFormatter`` pattern into a regex, once, when a pact loads.

    Raises :class:`ValueError` naming a pattern letter pactstub cannot check.
    """
    parts: list[str] = []
    seen: set[str] = set()
    for found in _TOKEN.finditer(pattern):
        text = found.group(0)
        if text.startswith("'"):
            parts.append(re.escape(text[1:-1].replace("''", "'") if len(text) > 2 else "'"))
        elif text[0].isalpha():
            parts.append(_field(text, seen))
        else:
            parts.append(re.escape(text))
    return DateFormat(pattern, re.compile("".join(parts)))


def _field(run: str, seen: set[str]) -> str:
    letter = run[0]
    if letter == "S":
        return rf"\d{{{len(run)}}}"
    key = next(
        (k for k in sorted(_FIELDS, key=len, reverse=True) if k[0] == letter and len(k) <= len(run)), None
    )
    if key is None:
        raise ValueError(f"unsupported date/time pattern letter {letter!r}")
    regex = _FIELDS[key]
    for name in re.findall(r"\?P<(\w+)>", regex):
        if name in seen:  # a field used twice: only the first one captures
            regex = regex.replace(f"?P<{name}>", "?:")
        seen.add(name)
    return regex


def matches_date_format(value: str, date_format: DateFormat) -> bool:
    """Whether ``value`` is written in ``date_format`` and names a real date/time."""
    found = date_format.regex.fullmatch(value)
    if not found:
        return False
    fields = {k: int(v) for k, v in found.groupdict().items() if v is not None}
    for name, (low, high) in _RANGES.items():
        if name in fields and not low <= fields[name] <= high:
            return False
    if {"year", "month", "day"} <= fields.keys():
        try:
            dt.date(fields["year"], fields["month"], fields["day"])
        except ValueError:
            return False
    return True


def matches_iso(value: str, kind: str) -> bool:
    """ISO-8601 check used when a date/time rule gives no ``format``."""
    parse = {"date": dt.date.fromisoformat, "time": dt.time.fromisoformat}.get(
        kind, dt.datetime.fromisoformat
    )
    try:
        parse(value)
    except ValueError:
        return False
    return True


_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def is_semver(value: str) -> bool:
    return _SEMVER.fullmatch(value) is not None


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def detect_content_type(data: bytes) -> str:
    """A content type guessed from leading bytes, as a magic-number check would."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return (
            "application/xml" if not stripped.lower().startswith(("<!doctype html", "<html")) else "text/html"
        )
    try:
        jsontext.loads(text)
    except ValueError:
        return "text/plain"
    return "application/json"


def content_type_fits(data: bytes, wanted: str) -> tuple[bool, str]:
    """Whether ``data`` looks like ``wanted`` (base type compare); also what it looks like."""
    found = detect_content_type(data)
    base = wanted.partition(";")[0].strip().lower()
    if found == base:
        return True, found
    if found == "text/plain" and base.startswith("text/"):
        return True, found
    if found == "application/xml" and (base.endswith("+xml") or base == "text/xml"):
        return True, found
    if found == "application/json" and base.endswith("+json"):
        return True, found
    return False, found
