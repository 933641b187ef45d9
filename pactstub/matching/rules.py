"""Matching rules applied to one value.

Two families of checks exist because Pact values come in two shapes: JSON
values (bodies) keep their types, so ``integer`` can tell ``1`` from ``"1"``;
headers, query values, paths and XML carry only text, so the same rule reads
the text instead. Which rule applies where is decided once, at load
(:mod:`pactstub.matching.ruletable`). Messages follow the Pact reference
implementation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TypeVar

from pactstub.matching.formats import content_type_fits, is_semver, matches_date_format, matches_iso
from pactstub.model import Matcher, RuleSet, StatusClass

T = TypeVar("T")
#: A check returns ``None`` when the value passes, else the mismatch message.
Check = Callable[[Matcher, T, T, bool], "str | None"]

_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
STATUS_CLASSES: dict[StatusClass, range] = {
    "info": range(100, 200),
    "success": range(200, 300),
    "redirect": range(300, 400),
    "clientError": range(400, 500),
    "serverError": range(500, 600),
    "nonError": range(100, 400),
    "error": range(400, 600),
}
_ISO_FORMATS = {"date": "yyyy-MM-dd", "time": "HH:mm:ss", "timestamp": "yyyy-MM-dd'T'HH:mm:ssXXX"}
_SIZED = frozenset({"type", "min", "max", "minmax"})
_TEXTUAL = frozenset({"regex", "include", "date", "time", "timestamp", "semver", "contentType"})


def apply(rule_set: RuleSet, check: Check[T], expected: T, actual: T, cascaded: bool) -> list[str]:
    """Run every matcher; AND needs all to pass, OR needs one. Returns the messages."""
    if len(rule_set.matchers) == 1:  # the common case; AND and OR agree on one matcher
        message = check(rule_set.matchers[0], expected, actual, cascaded)
        return [message] if message else []
    messages = [m for m in (check(matcher, expected, actual, cascaded) for matcher in rule_set.matchers) if m]
    if rule_set.combine == "OR" and len(messages) < len(rule_set.matchers):
        return []
    return messages


# --------------------------------------------------------------------------- describing values


def type_name(value: object) -> str:
    """The JSON type name used in messages: String, Integer, Decimal, Boolean, Null, Array, Object."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Decimal"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def show(value: object) -> str:
    """A value as messages show it: strings quoted, the rest as compact JSON."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def shown(value: object) -> str:
    return f"{show(value)} ({type_name(value)})"


def as_text(value: object) -> str:
    """The string form a regex or include rule reads (JSON for non-strings)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type_name(value)


