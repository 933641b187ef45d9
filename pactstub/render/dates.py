"""Formatting the current time by a Java date-time pattern, for the date generators.

Pact's ``Date``/``Time``/``DateTime`` generators take ``DateTimeFormatter``
patterns such as ``yyyy-MM-dd'T'HH:mm:ss.SSSX``; they are translated once into
``strftime`` directives. (Checking a value against such a pattern is the
matcher's job: :mod:`pactstub.matching.formats`.)
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
    # zone offsets are written by _zone(): strftime's %z has no colon form before 3.12
    ("XXX", "\x01X:"),
    ("XX", "\x01X"),
    ("X", "\x01X"),
    ("xxx", "\x01x:"),
    ("xx", "\x01x"),
    ("Z", "\x01x"),
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
    # C strftime stops at NUL, so the placeholders are other control characters
    text = now.strftime(to_strftime(pattern).replace("%f", "\x02"))
    fraction = re.search(r"S+", pattern)
    if fraction:
        text = text.replace("\x02", f"{now.microsecond:06d}"[: len(fraction.group(0))])
    return re.sub("\x01([Xx])(:?)", lambda m: _zone(now, m.group(1) == "X", m.group(2)), text)


def _zone(now: datetime, z_for_utc: bool, colon: str) -> str:
    """``+02:00``/``+0200``; ``X`` letters write UTC as ``Z``."""
    offset = now.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0 and z_for_utc:
        return "Z"
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{colon}{minutes:02d}"
