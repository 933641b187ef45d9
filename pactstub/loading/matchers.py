"""One matcher of a pact, read however the Pact tools write it, then checked and compiled.

The spellings follow the Pact specification (v2-v4) and what the reference
implementation reads (pact_models ``MatchingRule::create``), because pacts are
written by many tools:

- ``{"match": "date", "format": "dd/MM/yyyy"}`` and the rule's own name for the pattern,
  ``{"match": "date", "date": "dd/MM/yyyy"}`` (Pact-JVM, PactNet); the same for ``time``,
  ``timestamp`` and ``datetime``. Without a pattern, ISO-8601.
- No ``match`` at all (v2): ``regex``, ``min``/``max``, ``timestamp``, ``time`` or ``date``
  name the kind.
- Aliases: ``datetime`` for ``timestamp``, ``real`` for ``decimal``, ``min-type``/``max-type``,
  and kebab-case names (``content-type``, ``array-contains``, ``status-code``, ``not-empty``,
  ``each-key``, ``each-value``).
- Sizes as numbers or digit strings (``"min": "1"``, as the v3 specification writes it);
  ``type`` with ``min``/``max`` is the sized type rule.
- ``statusCode`` without ``status`` means ``success``; a class name or a list of codes.
- ``include`` and ``regex`` values that are numbers are read as their JSON text.

Everything a check needs is compiled here (regexes, date patterns, nested rules),
and anything unusable is a problem at its JSON path, not a failure at request time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeGuard, get_args

from pactstub.loading.collector import Collector
from pactstub.matching.formats import compile_date_format
from pactstub.matching.paths import PathSyntaxError, parse_path
from pactstub.matching.rules import STATUS_CLASSES
from pactstub.matching.ruletable import compile_body_rules
from pactstub.model import (
    NO_RULES,
    BodyRule,
    BodyRules,
    Combine,
    Matcher,
    MatcherKind,
    PathTokens,
    RuleSet,
    StatusClass,
    Variant,
)

_SPELLINGS: Mapping[str, MatcherKind] = {
    **{kind: kind for kind in get_args(MatcherKind) if kind != "minmax"},
    "datetime": "timestamp",
    "real": "decimal",
    "min-type": "min",
    "max-type": "max",
    "content-type": "contentType",
    "array-contains": "arrayContains",
    "status-code": "statusCode",
    "not-empty": "notEmpty",
    "each-key": "eachKey",
    "each-value": "eachValue",
}
#: without ``match``, the first of these attributes present names the kind
_IMPLIED = ("regex", "min", "max", "timestamp", "time", "date")
_STATUS_ALIASES: Mapping[str, StatusClass] = {**{c: c for c in STATUS_CLASSES}, "information": "info"}


class _Invalid(Exception):
    """A matcher attribute pactstub cannot use: ``field`` is its name, ``""`` the matcher."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


#: a JSON object as the pact has it
Raw = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class _Written:
    """A matcher as the pact writes it: its kind, the name it was written with, its attributes."""

    kind: MatcherKind
    name: str
    raw: Raw
    at: str
    collect: Collector


def rule_set_of(definition: object, at: str, collect: Collector) -> RuleSet | None:
    """``{"matchers": [...], "combine": "AND"|"OR"}`` as a :class:`RuleSet` (``None``: no matcher)."""
    if not isinstance(definition, Mapping):
        collect.add(at, "a matching rule must be an object")
        return None
    combine: Combine = "OR" if str(definition.get("combine", "AND")).upper() == "OR" else "AND"
    matchers = _matchers(definition.get("matchers") or [], f"{at}.matchers", collect)
    return RuleSet(matchers, combine) if matchers else None


def tokens_of(path: str, at: str, collect: Collector) -> PathTokens | None:
    """A rule path's tokens, or ``None`` after reporting why it cannot be read."""
    try:
        return parse_path(path)
    except PathSyntaxError as error:
        collect.add(at, str(error))
        return None


def matcher(raw: object, at: str, collect: Collector) -> Matcher | None:
    """One matcher, or ``None`` after reporting every problem with it."""
    if not isinstance(raw, Mapping):
        collect.add(at, "a matcher must be an object")
        return None
    name = raw.get("match", _implied(raw))
    if name is None:
        collect.add(at, f"a matcher needs 'match' (or one of {', '.join(map(repr, _IMPLIED))})")
        return None
    kind = _SPELLINGS.get(str(name))
    if kind is None:
        known = ", ".join(sorted(k for k in _SPELLINGS if "-" not in k))
        collect.add(f"{at}.match", f"unknown matcher {name!r} (known: {known})")
        return None
    try:
        return _BUILDERS.get(kind, _plain)(_Written(kind, str(name), raw, at, collect))
    except _Invalid as problem:
        collect.add(f"{at}.{problem.field}" if problem.field else at, problem.message)
        return None


def _implied(raw: Raw) -> str | None:
    """The kind a v2 matcher without ``match`` has; bounds alone make a sized ``type`` rule."""
    name = next((name for name in _IMPLIED if name in raw), None)
    return "type" if name in ("min", "max") else name


def _matchers(items: object, at: str, collect: Collector) -> tuple[Matcher, ...]:
    if not isinstance(items, list):
        collect.add(at, "must be a list of matchers")
        return ()
    found = (matcher(item, f"{at}[{position}]", collect) for position, item in enumerate(items))
    return tuple(m for m in found if m is not None)


