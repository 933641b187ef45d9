"""Body matching: JSON trees, plain text, form-encoded and binary bodies.

The walk mirrors the Pact reference implementation: a rule found for a
location (its own or cascaded from a parent, best by path weight) replaces
equality there; maps in requests must have exactly the expected keys while
responses may carry more; arrays never take unexpected items unless a rule
says so. Everything is appended to one list so a caller sees every problem.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pactstub.loading.parse import parse_form
from pactstub.matching import rules as r
from pactstub.matching.paths import render
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.model import Body, BodyRule, Matcher, RuleSet

Location = tuple["str | int", ...]
_VALUES = ("values", "eachValue")


@dataclass(slots=True)
class Walk:
    """One body comparison: the rules in force, strictness and the findings so far."""

    rules: Sequence[BodyRule]
    strict: bool
    found: list[Mismatch] = field(default_factory=list)

    def add(self, location: Location, expected: Any, actual: Any, message: str) -> None:
        self.found.append(Mismatch("body", body_location(location), expected, actual, message))

    def with_rules(self, rules: Sequence[BodyRule]) -> Walk:
        return Walk(rules, self.strict)


def body_location(location: Location) -> str:
    """``("runs", 0, "id")`` -> ``$.body.runs[0].id``."""
    return BODY_ROOT + render(location)[1:]


# --------------------------------------------------------------------------- JSON


def compare_json(walk: Walk, location: Location, expected: Any, actual: Any) -> None:
    """Compare two JSON values at ``location``, appending mismatches to ``walk``."""
    if isinstance(expected, dict | list) and type(actual) is not type(expected):
        message = f"Type mismatch: Expected {r.shown(actual)} to be the same type as {r.shown(expected)}"
        walk.add(location, expected, actual, message)
        return
    if isinstance(expected, dict):
        _compare_maps(walk, location, expected, actual)
        return
    if isinstance(expected, list):
        _compare_lists(walk, location, expected, actual)
        return
    chosen = r.select(walk.rules, location)
    if chosen is not None:
        for message in r.apply(chosen[0], r.check_json, expected, actual, chosen[1]):
            walk.add(location, expected, actual, message)
    elif not r.json_equal(expected, actual):
        walk.add(location, expected, actual, f"Expected {r.shown(actual)} to be equal to {r.shown(expected)}")


def _compare_maps(walk: Walk, location: Location, expected: dict[str, Any], actual: dict[str, Any]) -> None:
    if not expected and actual and walk.strict:
        walk.add(location, expected, actual, f"Expected an empty Map but received {r.show(actual)}")
        return
    chosen = r.select(walk.rules, location)
    if chosen is None:
        _match_keys(walk, location, expected, actual)
        _compare_entries(walk, location, expected, actual)
        return
    rule_set, cascaded = chosen
    for message in r.apply(rule_set, r.check_collection, expected, actual, cascaded):
        walk.add(location, expected, actual, message)
    values = [m for m in rule_set.matchers if m.kind in _VALUES]
    if values and not cascaded:
        _compare_values_only(walk, location, expected, actual, values[0])
    else:
        _match_keys(walk, location, expected, actual)
        _compare_entries(walk, location, expected, actual)


def _compare_entries(
    walk: Walk, location: Location, expected: dict[str, Any], actual: dict[str, Any]
) -> None:
    for key, value in expected.items():
        if key in actual:
            compare_json(walk, (*location, key), value, actual[key])


def _compare_values_only(
    walk: Walk, location: Location, expected: dict[str, Any], actual: dict[str, Any], matcher: Matcher
) -> None:
    """``values``/``eachValue``: keys are free, each value matches its example (or the first one)."""
    inner = walk
    if matcher.kind == "eachValue":
        inner = walk.with_rules(_each_rules(location, matcher))
    first = next(iter(expected.values()), None)
    for key, value in actual.items():
        if key in expected or expected:
            compare_json(inner, (*location, key), expected.get(key, first), value)
    if inner is not walk:
        walk.found.extend(inner.found)


def _each_rules(location: Location, matcher: Matcher) -> tuple[BodyRule, ...]:
    nested = matcher.params.get("rules")
    if not isinstance(nested, RuleSet):
        return ()
    tokens = (*location, "*")
    return (BodyRule(body_location(tokens), tokens, RuleSet(nested.matchers, "AND")),)


def _match_keys(walk: Walk, location: Location, expected: dict[str, Any], actual: dict[str, Any]) -> None:
    own = r.exact(walk.rules, location)
    if not any(m.kind in ("values", "eachValue", "eachKey") for m in own):
        if walk.strict and sorted(expected) != sorted(actual):
            message = (
                f"Expected a Map with keys [{', '.join(sorted(expected))}] "
                f"but received one with keys [{', '.join(sorted(actual))}]"
            )
            walk.add(location, sorted(expected), sorted(actual), message)
        elif not walk.strict:
            missing = [key for key in expected if key not in actual]
            if missing:
                message = f"Actual map is missing the following keys: {', '.join(missing)}"
                walk.add(location, sorted(expected), sorted(actual), message)
    for matcher in own:
        nested = matcher.params.get("rules")
        if matcher.kind != "eachKey" or not isinstance(nested, RuleSet):
            continue
        for key in actual:
            for message in r.apply(nested, r.check_text, "", key, False):
                walk.add((*location, key), None, key, message)


def _compare_lists(walk: Walk, location: Location, expected: list[Any], actual: list[Any]) -> None:
    chosen = r.select(walk.rules, location)
    if chosen is not None:
        _compare_lists_with_rules(walk, location, expected, actual, chosen)
        return
    if not expected and actual:
        walk.add(location, expected, actual, f"Expected an empty List but received {r.show(actual)}")
        return
    for index, value in enumerate(expected):
        if index < len(actual):
            compare_json(walk, (*location, index), value, actual[index])
        else:
            walk.add(location, expected, actual, f"Expected {r.show(value)} but was missing")
    if len(expected) != len(actual):
        message = f"Expected a List with {len(expected)} elements but received {len(actual)} elements"
        walk.add(location, expected, actual, message)


def _compare_lists_with_rules(
    walk: Walk, location: Location, expected: list[Any], actual: list[Any], chosen: tuple[RuleSet, bool]
) -> None:
    rule_set, cascaded = chosen
    if not expected:
        return
    shared: list[Mismatch] | None = None
    results: list[list[Mismatch]] = []
    for matcher in rule_set.matchers:
        part = walk.with_rules(walk.rules)
        if matcher.kind == "arrayContains":
            _array_contains(part, location, expected, actual, matcher)
        elif matcher.kind == "eachValue" and not cascaded:
            _list_items(walk.with_rules(_each_rules(location, matcher)), location, expected, actual, part)
        else:
            message = r.check_collection(matcher, expected, actual, cascaded)
            if message:
                part.add(location, expected, actual, message)
            if shared is None:
                shared = []
                _list_items(walk, location, expected, actual, Walk(walk.rules, walk.strict, shared))
            part.found.extend(shared)
        results.append(part.found)
    if rule_set.combine == "OR" and any(not found for found in results):
        return
    seen: set[int] = set()
    for found in results:
        for mismatch in found:
            if id(mismatch) not in seen:
                seen.add(id(mismatch))
                walk.found.append(mismatch)


def _list_items(rules: Walk, location: Location, expected: list[Any], actual: list[Any], out: Walk) -> None:
    """Compare items by index; extra actual items are compared with the first example."""
    walk = Walk(rules.rules, rules.strict, out.found)
    for index, value in enumerate(actual):
        example = expected[index] if index < len(expected) else expected[0]
        compare_json(walk, (*location, index), example, value)


def _array_contains(
    walk: Walk, location: Location, expected: list[Any], actual: list[Any], matcher: Matcher
) -> None:
    variants = matcher.params.get("variants") or [(index, None, ()) for index in range(len(expected))]
    for index, _example, variant_rules in variants:
        if index >= len(expected):
            message = (
                f"ArrayContains: variant {index} is missing from the expected list, "
                f"which has {len(expected)} items"
            )
            walk.add(location, expected, actual, message)
            continue
        wanted = expected[index]
        if not any(_fits(walk, variant_rules, wanted, item) for item in actual):
            message = f"Variant at index {index} ({r.show(wanted)}) was not found in the actual list"
            walk.add(location, wanted, actual, message)


def _fits(walk: Walk, rules: Sequence[BodyRule], expected: Any, actual: Any) -> bool:
    trial = Walk(rules, walk.strict)
    compare_json(trial, (), expected, actual)
    return not trial.found


# --------------------------------------------------------------------------- other kinds


def compare_text(walk: Walk, expected: str, actual: str) -> None:
    """Plain text: equality, or the rules written for the whole body (``$``)."""
    chosen = r.select(walk.rules, ())
    if chosen is not None:
        for message in r.apply(chosen[0], r.check_text, expected, actual, chosen[1]):
            walk.add((), expected, actual, message)
    elif expected != actual:
        message = f"Expected body '{expected}' to match '{actual}' using equality but did not match"
        walk.add((), expected, actual, message)


def compare_binary(walk: Walk, expected: bytes, actual: bytes) -> None:
    """Bytes: equality, unless a ``contentType`` rule asks for a magic-number check."""
    chosen = r.select(walk.rules, ())
    kinds = [m for m in chosen[0].matchers if m.kind == "contentType"] if chosen else []
    for matcher in kinds:
        message = r.content_type_problem(str(matcher.params.get("value")), actual)
        if message:
            walk.add((), matcher.params.get("value"), None, message)
    if not kinds and expected != actual:
        message = (
            f"Expected binary contents of {len(expected)} bytes to equal the {len(actual)} bytes received"
        )
        walk.add((), len(expected), len(actual), message)


def compare_form(walk: Walk, expected: str, actual: str) -> None:
    """Form-encoded bodies match like query strings, rules keyed ``$.name``."""
    wanted, got = parse_form(expected), parse_form(actual)
    for name, values in wanted.items():
        if name not in got:
            walk.add((name,), values, None, f"Expected form post parameter '{name}' but was missing")
            continue
        chosen = r.select(walk.rules, (name,))
        for want, have, message in param_problems(name, values, got[name], chosen, "form post parameter"):
            walk.add((name,), want, have, message)
    for name, values in got.items():
        if name not in wanted:
            walk.add((name,), None, values, f"Unexpected form post parameter '{name}' received")


def param_problems(
    name: str, expected: Sequence[str], actual: Sequence[str], chosen: tuple[RuleSet, bool] | None, noun: str
) -> list[tuple[Any, Any, str]]:
    """Multi-valued parameters (query or form): values of one name compare in order.

    With a rule, every received value is checked against the rule (extra values
    against the first example), so ``min``/``max`` style rules may relax the count.
    """
    if chosen is not None:
        problems: list[tuple[Any, Any, str]] = []
        for index, value in enumerate(actual):
            example = expected[index] if index < len(expected) else (expected[0] if expected else "")
            problems.extend(
                (example, value, m) for m in r.apply(chosen[0], r.check_text, example, value, False)
            )
        for matcher in chosen[0].matchers:
            message = None if chosen[1] else r.size_problem(matcher, len(actual), r.show(list(actual)))
            if message and matcher.kind in ("min", "max", "minmax"):
                problems.append((list(expected), list(actual), message))
        return problems
    problems = []
    if len(expected) != len(actual):
        message = (
            f"Expected {noun} '{name}' with {len(expected)} value(s) but received {len(actual)} value(s)"
        )
        problems.append((list(expected), list(actual), message))
    for want, got in zip(expected, actual, strict=False):
        if want != got:
            problems.append((want, got, f"Expected {noun} '{name}' with value '{want}' but was '{got}'"))
    return problems


# --------------------------------------------------------------------------- dispatch


def match_body(
    expected: Body | None, actual: bytes, actual_type: str | None, *, strict: bool, rules: Sequence[BodyRule]
) -> list[Mismatch]:
    """Compare a received body with the pact's, by the pact body's kind.

    A missing expected body matches anything; an empty (or null) one needs an
    empty body; a present one needs a present body of a compatible type.
    """
    if expected is None:
        return []
    empty_expected = expected.value is None or expected.value in ("", b"")
    if empty_expected:
        if actual:
            return [
                Mismatch(
                    "body",
                    BODY_ROOT,
                    None,
                    _preview(actual),
                    f"Expected empty body but received '{_preview(actual)}'",
                )
            ]
        return []
    if not _compatible(expected.content_type, actual_type):
        message = (
            f"Expected a body of '{expected.content_type}' but the actual content type was '{actual_type}'"
        )
        return [Mismatch("body-type", BODY_ROOT, expected.content_type, actual_type, message)]
    if not actual:
        shown = _preview(expected.to_bytes())
        return [Mismatch("body", BODY_ROOT, shown, None, f"Expected body '{shown}' but was missing")]
    walk = Walk(rules, strict)
    _dispatch(walk, expected, actual)
    return walk.found


def _dispatch(walk: Walk, expected: Body, actual: bytes) -> None:
    if expected.kind == "json":
        try:
            parsed = json.loads(actual.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            walk.add((), expected.value, _preview(actual), f"Failed to parse the actual body: '{error}'")
            return
        compare_json(walk, (), expected.value, parsed)
    elif expected.kind == "xml":
        from pactstub.matching.xml import compare_xml

        compare_xml(walk, str(expected.value), actual)
    elif expected.kind == "binary":
        compare_binary(walk, expected.to_bytes(), actual)
    elif expected.kind == "form":
        compare_form(walk, str(expected.value), actual.decode("utf-8", "replace"))
    else:
        compare_text(walk, str(expected.value), actual.decode("utf-8", "replace"))


def _family(content_type: str) -> str:
    base = content_type.partition(";")[0].strip().lower()
    if base.endswith(("/json", "+json")):
        return "json"
    if base.endswith(("/xml", "+xml")):
        return "xml"
    return base


def _compatible(expected: str | None, actual: str | None) -> bool:
    """Unknown on either side is compatible; else the base types (or JSON/XML families) agree."""
    if not expected or not actual:
        return True
    return _family(expected) == _family(actual)


def _preview(data: bytes, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."
