"""The compiled body rules choose as the weighing the reference implementation describes.

The oracle below weighs every rule against a whole location, rule by rule, the
slow way; the automaton a pact is compiled into must give the same answers at
every location, and be complete before the first request.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

from pactstub import load_pacts
from pactstub.matching.http import match_request, matches
from pactstub.matching.ruletable import either
from pactstub.model import BodyRule, BodyRules, ChosenRule, Matcher, ReceivedRequest, RuleState
from tests.conftest import pact_document

Location = Sequence["str | int"]

_PATHS = [
    "$", "$.a", "$.a.b", "$.a[*]", "$.a[*].b", "$.a[0]", "$.a[0].b", "$.*", "$.*.b", "$[*]",
    "$.a.*", "$.b[1]", "$['0']", "$.a['b c']", "$.a[*].*", "$.x.y.z",
]  # fmt: skip
_MATCHERS: list[dict[str, Any]] = [
    {"match": "type"},
    {"match": "regex", "regex": "\\d+"},
    {"match": "integer"},
    {"match": "type", "min": 1},
    {"match": "eachKey", "rules": [{"match": "regex", "regex": "[a-z]+"}]},
    {"match": "values"},
    {"match": "equality"},
]
_STEPS: list[str | int] = ["a", "b", "c", "x", "y", "z", 0, 1, 2, "0", "1", "*", "b c"]


# ------------------------------------------------------------------------ the oracle


def weight(pattern: Sequence[str | int], location: Location) -> tuple[int, int]:
    """``(score, length)`` of a rule path against a location; ``(0, 0)`` when it does not fit."""
    if len(pattern) > len(location):
        return (0, 0)
    score = 1
    for token, step in zip(pattern, location, strict=False):
        if token == "*":
            continue
        if str(token) != str(step):
            return (0, 0)
        score *= 2
    return (score, len(pattern))


def select(rules: Sequence[BodyRule], *locations: Location) -> ChosenRule | None:
    """The heaviest fitting rule over all spellings of a location; a later rule wins a tie."""
    best: ChosenRule | None = None
    best_key = 0
    for rule in rules:
        for location in locations:
            score, length = weight(rule.tokens, location)
            key = score * 2 * (length + 1)
            if score and key >= best_key:
                best, best_key = ChosenRule(rule.rules, length != len(location)), key
    return best


def exact(rules: Sequence[BodyRule], location: Location) -> list[Matcher]:
    """The matchers of rules written for exactly this location."""
    return [
        matcher
        for rule in rules
        if len(rule.tokens) == len(location) and weight(rule.tokens, location)[0]
        for matcher in rule.rules.matchers
    ]


def typed(rules: Sequence[BodyRule], location: Location) -> bool:
    """Whether a type-like rule applies here, its own or a parent's."""
    return any(
        m.kind in ("type", "min", "max", "minmax")
        for rule in rules
        if weight(rule.tokens, location)[0]
        for m in rule.rules.matchers
    )


# ------------------------------------------------------------------------ pacts


def compiled(body_rules: dict[str, Any]) -> BodyRules:
    """The body rules of a loaded pact whose request has these ``body`` rules."""
    request = {"method": "POST", "path": "/", "matchingRules": {"body": body_rules}}
    (pact,) = load_pacts([pact_document({"request": request, "response": {}})])
    return pact.interactions[0].request.rules.body


def random_rule_sets(count: int) -> list[BodyRules]:
    chooser = random.Random(7)
    found = [compiled({}), compiled({"$.a[*].b": {"matchers": [{"match": "type"}]}, "$.a": _rule(3)})]
    for _ in range(count):
        paths = chooser.sample(_PATHS, chooser.randint(1, 6))
        found.append(compiled({path: _rule(chooser.randrange(len(_MATCHERS))) for path in paths}))
    return found


def _rule(position: int) -> dict[str, Any]:
    return {"matchers": [_MATCHERS[position]]}


def locations(depth: int) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = [()]
    for length in range(1, depth + 1):
        found.extend(itertools.product(_STEPS[:7] if length > 2 else _STEPS, repeat=length))
    return found