def _plain(written: _Written) -> Matcher:
    return Matcher(written.kind)


def _regex(written: _Written) -> Matcher:
    text = _text(written, "regex")
    try:
        return Matcher(written.kind, regex=re.compile(text))
    except re.error as error:
        raise _Invalid("regex", f"invalid regular expression {text!r}: {error}") from None


def _valued(written: _Written) -> Matcher:
    return Matcher(written.kind, value=_text(written, "value"))


def _sized(written: _Written) -> Matcher:
    """``type`` with optional bounds; ``min`` and ``max`` with theirs (each reads only its own)."""
    kind = written.kind
    low = _count(written.raw, "min") if kind in ("type", "min") else None
    high = _count(written.raw, "max") if kind in ("type", "max") else None
    if kind != "type" and low is None and high is None:
        raise _Invalid("", f"matcher {written.name!r} needs {kind!r}")
    if low is not None and high is not None:
        return Matcher("minmax", min=low, max=high)
    if low is not None:
        return Matcher("min", min=low)
    return Matcher("max", max=high) if high is not None else Matcher("type")


def _dated(written: _Written) -> Matcher:
    """A date, time or timestamp pattern under ``format`` or the rule's own name; none: ISO-8601."""
    field = "format" if "format" in written.raw else written.name
    pattern = written.raw.get(field)
    if pattern is None or pattern == "":
        return Matcher(written.kind)
    if not isinstance(pattern, str):
        raise _Invalid(field, f"a {written.kind} pattern must be a string, not {pattern!r}")
    try:
        return Matcher(written.kind, format=compile_date_format(pattern))
    except ValueError as error:
        raise _Invalid(field, f"cannot use the {written.kind} pattern {pattern!r}: {error}") from None


def _status(written: _Written) -> Matcher:
    wanted = written.raw.get("status", "success")
    if isinstance(wanted, str) and wanted in _STATUS_ALIASES:
        return Matcher(written.kind, status=_STATUS_ALIASES[wanted])
    if isinstance(wanted, list) and wanted and all(_is_count(code) for code in wanted):
        return Matcher(written.kind, status=tuple(int(code) for code in wanted))
    classes = ", ".join(STATUS_CLASSES)
    raise _Invalid("status", f"must be one of {classes} or a list of status codes, not {wanted!r}")


def _each(written: _Written) -> Matcher:
    """``eachKey``/``eachValue``: the nested ``rules`` apply to every key, or every value."""
    matchers = _matchers(written.raw.get("rules", []), f"{written.at}.rules", written.collect)
    nested = RuleSet(matchers) if matchers else None
    if written.kind == "eachKey":
        return Matcher(written.kind, nested=nested)
    each = compile_body_rules([BodyRule("$.*", ("*",), nested)]).root if nested else NO_RULES
    return Matcher(written.kind, nested=nested, each_value=each)


def _contains(written: _Written) -> Matcher:
    """``arrayContains``: each variant names an expected item by ``index``, with its own rules."""
    variants = written.raw.get("variants")
    if not isinstance(variants, list):
        raise _Invalid(
            "variants" if "variants" in written.raw else "", "arrayContains needs a list of 'variants'"
        )
    found = []
    for position, variant in enumerate(variants):
        where = f"{written.at}.variants[{position}]"
        if not isinstance(variant, Mapping):
            written.collect.add(where, "an arrayContains variant must be an object")
            continue
        index = variant.get("index", 0)
        if not _is_count(index):
            written.collect.add(f"{where}.index", f"must be a non-negative integer, not {index!r}")
            continue
        rules = _variant_rules(variant.get("rules"), f"{where}.rules", written.collect)
        found.append(Variant(int(index), rules))
    return Matcher(written.kind, variants=tuple(found))


def _variant_rules(raw: object, at: str, collect: Collector) -> BodyRules:
    """A variant's own body rules, keyed by path like a body's."""
    if raw is None:
        return BodyRules()
    if not isinstance(raw, Mapping):
        collect.add(at, "must be an object of rules by path")
        return BodyRules()
    rules: list[BodyRule] = []
    for key, definition in raw.items():
        rule_set = rule_set_of(definition, f"{at}['{key}']", collect)
        tokens = tokens_of(str(key), f"{at}['{key}']", collect)
        if rule_set is not None and tokens is not None:
            rules.append(BodyRule(str(key), tokens, rule_set))
    return compile_body_rules(rules)


_BUILDERS: Mapping[MatcherKind, Callable[[_Written], Matcher]] = {
    "regex": _regex,
    "include": _valued,
    "contentType": _valued,
    "type": _sized,
    "min": _sized,
    "max": _sized,
    "date": _dated,
    "time": _dated,
    "timestamp": _dated,
    "statusCode": _status,
    "eachKey": _each,
    "eachValue": _each,
    "arrayContains": _contains,
}


def _text(written: _Written, name: str) -> str:
    """A string attribute; a number is read as its JSON text, as the reference implementation does."""
    value = written.raw.get(name)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if value is None:
        raise _Invalid("", f"matcher {written.name!r} needs {name!r}")
    raise _Invalid(name, f"must be a string, not {value!r}")


def _is_count(value: object) -> TypeGuard[int | str]:
    """A non-negative integer, written as a number or as digits (``"1"``)."""
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value >= 0) or (isinstance(value, str) and value.isdigit())


def _count(raw: Raw, name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not _is_count(value):
        raise _Invalid(name, f"{name} must be a non-negative integer")
    return int(value)
