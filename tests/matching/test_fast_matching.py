"""The fast paths give the answers of the plain ones: compiled rule choice, prepared requests."""

from __future__ import annotations

import itertools
import json
import random

from pactstub.matching import rules
from pactstub.matching.http import match_request, matches
from pactstub.matching.paths import parse_path
from pactstub.matching.prepared import PreparedRequest, prepare
from pactstub.matching.ruletable import IdentityCache, either, root
from pactstub.model import Body, BodyRule, HttpRequest, Matcher, MatchingRules, ReceivedRequest, RuleSet

_PATHS = [
    "$", "$.a", "$.a.b", "$.a[*]", "$.a[*].b", "$.a[0]", "$.a[0].b", "$.*", "$.*.b", "$[*]",
    "$.a.*", "$.b[1]", "$['0']", "$.a['b c']", "$.a[*].*", "$.x.y.z",
]  # fmt: skip
_KINDS = ["type", "regex", "integer", "min", "eachKey", "values", "equality"]
_STEPS: list[str | int] = ["a", "b", "c", "x", "y", "z", 0, 1, 2, "0", "1", "*", "b c"]


def _rule(path: str, kind: str) -> BodyRule:
    return BodyRule(path, parse_path(path), RuleSet((Matcher(kind),)))


def _rule_sets(count: int) -> list[tuple[BodyRule, ...]]:
    chooser = random.Random(7)
    sets = [(), (_rule("$.a[*].b", "type"), _rule("$.a", "min"))]
    for _ in range(count):
        paths = chooser.sample(_PATHS, chooser.randint(1, 6))
        sets.append(tuple(_rule(p, chooser.choice(_KINDS)) for p in paths))
    return sets


def _locations(depth: int) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = [()]
    for length in range(1, depth + 1):
        found.extend(itertools.product(_STEPS[:7] if length > 2 else _STEPS, repeat=length))
    return found


def test_compiled_choice_is_the_weighed_choice() -> None:
    locations = _locations(3)
    for body_rules in _rule_sets(60):
        start = root(body_rules)
        for location in locations:
            state = start.at(location)
            assert state.chosen == rules.select(body_rules, location), (body_rules, location)
            assert list(state.own) == rules.exact(body_rules, location)
            assert state.defined == rules.defined(body_rules, location)
            assert state.typed == rules.type_rule_defined(body_rules, location)


def test_two_spellings_choose_like_select() -> None:
    chooser = random.Random(11)
    locations = _locations(3)
    for body_rules in _rule_sets(30):
        start = root(body_rules)
        for _ in range(300):
            first, second = chooser.choice(locations), chooser.choice(locations)
            expected = rules.select(body_rules, first, second)
            assert either(start.at(first), start.at(second)) == expected, (body_rules, first, second)


def test_deep_locations_reuse_states() -> None:
    body_rules = (_rule("$.a[*].b", "type"),)
    start = root(body_rules)
    assert start is root(body_rules), "compiled once per rule tuple"
    deep = start.at(("a", 5, "b", "c", "d"))
    assert deep.at((9, "e", 3)) is deep
    assert start.at(("a", 1)) is start.at(("a", 123456)), "indexes without rules share one state"


def test_identity_cache_is_bounded_and_keyed_by_identity() -> None:
    built: list[object] = []
    cache: IdentityCache[object, int] = IdentityCache(lambda key: built.append(key) or len(built), limit=3)
    keys = [object() for _ in range(5)]
    assert [cache(k) for k in keys[:2]] == [1, 2]
    assert cache(keys[0]) == 1
    assert len(built) == 2
    for key in keys:
        cache(key)
    assert len(cache._entries) <= 3


def _request(body: object, **headers: str) -> ReceivedRequest:
    data = json.dumps(body).encode()
    pairs = (("Content-Type", "application/json"), *headers.items())
    return ReceivedRequest("POST", "/jobs", {}, pairs, data, True)


def test_prepared_request_is_made_once() -> None:
    received = _request({"a": 1})
    prepared = prepare(received)
    assert prepare(received) is prepared
    assert prepare(prepared) is prepared
    assert prepared.headers == {"content-type": ["application/json"]}
    assert prepared.body.json() is prepared.body.json()
    assert isinstance(PreparedRequest(received).body.json()[0], dict)


def test_decide_and_explain_agree_over_list_rules() -> None:
    """OR-combined and nested list rules: the deciding walk must not stop early on a kept-out finding."""
    either_rule = RuleSet((Matcher("type", {"min": 3}), Matcher("arrayContains", {})), "OR")
    body_rules = (
        BodyRule("$.items", ("items",), either_rule),
        BodyRule("$.items[*].id", ("items", "*", "id"), RuleSet((Matcher("integer"),))),
    )
    expected = HttpRequest(
        "POST",
        "/jobs",
        headers={"Content-Type": ("application/json",)},
        body=Body("json", {"items": [{"id": 1}, {"id": 2}]}, "application/json"),
        rules=MatchingRules(body=body_rules),
    )
    bodies = [
        {"items": [{"id": 1}, {"id": 2}]},
        {"items": [{"id": 2}, {"id": 1}, {"id": 3}]},
        {"items": [{"id": "x"}]},
        {"items": [{"id": 1}]},
        {"items": []},
        {"items": {"id": 1}},
    ]
    for body in bodies:
        received = _request(body, Accept="*/*")
        assert matches(expected, received) == (match_request(expected, received) == []), body
