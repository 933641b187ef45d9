"""Java date-time patterns (as Pact files write them) in Python terms.

Pact's ``date``/``time``/``timestamp`` matchers and ``Date``/``Time``/``DateTime``
generators take ``java.text.SimpleDateFormat``/``DateTimeFormatter`` patterns
such as ``yyyy-MM-dd'T'HH:mm:ss.SSSX``. Both the matcher and the generator use
this one translation, so what pactstub generates it also accepts.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

#: Java pattern letters (longest first) -> strftime directives.
_LETTERS: tuple[tuple[str, str], ...] = (
    ("yyyy", "%Y"),
    ("uuuu", "%Y"),
    ("YYYY", "%Y"),
    ("yy", "%y"),
    ("y", "%Y"),
    ("u", "%Y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%m"),
    ("dd", "%d"),
    ("d", "%d"),
    ("DDD", "%j"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("E", "%a"),
    ("HH", "%H"),
    ("H", "%H"),
    ("hh", "%I"),
    ("h", "%I"),
    ("kk", "%H"),
    ("mm", "%M"),
    ("m", "%M"),
    ("ss", "%S"),
    ("s", "%S"),
    ("SSSSSS", "%f"),
    ("SSS", "%f"),
    ("SS", "%f"),
    ("S", "%f"),
    ("a", "%p"),
    ("XXX", "%:z"),
    ("XX", "%z"),
    ("X", "%z"),
    ("xxx", "%:z"),
    ("xx", "%z"),
    ("Z", "%z"),
    ("z", "%Z"),
)

ISO_DATE = "yyyy-MM-dd"
ISO_TIME = "HH:mm:ss"
ISO_DATETIME = "yyyy-MM-dd'T'HH:mm:ss"


class PatternError(ValueError):
    """A date-time pattern using letters pactstub cannot translate."""


@cache
def to_strftime(pattern: str) -> str:
    """``yyyy-MM-dd'T'HH:mm`` -> ``%Y-%m-%dT%H:%M``."""
    out: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "'":
            end = pattern.find("'", position + 1)
            if end == -1:
                raise PatternError(f"unterminated quote in date-time pattern {pattern!r}")
            literal = pattern[position + 1 : end] or "'"
            out.append(literal.replace("%", "%%"))
            position = end + 1
            continue
        if char.isalpha():
            for letters, directive in _LETTERS:
                if pattern.startswith(letters, position):
                    out.append(directive)
                    position += len(letters)
                    break
            else:
                raise PatternError(f"unsupported letter {char!r} in date-time pattern {pattern!r}")
            continue
        out.append("%%" if char == "%" else char)
        position += 1
    return "".join(out)


def format_now(pattern: str, now: datetime) -> str:
    """Format a moment by a Java pattern (milliseconds for ``SSS``, as Java does)."""
    text = now.strftime(to_strftime(pattern).replace("%f", "\x00"))
    fraction = re.search(r"S+", pattern)
    if fraction:
        text = text.replace("\x00", f"{now.microsecond:06d}"[: len(fraction.group(0))])
    return text


def matches_pattern(value: str, pattern: str) -> bool:
    """Whether ``value`` is a date-time written in ``pattern``."""
    try:
        format_ = to_strftime(pattern)
    except PatternError:
        return False
    try:
        datetime.strptime(value, format_.replace("%:z", "%z"))
    except ValueError:
        return False
    return True


def is_iso(value: str, kind: str) -> bool:
    """Whether ``value`` is an ISO-8601 date, time or date-time (for rules without a format)."""
    try:
        if kind == "date":
            datetime.strptime(value, "%Y-%m-%d")
        elif kind == "time":
            datetime.strptime(value[:8], "%H:%M:%S")
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
