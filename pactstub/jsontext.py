"""JSON read from clients and written to them, safe whatever arrives.

Python's :mod:`json` reads more than JSON and writes more than JSON. It parses ``NaN``,
``Infinity`` and numbers too large for a float (``1e999`` becomes ``inf``), keeps lone
surrogates (``"\\ud800"``), and recurses once per level of nesting, so a deep enough
document raises ``RecursionError`` wherever it is parsed, compared or written. It then
writes ``NaN`` and ``Infinity`` back out, which no JSON parser accepts, and lone
surrogates, which UTF-8 cannot encode.

Reading (:func:`loads`): the nesting depth is measured first, without parsing and without
recursion; a document deeper than the limit never reaches the parser or the matcher.
Numbers that are not finite and strings with lone surrogates are refused with the JSON
path where they are. Everything refused raises :class:`~pactstub.errors.JsonLimitError`,
a ``ValueError`` like the parser's own errors.

Writing (:func:`dumps`, :func:`dumps_bytes`): a number that is not finite is written as
the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (an explanation still shows what
it was), a lone surrogate as U+FFFD. The output is always JSON and always UTF-8.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import Any

from pactstub.errors import JsonLimitError
from pactstub.matching.paths import render

__all__ = ["MAX_DEPTH", "dumps", "dumps_bytes", "encode_text", "loads", "too_deep"]

#: Levels of arrays and objects a document read from a client may nest.
MAX_DEPTH = 256

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
#: A ``\uD800``-``\uDFFF`` escape in JSON text: maybe a lone surrogate once parsed.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


class _NotFinite(Exception):
    """Raised by the parser's hooks to stop at the first number that is not finite."""


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit``.

    Brackets inside strings do not count. Text with fewer opening brackets than the
    limit cannot be too deep, which settles almost every document at the cost of two
    counts.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of a JSON document from outside; :class:`JsonLimitError` for what is refused.

    Invalid JSON raises the parser's ``ValueError`` (``json.JSONDecodeError``).
    """
    if too_deep(text, max_depth):
        raise JsonLimitError("$", f"nested deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFinite:
        problem = _first_unsafe(json.loads(text))  # once more, to find where
        assert problem is not None
        raise JsonLimitError(*problem) from None
    if _SURROGATE_ESCAPE.search(text):  # rare; a valid pair or an escaped backslash is fine
        problem = _first_unsafe(value)
        if problem is not None:
            raise JsonLimitError(*problem)
    return value


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotFinite(text)
    return value


def _first_unsafe(document: Any) -> tuple[str, str] | None:
    """Where the first value JSON cannot carry is, and what it is; in document order."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        location, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            if math.isnan(value):
                return render(location), "NaN is not a JSON number"
            shown = _NON_FINITE[value]
            return render(location), f"not a finite number ({shown} or beyond a 64-bit float's range)"
        if isinstance(value, str) and _SURROGATE.search(value):
            return render(location), "a string with a lone surrogate (not Unicode text)"
        if isinstance(value, dict):
            for key in reversed(value):
                if _SURROGATE.search(key):
                    return render(location), "a key with a lone surrogate (not Unicode text)"
                stack.append(((*location, key), value[key]))
        elif isinstance(value, list):
            stack.extend(((*location, index), value[index]) for index in reversed(range(len(value))))
    return None


def dumps(value: Any, *, indent: int | None = None, default: Callable[[Any], Any] | None = str) -> str:
    """``value`` as JSON text: non-finite numbers as strings, lone surrogates as U+FFFD.

    ``default`` turns values JSON has no type for into ones it has (``str`` by default).
    """
    try:
        text = _encoder(indent, default).encode(value)
    except ValueError:  # a number that is not finite somewhere
        converted = None if default is None else _finite_default(default)
        text = _encoder(indent, converted).encode(_finite(value))
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


@functools.lru_cache(maxsize=64)
def _encoder(indent: int | None, default: Callable[[Any], Any] | None) -> json.JSONEncoder:
    """An encoder per set of options, made once (``json.dumps`` makes one per call)."""
    return json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=indent, default=default)


def dumps_bytes(
    value: Any, *, indent: int | None = None, default: Callable[[Any], Any] | None = str
) -> bytes:
    """:func:`dumps` encoded as UTF-8 (which cannot fail)."""
    return dumps(value, indent=indent, default=default).encode("utf-8")


def encode_text(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate in it written as U+FFFD (strict UTF-8 refuses it)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def _finite_default(default: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: _finite(default(value))


def _finite(value: Any) -> Any:
    """A copy of ``value`` with every non-finite number written as its name."""
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE.get(value, "NaN")
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
