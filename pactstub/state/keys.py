"""How a JSON value becomes an index key: equal values, equal keys; ordered values, ordered keys.

The field index (:class:`~pactstub.state.models.FieldRow`) holds one row per top-level
field of every record, and its ``key`` column is all a lookup compares. So the key of a
value must follow the store's JSON equality exactly: ``1`` and ``1.0`` are equal, ``1``,
``"1"`` and ``true`` are not, objects compare whole whatever the order of their keys.
And because ordering by a field walks the index in key order, keys sort the way values
should: by type (null, booleans, numbers, strings, arrays and objects), numbers by
value, strings by code point.

A key is text both databases store and index as is: no NUL, no lone surrogates, at
most a few hundred characters. A value that cannot be written like that (a long string,
a string with a NUL, a big object) keeps a readable, sortable prefix where it has one,
followed by a SHA-256 digest of the whole value, which keeps equality exact.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from typing import Any

__all__ = ["MAX_KEY_TEXT", "field_key", "value_key"]

#: Longest text kept as is in a key; beyond it a digest stands for the rest.
MAX_KEY_TEXT = 200
#: Characters a database may refuse in text (NUL on PostgreSQL) or cannot encode.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_SIGN = 1 << 63
_ALL_BITS = (1 << 64) - 1
#: Integers from here on are not all exact as doubles: their digits follow the double's key.
_EXACT = 2**53


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _double_key(number: float) -> str:
    """16 hex digits that sort like the doubles they encode (IEEE 754 order, sign flipped)."""
    bits: int = struct.unpack(">Q", struct.pack(">d", number + 0.0))[0]  # + 0.0: -0.0 is 0.0
    bits = bits ^ _ALL_BITS if bits & _SIGN else bits | _SIGN
    return f"{bits:016x}"


def _number_key(number: int | float) -> str:
    if isinstance(number, float):
        if not number.is_integer():
            return "2" + _double_key(number)
        number = int(number)
    if -_EXACT <= number <= _EXACT:
        return "2" + _double_key(float(number))
    digits = str(number)
    try:
        rounded = _double_key(float(number))
    except OverflowError:
        rounded = "ffffffffffffffff" if number > 0 else "0000000000000000"
    if len(digits) > MAX_KEY_TEXT:
        digits = "#" + hashlib.sha256(digits.encode("ascii")).hexdigest()
    return f"2{rounded}:{digits}"


def _string_key(text: str) -> str:
    if _UNSAFE.search(text):
        return "5" + _digest(text)
    if len(text) <= MAX_KEY_TEXT:
        return "3" + text
    return "3" + text[:MAX_KEY_TEXT] + "#" + _digest(text)


def _canonical(value: Any) -> Any:
    """The value with every integral number as an ``int``, so ``[1.0]`` and ``[1]`` agree."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def value_key(value: Any) -> str:
    """The index key of a decoded JSON value (``None``, bool, int, float, str, list or dict).

    Prefixes order the types: ``0`` null, ``1`` booleans, ``2`` numbers, ``3`` strings,
    ``4`` arrays and objects, ``5`` strings that only a digest can stand for.
    """
    if value is None:
        return "0"
    if value is True:
        return "1t"
    if value is False:
        return "1f"
    if isinstance(value, int | float):
        return _number_key(value)
    if isinstance(value, str):
        return _string_key(value)
    text = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))
    if len(text) <= MAX_KEY_TEXT:
        return "4" + text  # ASCII by json.dumps' default, so always safe
    return "4#" + hashlib.sha256(text.encode("ascii")).hexdigest()


def field_key(name: str) -> str:
    """A field name as the index stores it: itself, or ``#`` and a digest when it cannot be."""
    if len(name) <= MAX_KEY_TEXT and not name.startswith("#") and not _UNSAFE.search(name):
        return name
    return "#" + _digest(name)
