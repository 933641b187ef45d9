"""JSON body trees, compared the way the Pact reference implementation does.

A rule found for a location (its own or cascaded from a parent, best by path
weight) replaces equality there; maps in requests must have exactly the
expected keys while responses may carry more; arrays never take unexpected
items unless a rule says so. The rules in force come as a compiled
:class:`~pactstub.matching.ruletable.RuleState` that steps along with the walk.
"""

from __future__ import annotations

from pactstub.matching import rules as r
from pactstub.matching.report import Mismatch
from pactstub.matching.walk import Decided, Location, Walk
from pactstub.model import NO_RULES, BodyRules, ChosenRule, Matcher, RuleState

_VALUES = ("values", "eachValue")
JsonMap = dict[str, object]
JsonList = list[object]


def compare_json(walk: Walk, location: Location, expected: object, actual: object, state: RuleState) -> None:
    """Compare two JSON values at ``location``, appending mismatches to ``walk``.

    ``state`` is the compiled rules at ``location``.
    """
    if isinstance(expected, dict):
        if isinstance(actual, dict):
            _compare_maps(walk, location, state, expected, actual)
        else:
            _type_mismatch(walk, location, expected, actual)
        return
    if isinstance(expected, list):
        if isinstance(actual, list):
            _compare_lists(walk, location, state, expected, actual)
        else:
            _type_mismatch(walk, location, expected, actual)
        return
    chosen = state.chosen
    if chosen is not None:
        for message in r.apply(chosen.rules, r.check_json, expected, actual, chosen.cascaded):
            walk.add(location, expected, actual, message)
    elif not (type(expected) is type(actual) and expected == actual) and not r.json_equal(expected, actual):
        walk.add(location, expected, actual, f"Expected {r.shown(actual)} to be equal to {r.shown(expected)}")


def _type_mismatch(walk: Walk, location: Location, expected: object, actual: object) -> None:
    message = f"Type mismatch: Expected {r.shown(actual)} to be the same type as {r.shown(expected)}"
    walk.add(location, expected, actual, message)


def _compare_maps(
    walk: Walk, location: Location, state: RuleState, expected: JsonMap, actual: JsonMap
) -> None:
    if not expected and actual and walk.strict:
        walk.add(location, expected, actual, f"Expected an empty Map but received {r.show(actual)}")
        return
    chosen = state.chosen
    if chosen is None:
        _match_keys(walk, location, state, expected, actual)
        _compare_entries(walk, location, state, expected, actual)
        return
    for message in r.apply(chosen.rules, _check_map, expected, actual, chosen.cascaded):
        walk.add(location, expected, actual, message)
    values = [m for m in chosen.rules.matchers if m.kind in _VALUES]
    if values and not chosen.cascaded:
        _compare_values_only(walk, location, state, expected, actual, values[0])
    else:
        _match_keys(walk, location, state, expected, actual)
        _compare_entries(walk, location, state, expected, actual)


def _check_map(matcher: Matcher, expected: JsonMap, actual: JsonMap, cascaded: bool) -> str | None:
    return r.check_collection(matcher, expected, actual, cascaded)


def _check_list(matcher: Matcher, expected: JsonList, actual: JsonList, cascaded: bool) -> str | None:
    return r.check_collection(matcher, expected, actual, cascaded)


def _compare_entries(
    walk: Walk, location: Location, state: RuleState, expected: JsonMap, actual: JsonMap
) -> None:
    for key, value in expected.items():
        if key in actual:
            compare_json(walk, (*location, key), value, actual[key], state.child(key))


def _compare_values_only(
    walk: Walk,
    location: Location,
    state: RuleState,
    expected: JsonMap,
    actual: JsonMap,
    matcher: Matcher,
) -> None:
    """``values``/``eachValue``: keys are free, each value matches its example (or the first one).

    ``eachValue`` replaces the rules in force below this map with its own
    nested rules, which apply to every child of the map.
    """
    if matcher.kind == "eachValue":
        state = matcher.each_value or NO_RULES
    first = next(iter(expected.values()), None)
    for key, value in actual.items():
        if key in expected or expected:
            compare_json(walk, (*location, key), expected.get(key, first), value, state.child(key))


def _match_keys(walk: Walk, location: Location, state: RuleState, expected: JsonMap, actual: JsonMap) -> None:
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
    for matcher in state.own:
        if matcher.kind != "eachKey" or matcher.nested is None:
            continue
        for key in actual:
            for message in r.apply(matcher.nested, r.check_text, "", key, False):
                walk.add((*location, key), None, key, message)


def _compare_lists(
    walk: Walk, location: Location, state: RuleState, expected: JsonList, actual: JsonList
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
    expected: JsonList,
    actual: JsonList,
    chosen: ChosenRule,
) -> None:
    rule_set, cascaded = chosen.rules, chosen.cascaded
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
            _list_items(part, location, matcher.each_value or NO_RULES, expected, actual)
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
    out: Walk, location: Location, state: RuleState, expected: JsonList, actual: JsonList
) -> None:
    """Compare items by index; extra actual items are compared with the first example.

    ``state`` is the compiled rules at the list; findings go to ``out``.
    """
    for index, value in enumerate(actual):
        example = expected[index] if index < len(expected) else expected[0]
        compare_json(out, (*location, index), example, value, state.child(index))


def _array_contains(
    walk: Walk, location: Location, expected: JsonList, actual: JsonList, matcher: Matcher
) -> None:
    """Every variant (by default every expected item) must fit some item of the actual list."""
    variants = [(v.index, v.rules) for v in matcher.variants or ()]
    for index, variant_rules in variants or [(index, BodyRules()) for index in range(len(expected))]:
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


def _fits(walk: Walk, rules: BodyRules, expected: object, actual: object) -> bool:
    trial = Walk(rules.root, walk.strict, decide=True)
    try:
        compare_json(trial, (), expected, actual, trial.root)
    except Decided:
        return False
    return not trial.found
