"""JSON body trees, compared the way the Pact reference implementation does.

A rule found for a location (its own or cascaded from a parent, best by path
weight) replaces equality there; maps in requests must have exactly the
expected keys while responses may carry more; arrays never take unexpected
items unless a rule says so. The rules in force come as a compiled
:class:`~pactstub.matching.ruletable.RuleState` that steps along with the walk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pactstub.matching import rules as r
from pactstub.matching.report import Mismatch
from pactstub.matching.ruletable import RuleState, each_value_root
from pactstub.matching.walk import Decided, Location, Walk
from pactstub.model import BodyRule, Matcher, RuleSet

_VALUES = ("values", "eachValue")


def compare_json(
    walk: Walk, location: Location, expected: Any, actual: Any, state: RuleState | None = None
) -> None:
    """Compare two JSON values at ``location``, appending mismatches to ``walk``.

    ``state`` is the compiled rules at ``location`` (found from ``walk`` when not given).
    """
    if state is None:
        state = walk.root.at(location)
    if isinstance(expected, dict):
        if type(actual) is not type(expected):
            _type_mismatch(walk, location, expected, actual)
        else:
            _compare_maps(walk, location, state, expected, actual)
        return
    if isinstance(expected, list):
        if type(actual) is not type(expected):
            _type_mismatch(walk, location, expected, actual)
        else:
            _compare_lists(walk, location, state, expected, actual)
        return
    chosen = state.chosen
    if chosen is not None:
        for message in r.apply(chosen[0], r.check_json, expected, actual, chosen[1]):
            walk.add(location, expected, actual, message)
    elif not (type(expected) is type(actual) and expected == actual) and not r.json_equal(expected, actual):
        walk.add(location, expected, actual, f"Expected {r.shown(actual)} to be equal to {r.shown(expected)}")


def _type_mismatch(walk: Walk, location: Location, expected: Any, actual: Any) -> None:
    message = f"Type mismatch: Expected {r.shown(actual)} to be the same type as {r.shown(expected)}"
    walk.add(location, expected, actual, message)


def _compare_maps(
    walk: Walk, location: Location, state: RuleState, expected: dict[str, Any], actual: dict[str, Any]
) -> None:
    if not expected and actual and walk.strict:
        walk.add(location, expected, actual, f"Expected an empty Map but received {r.show(actual)}")
        return
    chosen = state.chosen
    if chosen is None:
        _match_keys(walk, location, state, expected, actual)
        _compare_entries(walk, location, state, expected, actual)
        return
    rule_set, cascaded = chosen
    for message in r.apply(rule_set, r.check_collection, expected, actual, cascaded):
        walk.add(location, expected, actual, message)
    values = [m for m in rule_set.matchers if m.kind in _VALUES]
    if values and not cascaded:
        _compare_values_only(walk, location, state, expected, actual, values[0])
    else:
        _match_keys(walk, location, state, expected, actual)
        _compare_entries(walk, location, state, expected, actual)


def _compare_entries(
    walk: Walk, location: Location, state: RuleState, expected: dict[str, Any], actual: dict[str, Any]
) -> None:
    for key, value in expected.items():
        if key in actual:
            compare_json(walk, (*location, key), value, actual[key], state.child(key))


def _compare_values_only(
    walk: Walk,
    location: Location,
    state: RuleState,
    expected: dict[str, Any],
    actual: dict[str, Any],
    matcher: Matcher,
) -> None:
    """``values``/``eachValue``: keys are free, each value matches its example (or the first one).

    ``eachValue`` replaces the rules in force below this map with its own
    nested rules, which apply to every child of the map.
    """
    inner = walk
    if matcher.kind == "eachValue":
        state = each_value_root(matcher)
        inner = walk.into(walk.found, walk.decide)
    first = next(iter(expected.values()), None)
    for key, value in actual.items():
        if key in expected or expected:
            compare_json(inner, (*location, key), expected.get(key, first), value, state.child(key))


def _match_keys(
    walk: Walk, location: Location, state: RuleState, expected: dict[str, Any], actual: dict[str, Any]
) -> None:
    own = state.own
    if not state.frees_keys:
        if walk.strict and expected.keys() != actual.keys():
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


def _compare_lists(
    walk: Walk, location: Location, state: RuleState, expected: list[Any], actual: list[Any]
) -> None:
    chosen = state.chosen
    if chosen is not None:
        _compare_lists_with_rules(walk, location, state, expected, actual, chosen)
        return
    if not expected and actual:
        walk.add(location, expected, actual, f"Expected an empty List but received {r.show(actual)}")
        return
    for index, value in enumerate(expected):
        if index < len(actual):
            compare_json(walk, (*location, index), value, actual[index], state.child(index))
        else:
            walk.add(location, expected, actual, f"Expected {r.show(value)} but was missing")
    if len(expected) != len(actual):
        message = f"Expected a List with {len(expected)} elements but received {len(actual)} elements"
        walk.add(location, expected, actual, message)


def _compare_lists_with_rules(
    walk: Walk,
    location: Location,
    state: RuleState,
    expected: list[Any],
    actual: list[Any],
    chosen: tuple[RuleSet, bool],
) -> None:
    rule_set, cascaded = chosen
    if not expected:
        return
    # with AND every part's findings are kept, so a deciding walk's parts may decide too
    deciding = walk.decide and rule_set.combine != "OR"
    shared: list[Mismatch] | None = None
    results: list[list[Mismatch]] = []
    for matcher in rule_set.matchers:
        part = walk.into([], deciding)
        if matcher.kind == "arrayContains":
            _array_contains(part, location, expected, actual, matcher)
        elif matcher.kind == "eachValue" and not cascaded:
            _list_items(part, location, each_value_root(matcher), expected, actual)
        else:
            message = r.check_collection(matcher, expected, actual, cascaded)
            if message:
                part.add(location, expected, actual, message)
            if shared is None:
                shared = []
                _list_items(walk.into(shared, deciding), location, state, expected, actual)
            part.found.extend(shared)
        results.append(part.found)
    if rule_set.combine == "OR" and any(not found for found in results):
        return
    seen: set[int] = set()
    kept: list[Mismatch] = []
    for found in results:
        for mismatch in found:
            if id(mismatch) not in seen:
                seen.add(id(mismatch))
                kept.append(mismatch)
    walk.extend(kept)


def _list_items(
    out: Walk, location: Location, state: RuleState, expected: list[Any], actual: list[Any]
) -> None:
    """Compare items by index; extra actual items are compared with the first example.

    ``state`` is the compiled rules at the list; findings go to ``out``.
    """
    for index, value in enumerate(actual):
        example = expected[index] if index < len(expected) else expected[0]
        compare_json(out, (*location, index), example, value, state.child(index))


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
    trial = Walk(rules, walk.strict, decide=True)
    try:
        compare_json(trial, (), expected, actual, trial.root)
    except Decided:
        return False
    return not trial.found
