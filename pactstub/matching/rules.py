"""Matching rules applied to one value, and the choice of rule for a location.

Two families of checks exist because Pact values come in two shapes: JSON
values (bodies) keep their types, so ``integer`` can tell ``1`` from ``"1"``;
headers, query values, paths and XML carry only text, so the same rule reads
the text instead. Messages follow the Pact reference implementation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from pactstub.matching.formats import content_type_fits, is_semver, matches_iso, matches_java_format
from pactstub.matching.paths import weight
from pactstub.model import BodyRule, Matcher, RuleSet

#: A check returns ``None`` when the value passes, else the mismatch message.
Check = Callable[[Matcher, Any, Any, bool], "str | None"]

_NUMBER_TEXT = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_STATUS_CLASSES = {
    "information": range(100, 200),
    "success": range(200, 300),
    "redirect": range(300, 400),
    "clientError": range(400, 500),
    "serverError": range(500, 600),
    "nonError": range(100, 400),
    "error": range(400, 600),
}
_DEFAULT_FORMATS = {"date": "yyyy-MM-dd", "time": "HH:mm:ss", "timestamp": "yyyy-MM-dd'T'HH:mm:ssXXX"}


# --------------------------------------------------------------------------- rule choice


def select(rules: Sequence[BodyRule], *locations: Sequence[str | int]) -> tuple[RuleSet, bool] | None:
    """The best rule set for a location and whether it is cascaded from a parent.

    Weights follow the reference implementation: the product of token weights
    (names and indexes 2, wildcards 1, the root 2) times the number of tokens,
    so a deeper, more exact path wins; on a tie the later rule wins. XML
    passes two spellings of one location (by names, and with sibling
    positions); the best fit over both counts.
    """
    best: tuple[RuleSet, bool] | None = None
    best_key = 0
    for rule in rules:
        for location in locations:
            score, length = weight(rule.tokens, location)
            key = score * 2 * (length + 1)
            if score and key >= best_key:
                best, best_key = (rule.rules, length != len(location)), key
    return best


def defined(rules: Sequence[BodyRule], location: Sequence[str | int]) -> bool:
    """Whether any rule applies at ``location`` (its own or cascaded from a parent)."""
    return any(weight(rule.tokens, location)[0] for rule in rules)


def exact(rules: Sequence[BodyRule], location: Sequence[str | int]) -> list[Matcher]:
    """The matchers of rules written for exactly this location (no cascading)."""
    return [
        matcher
        for rule in rules
        if len(rule.tokens) == len(location) and weight(rule.tokens, location)[0]
        for matcher in rule.rules.matchers
    ]


def type_rule_defined(rules: Sequence[BodyRule], *locations: Sequence[str | int]) -> bool:
    """Whether a type-like rule applies here, which makes XML siblings match by example."""
    return any(
        m.kind in ("type", "min", "max", "minmax")
        for rule in rules
        if any(weight(rule.tokens, location)[0] for location in locations)
        for m in rule.rules.matchers
    )


def apply(rule_set: RuleSet, check: Check, expected: Any, actual: Any, cascaded: bool) -> list[str]:
    """Run every matcher; AND needs all to pass, OR needs one. Returns the messages."""
    if len(rule_set.matchers) == 1:  # the common case; AND and OR agree on one matcher
        message = check(rule_set.matchers[0], expected, actual, cascaded)
        return [message] if message else []
    messages = [m for m in (check(matcher, expected, actual, cascaded) for matcher in rule_set.matchers) if m]
    if rule_set.combine == "OR" and len(messages) < len(rule_set.matchers):
        return []
    return messages


# --------------------------------------------------------------------------- describing values


def type_name(value: Any) -> str:
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


def show(value: Any) -> str:
    """A value as messages show it: strings quoted, the rest as compact JSON."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def shown(value: Any) -> str:
    return f"{show(value)} ({type_name(value)})"