def json_equal(expected: object, actual: object) -> bool:
    """JSON equality: unlike Python ``==``, ``true`` is not ``1``."""
    if _kind(expected) != _kind(actual):
        return False
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(json_equal(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(json_equal, expected, actual))
    return bool(expected == actual)


def _equal(expected: object, actual: object) -> str | None:
    return (
        None if json_equal(expected, actual) else f"Expected {shown(actual)} to be equal to {shown(expected)}"
    )


# --------------------------------------------------------------------------- JSON values


def check_json(matcher: Matcher, expected: object, actual: object, cascaded: bool) -> str | None:
    """Apply one matcher to a JSON value (scalar or collection)."""
    kind = matcher.kind
    if kind in _SIZED:
        return _check_type(matcher, expected, actual, cascaded)
    if kind in ("equality", "values"):
        return _equal(expected, actual)
    if kind in _TEXTUAL:
        if isinstance(actual, dict | list) and kind != "include":
            return None  # text rules say nothing about a whole list or map
        return check_text(matcher, as_text(expected), as_text(actual), cascaded)
    return _check_json_kind(matcher, actual)


def _check_json_kind(matcher: Matcher, actual: object) -> str | None:
    kind = matcher.kind
    is_number = isinstance(actual, int | float) and not isinstance(actual, bool)
    if kind == "integer":
        return None if is_number and isinstance(actual, int) else f"Expected {shown(actual)} to be an integer"
    if kind == "decimal":
        return None if isinstance(actual, float) else f"Expected {shown(actual)} to be a decimal number"
    if kind == "number":
        return None if is_number else f"Expected {shown(actual)} to be a number"
    if kind == "boolean":
        ok = isinstance(actual, bool) or actual in ("true", "false")
        return None if ok else f"Expected {shown(actual)} to match a boolean"
    if kind == "null":
        return None if actual is None else f"Expected {shown(actual)} to be a null value"
    if kind == "notEmpty":
        if actual is None:
            return "Expected non-empty value but got a NULL"
        empty = isinstance(actual, str | list | dict) and not actual
        return f"Expected {shown(actual)} to not be empty" if empty else None
    return None  # arrayContains, eachKey, eachValue, statusCode: handled by the collection walkers


def _check_type(matcher: Matcher, expected: object, actual: object, cascaded: bool) -> str | None:
    if type(expected) is not type(actual) and _kind(expected) != _kind(actual):
        return f"Expected {shown(actual)} to be the same type as {shown(expected)}"
    if cascaded or not isinstance(actual, list | dict):
        return None
    return size_problem(matcher, len(actual), lambda: shown(actual))


def size_problem(matcher: Matcher, size: int, described: str | Callable[[], str]) -> str | None:
    """The min/max size message for a collection of ``size`` items, or ``None`` when it fits.

    ``described`` names the collection in the message; a function is only called for one.
    """
    if matcher.min is not None and size < matcher.min:
        return f"Expected {_described(described)} to have minimum size of {matcher.min}"
    if matcher.max is not None and size > matcher.max:
        return f"Expected {_described(described)} to have maximum size of {matcher.max}"
    return None


def _described(described: str | Callable[[], str]) -> str:
    return described if isinstance(described, str) else described()


def check_collection(
    matcher: Matcher, expected: object, actual: list[object] | dict[str, object], cascaded: bool
) -> str | None:
    """A rule applied to a whole list or map before its items are compared."""
    kind = matcher.kind
    if kind in _SIZED:
        return None if cascaded else size_problem(matcher, len(actual), lambda: shown(actual))
    if kind == "equality":
        return _equal(expected, actual)
    if kind == "notEmpty":
        return f"Expected {shown(actual)} to not be empty" if not actual else None
    if kind in ("null", "statusCode") or (
        isinstance(actual, dict) and kind in ("integer", "decimal", "number")
    ):
        return f"Unable to match {show(actual)} using {kind}"
    return None


# --------------------------------------------------------------------------- text values


def check_text(matcher: Matcher, expected: str, actual: str, cascaded: bool) -> str | None:
    """Apply one matcher to text: a header, query or path value, XML text or attribute."""
    kind = matcher.kind
    if kind == "regex":
        regex = matcher.regex
        ok = regex is not None and regex.fullmatch(actual) is not None
        return None if ok else f"Expected '{actual}' to match '{regex.pattern if regex else ''}'"
    if kind in ("equality", "values"):
        return None if expected == actual else f"Expected '{actual}' to be equal to '{expected}'"
    if kind in _SIZED:
        return None
    if kind == "include":
        return None if str(matcher.value) in actual else f"Expected '{actual}' to include '{matcher.value}'"
    if kind in ("date", "time", "timestamp"):
        return _check_datetime(matcher, actual)
    return _check_text_kind(matcher, actual, cascaded)


def _check_text_kind(matcher: Matcher, actual: str, cascaded: bool) -> str | None:
    kind = matcher.kind
    if kind in ("number", "decimal"):
        return None if _NUMBER_TEXT.fullmatch(actual) else f"Expected '{actual}' to match a number"
    if kind == "integer":
        return None if _INTEGER_TEXT.fullmatch(actual) else f"Expected '{actual}' to match an integer number"
    if kind == "boolean":
        return None if actual in ("true", "false") else f"Expected '{actual}' to match a boolean"
    if kind == "notEmpty":
        return None if actual else "Expected '' (String) to not be empty"
    if kind == "semver":
        return None if is_semver(actual) else f"'{actual}' is not a valid semantic version"
    if kind == "statusCode":
        if not actual.isdigit():
            return f"Unable to match '{actual}' as a status"
        return status_problem(matcher, int(actual))
    if kind == "contentType":
        return content_type_problem(str(matcher.value), actual.encode("utf-8"))
    if kind == "null":
        return f"Expected '{actual}' (String) to be a null value"
    if kind in ("eachKey", "eachValue") and cascaded:
        return None
    return f"Unable to match '{actual}' using {kind}"


def _check_datetime(matcher: Matcher, actual: str) -> str | None:
    date_format = matcher.format
    if date_format is not None:
        ok, shown_format = matches_date_format(actual, date_format), date_format.pattern
    else:
        ok, shown_format = matches_iso(actual, matcher.kind), f"ISO-8601 ({_ISO_FORMATS[matcher.kind]})"
    return None if ok else f"Expected '{actual}' to match a {matcher.kind} pattern of '{shown_format}'"


def content_type_problem(wanted: str, data: bytes) -> str | None:
    """The ``contentType`` rule: compare the type the bytes look like with the one wanted."""
    ok, found = content_type_fits(data, wanted)
    return (
        None
        if ok
        else f"Expected binary contents to have content type '{wanted}' but detected contents was '{found}'"
    )


def status_problem(matcher: Matcher, status: int) -> str | None:
    """The ``statusCode`` rule: a class name (``success``...) or a list of codes."""
    wanted = matcher.status
    if isinstance(wanted, tuple):
        return None if status in wanted else f"Expected status code {status} to be one of {list(wanted)}"
    wanted = wanted or "success"
    return (
        None if status in STATUS_CLASSES[wanted] else f"Expected status code {status} to be a {wanted} status"
    )