def states(root: RuleState) -> set[int]:
    """Every state reachable from ``root``, by identity."""
    seen: dict[int, RuleState] = {}
    todo = [root]
    while todo:
        state = todo.pop()
        if id(state) in seen:
            continue
        seen[id(state)] = state
        todo.extend(state.named.values())
        if state.other is not None:
            todo.append(state.other)
    return set(seen)


# ------------------------------------------------------------------------ tests


def test_the_compiled_choice_is_the_weighed_choice() -> None:
    places = locations(3)
    for body in random_rule_sets(60):
        for location in places:
            state = body.root.at(tuple(location))
            assert state.chosen == select(body.rules, location), (body.rules, location)
            assert list(state.own) == exact(body.rules, location)
            assert state.typed == typed(body.rules, location)


def test_two_spellings_choose_like_the_weighing() -> None:
    chooser = random.Random(11)
    places = locations(3)
    for body in random_rule_sets(30):
        for _ in range(300):
            first, second = chooser.choice(places), chooser.choice(places)
            expected = select(body.rules, first, second)
            assert either(body.root.at(first), body.root.at(second)) == expected, (body.rules, first, second)


def test_deep_locations_share_states() -> None:
    body = compiled({"$.a[*].b": {"matchers": [{"match": "type"}]}})
    deep = body.root.at(("a", 5, "b", "c", "d"))
    assert deep.at((9, "e", 3)) is deep, "past every rule, a location is its own child"
    assert body.root.at(("a", 1)) is body.root.at(("a", 123456)), "indexes without rules share one state"
    assert compiled({}).root.at(("x", 1)).chosen is None


def test_every_state_exists_before_the_first_request() -> None:
    """Matching reads the automaton built at load; no request adds to it."""
    body_rules = {
        "$.runs": {"matchers": [{"match": "type", "min": 1}]},
        "$.runs[*].id": {"matchers": [{"match": "integer"}]},
        "$.runs[*].tags.*": {"matchers": [{"match": "regex", "regex": "[a-z]+"}]},
    }
    request = {
        "method": "POST",
        "path": "/runs",
        "headers": {"Content-Type": "application/json"},
        "body": {"runs": [{"id": 1, "tags": {"a": "x"}}]},
        "matchingRules": {"body": body_rules},
    }
    (pact,) = load_pacts([pact_document({"request": request, "response": {}})])
    expected = pact.interactions[0].request
    before = states(expected.rules.body.root)
    for runs in ([{"id": 2, "tags": {"b": "y", "c": "z"}}], [{"id": "x", "tags": {"q": "1"}}] * 3, []):
        body = json.dumps({"runs": runs}).encode()
        received = ReceivedRequest(
            "POST", "/runs", headers=(("Content-Type", "application/json"),), body=body
        )
        match_request(expected, received)
    assert states(expected.rules.body.root) == before


def test_deciding_and_explaining_agree_over_list_rules() -> None:
    """An OR of list rules collects every part: stopping early must not change the verdict."""
    request = {
        "method": "POST",
        "path": "/jobs",
        "headers": {"Content-Type": "application/json"},
        "body": {"items": [{"id": 1}, {"id": 2}]},
        "matchingRules": {
            "body": {
                "$.items": {
                    "combine": "OR",
                    "matchers": [{"match": "type", "min": 3}, {"match": "arrayContains", "variants": []}],
                },
                "$.items[*].id": {"matchers": [{"match": "integer"}]},
            }
        },
    }
    (pact,) = load_pacts([pact_document({"request": request, "response": {}})])
    expected = pact.interactions[0].request
    bodies: list[object] = [
        {"items": [{"id": 1}, {"id": 2}]},
        {"items": [{"id": 2}, {"id": 1}, {"id": 3}]},
        {"items": [{"id": "x"}]},
        {"items": [{"id": 1}]},
        {"items": []},
        {"items": {"id": 1}},
    ]
    verdicts = []
    for body in bodies:
        headers = (("Content-Type", "application/json"), ("Accept", "*/*"))
        received = ReceivedRequest("POST", "/jobs", headers=headers, body=json.dumps(body).encode())
        assert matches(expected, received) == (match_request(expected, received) == []), body
        verdicts.append(matches(expected, received))
    # min 3 or every expected item present; ids integers either way
    assert verdicts == [True, True, False, False, False, False]