def as_text(value: Any) -> str:
    """The string form a regex or include rule reads (JSON for non-strings)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type_name(value)


def json_equal(expected: Any, actual: Any) -> bool:
    """JSON equality: unlike Python ``==``, ``true`` is not ``1``."""
    if _kind(expected) != _kind(actual):
        return False
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(json_equal(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(json_equal, expected, actual))
    return bool(expected == actual)


# --------------------------------------------------------------------------- JSON values


def check_json(matcher: Matcher, expected: Any, actual: Any, cascaded: bool) -> str | None:
    """Apply one matcher to a JSON value (scalar or collection)."""
    kind = matcher.kind
    if kind in ("type", "min", "max", "minmax"):
        return _check_type(matcher, expected, actual, cascaded)
    if kind in ("equality", "values"):
        return (
            None
            if json_equal(expected, actual)
            else f"Expected {shown(actual)} to be equal to {shown(expected)}"
        )
    if kind in ("regex", "include", "date", "time", "timestamp", "datetime", "semver", "contentType"):
        if isinstance(actual, dict | list) and kind != "include":
            return None  # text rules say nothing about a whole list or map
        return check_text(matcher, as_text(expected), as_text(actual), cascaded)
    return _check_json_kind(kind, actual)


def _check_json_kind(kind: str, actual: Any) -> str | None:
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


def _check_type(matcher: Matcher, expected: Any, actual: Any, cascaded: bool) -> str | None:
    if type(expected) is not type(actual) and _kind(expected) != _kind(actual):
        return f"Expected {shown(actual)} to be the same type as {shown(expected)}"
    if cascaded or not isinstance(actual, list | dict):
        return None
    return size_problem(matcher, len(actual), lambda: shown(actual))


def size_problem(matcher: Matcher, size: int, described: str | Callable[[], str]) -> str | None:
    """The min/max size message for a collection of ``size`` items, or ``None`` when it fits.

    ``described`` names the collection in the message; a function is only called for one.
    """
    low = matcher.params.get("min") if matcher.kind in ("min", "minmax", "type") else None
    high = matcher.params.get("max") if matcher.kind in ("max", "minmax", "type") else None
    if isinstance(low, int) and size < low:
        return f"Expected {_described(described)} to have minimum size of {low}"
    if isinstance(high, int) and size > high:
        return f"Expected {_described(described)} to have maximum size of {high}"
    return None


def _described(described: str | Callable[[], str]) -> str:
    return described if isinstance(described, str) else described()


def check_collection(matcher: Matcher, expected: Any, actual: Any, cascaded: bool) -> str | None:
    """A rule applied to a whole list or map before its items are compared."""
    kind = matcher.kind
    if kind in ("type", "min", "max", "minmax"):
        return None if cascaded else size_problem(matcher, len(actual), lambda: shown(actual))
    if kind == "equality":
        return (
            None
            if json_equal(expected, actual)
            else f"Expected {shown(actual)} to be equal to {shown(expected)}"
        )
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
    kind, params = matcher.kind, matcher.params
    if kind == "regex":
        pattern = matcher.pattern
        ok = pattern is not None and pattern.fullmatch(actual) is not None
        return None if ok else f"Expected '{actual}' to match '{params.get('regex')}'"
    if kind in ("equality", "values"):
        return None if expected == actual else f"Expected '{actual}' to be equal to '{expected}'"
    if kind in ("type", "min", "max", "minmax"):
        return None
    if kind == "include":
        value = str(params.get("value"))
        return None if value in actual else f"Expected '{actual}' to include '{value}'"
    if kind in ("date", "time", "timestamp", "datetime"):
        return _check_datetime(kind, params.get("format"), actual)
    return _check_text_kind(matcher, actual, cascaded)


def _check_text_kind(matcher: Matcher, actual: str, cascaded: bool) -> str | None:
    kind = matcher.kind
    if kind in ("number", "decimal"):
        return None if re.fullmatch(_NUMBER_TEXT, actual) else f"Expected '{actual}' to match a number"
    if kind == "integer":
        return (
            None if re.fullmatch(r"[+-]?\d+", actual) else f"Expected '{actual}' to match an integer number"
        )
    if kind == "boolean":
        return None if actual in ("true", "false") else f"Expected '{actual}' to match a boolean"
    if kind == "notEmpty":
        return None if actual else "Expected '' (String) to not be empty"
    if kind == "semver":
        return None if is_semver(actual) else f"'{actual}' is not a valid semantic version"
    if kind == "statusCode":
        return (
            status_problem(matcher, int(actual))
            if actual.isdigit()
            else f"Unable to match '{actual}' as a status"
        )
    if kind == "contentType":
        return content_type_problem(str(matcher.params.get("value")), actual.encode("utf-8"))
    if kind == "null":
        return f"Expected '{actual}' (String) to be a null value"
    if kind in ("eachKey", "eachValue") and cascaded:
        return None
    return f"Unable to match '{actual}' using {kind}"


def _check_datetime(kind: str, pattern: Any, actual: str) -> str | None:
    label = "timestamp" if kind in ("timestamp", "datetime") else kind
    ok = matches_java_format(actual, str(pattern)) if pattern else matches_iso(actual, kind)
    shown_pattern = str(pattern) if pattern else f"ISO-8601 ({_DEFAULT_FORMATS.get(label, '')})"
    return None if ok else f"Expected '{actual}' to match a {label} pattern of '{shown_pattern}'"


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
    wanted = matcher.params.get("status")
    if isinstance(wanted, list):
        codes = [int(code) for code in wanted]
        return None if status in codes else f"Expected status code {status} to be one of {codes}"
    allowed = _STATUS_CLASSES.get(str(wanted))
    if allowed is None:
        return f"Unknown status code class '{wanted}'"
    return None if status in allowed else f"Expected status code {status} to be a {wanted} status"
