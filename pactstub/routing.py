"""The route index: from method and path to the interactions worth matching, and the one chosen.

Built once at start-up. Literal paths sit in a dict, so finding candidates for
them costs the same with ten interactions or ten thousand; interactions whose
path has a matching rule are compiled once into a predicate and checked after
the dict. :meth:`RouteIndex.choose` picks, among the candidates that match a
request, the most specific, then the first in pact order.

When the index is built, each interaction's own example request is sent
through it. An interaction that another one wins for its own example is *shadowed*:
at best it answers requests its rules allow and the winner's do not. It is
reported when the index is built (see :mod:`pactstub.listing`), not
discovered by a puzzled consumer.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from pactstub.matching.actual import ActualRequest
from pactstub.matching.http import matches
from pactstub.model import HttpRequest, Interaction, Matcher, ReceivedRequest, RuleSet
from pactstub.wire import parse_query_string

PathTest = Callable[[str], bool]
#: what can tell apart interactions that share a method and a path
Part = Literal["body", "query", "headers", "provider state"]


@dataclass(frozen=True, slots=True)
class Route:
    """One interaction in the index, with its position across all loaded pacts."""

    interaction: Interaction
    order: int
    #: fewer relaxations = more specific = preferred when several match
    relaxations: int


@dataclass(frozen=True, slots=True)
class Reach:
    """How an interaction fares against the others, found when the index is built."""

    #: the interaction the index chooses for this one's own example request, if another
    shadowed_by: Route | None = None
    #: what differs from the other interactions with the same method and path
    distinguished_by: tuple[Part, ...] = ()


@dataclass(slots=True)
class _PatternRoute:
    method: str
    test: PathTest
    route: Route


#: bucket of patterned routes whose first path segment is not known in advance
_ANY_SEGMENT = "\x00*"


@dataclass(slots=True)
class RouteIndex:
    """Candidates by method and path; see the module docstring.

    Patterned routes are bucketed by the first path segment their regex
    spells out literally (``^/users/\\d+$`` -> ``users``), so a request only
    tests the patterns that could possibly fit its path.
    """

    _literal: dict[str, dict[str, list[Route]]] = field(default_factory=dict)
    _patterns: dict[str, list[_PatternRoute]] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    #: by route order: shadowing and what tells an interaction apart from its neighbours
    reach: dict[int, Reach] = field(default_factory=dict)

    @classmethod
    def build(cls, interactions: Iterable[Interaction], *, strict_headers: bool = False) -> RouteIndex:
        index = cls()
        literal: dict[str, dict[str, list[Route]]] = defaultdict(lambda: defaultdict(list))
        patterns: dict[str, list[_PatternRoute]] = defaultdict(list)
        for order, interaction in enumerate(interactions):
            route = Route(interaction, order, interaction.request.rules.count)
            index.routes.append(route)
            method = interaction.request.method.upper()
            rules = interaction.request.rules.path
            test = _path_test(rules)
            if test is None:
                literal[interaction.request.path][method].append(route)
            else:
                patterns[_first_segment(rules)].append(_PatternRoute(method, test, route))
        for methods in literal.values():
            for routes in methods.values():
                routes.sort(key=_preference)
        index._literal = {path: dict(methods) for path, methods in literal.items()}
        index._patterns = dict(patterns)
        index.reach = _survey(index, strict_headers)
        return index

    def candidates(self, method: str, path: str) -> list[Route]:
        """Routes whose method and path fit, most specific first, then pact order."""
        method = method.upper()
        found = self._literal.get(path, {}).get(method, [])
        if not self._patterns:
            return found
        extra = [p.route for p in self._patterns_for(path) if p.method == method and p.test(path)]
        if not extra:
            return found
        return sorted([*found, *extra], key=_preference)

    def choose(
        self, request: ActualRequest, *, state: str | None = None, strict_headers: bool = False
    ) -> Route | None:
        """The route that answers ``request``: the first candidate in state that matches it."""
        for route in self.candidates(request.method, request.request.path):
            if in_state(route, state) and matches(
                route.interaction.request, request, strict_headers=strict_headers
            ):
                return route
        return None

    def methods_for(self, path: str) -> set[str]:
        """Every method some interaction accepts on this path (for 405 ``Allow``)."""
        methods = set(self._literal.get(path, {}))
        methods.update(p.method for p in self._patterns_for(path) if p.test(path))
        return methods

    def _patterns_for(self, path: str) -> list[_PatternRoute]:
        segment = path.split("/", 2)[1] if path.count("/") >= 2 else None
        bucket = self._patterns.get(segment, []) if segment is not None else []
        return [*bucket, *self._patterns.get(_ANY_SEGMENT, [])]


def in_state(route: Route, wanted: str | None) -> bool:
    """Without a provider state asked for, every interaction is in; with one, those having it."""
    return not wanted or any(state.name == wanted for state in route.interaction.provider_states)


def _preference(route: Route) -> tuple[int, int]:
    return (route.relaxations, route.order)


# --------------------------------------------------------------------- shadowing


def _survey(index: RouteIndex, strict_headers: bool) -> dict[int, Reach]:
    """Each interaction's own example through the index, and what tells neighbours apart.

    An interaction with provider states is reachable when the request names
    one of them (the provider-state header), so it is shadowed only when it
    loses its example with each of its states named.
    """
    apart = _distinguished_by(index.routes)
    reach: dict[int, Reach] = {}
    for route in index.routes:
        example = ActualRequest(example_request(route.interaction.request))
        states: list[str | None] = [s.name for s in route.interaction.provider_states] or [None]
        winners = [index.choose(example, state=state, strict_headers=strict_headers) for state in states]
        others = [winner for winner in winners if winner is not None and winner is not route]
        shadowed_by = others[0] if others and all(w is not route for w in winners) else None
        if shadowed_by is not None or apart.get(route.order):
            reach[route.order] = Reach(shadowed_by, apart.get(route.order, ()))
    return reach


def _distinguished_by(routes: list[Route]) -> dict[int, tuple[Part, ...]]:
    """For routes sharing a method and a path: the parts in which some neighbour differs."""
    groups: dict[tuple[str, str], list[Route]] = defaultdict(list)
    for route in routes:
        groups[(route.interaction.request.method.upper(), route.interaction.request.path)].append(route)
    found: dict[int, tuple[Part, ...]] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        keys = {part: [key(route.interaction) for route in group] for part, key in _PART_KEYS.items()}
        counts = {part: Counter(values) for part, values in keys.items()}
        for position, route in enumerate(group):
            found[route.order] = tuple(
                part for part, values in keys.items() if counts[part][values[position]] < len(group)
            )
    return found


def _body_key(interaction: Interaction) -> Hashable:
    body, rules = interaction.request.body, interaction.request.rules.body.rules
    value = None if body is None else (body.kind, json.dumps(body.value, sort_keys=True, default=repr))
    return (value, tuple((rule.path, _rules_key(rule.rules)) for rule in rules))


def _query_key(interaction: Interaction) -> Hashable:
    request = interaction.request
    query = sorted((request.query or {}).items())
    return (
        request.exact_query,
        tuple(query),
        tuple(sorted((k, _rules_key(v)) for k, v in request.rules.query.items())),
    )


def _headers_key(interaction: Interaction) -> Hashable:
    return tuple(
        sorted(
            (c.lower, c.values, _rules_key(c.rule))
            for c in interaction.request.header_checks
            if not c.transport
        )
    )


def _state_key(interaction: Interaction) -> Hashable:
    return tuple(sorted(state.name for state in interaction.provider_states))


def _rules_key(rules: RuleSet | None) -> Hashable:
    if rules is None:
        return None
    return (rules.combine, tuple(_matcher_key(m) for m in rules.matchers))


def _matcher_key(matcher: Matcher) -> Hashable:
    regex = matcher.regex.pattern if matcher.regex else None
    date = matcher.format.pattern if matcher.format else None
    return (matcher.kind, regex, matcher.value, matcher.min, matcher.max, date, matcher.status)


_PART_KEYS: dict[Part, Callable[[Interaction], Hashable]] = {
    "body": _body_key,
    "query": _query_key,
    "headers": _headers_key,
    "provider state": _state_key,
}


def example_request(expected: HttpRequest) -> ReceivedRequest:
    """The request a consumer sends when it sends the pact's own example."""
    if expected.exact_query is not None:
        query_string = expected.exact_query
    else:
        query_string = "&".join(
            quote(name, safe="") if value is None else f"{quote(name, safe='')}={quote(value, safe='')}"
            for name, values in (expected.query or {}).items()
            for value in values
        )
    headers = [(name, value) for name, values in (expected.headers or {}).items() for value in values]
    body = expected.body
    data = b"" if body is None or body.value is None else body.to_bytes()
    if body is not None and body.content_type and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", body.content_type))
    return ReceivedRequest(
        method=expected.method.upper(),
        path=expected.path,
        query=parse_query_string(query_string),
        headers=tuple(headers),
        body=data,
        query_string=query_string,
    )


# --------------------------------------------------------------------- path rules

_REGEX_SPECIAL = frozenset(".^$*+?{}[]|()\\")


def _first_segment(rules: RuleSet | None) -> str:
    """The first path segment every path the rules accept starts with, if the regex says.

    Only a single regex rule is analysed: its literal prefix must reach past
    the first segment's closing ``/`` (``^/users/...``); anything else goes to
    the bucket tested for every path.
    """
    if rules is None or len(rules.matchers) != 1 or rules.matchers[0].regex is None:
        return _ANY_SEGMENT
    regex = rules.matchers[0].regex.pattern
    if "|" in regex:
        return _ANY_SEGMENT
    prefix: list[str] = []
    for char in regex.removeprefix("^"):
        if char in _REGEX_SPECIAL:
            if char in "?*{" and prefix:
                prefix.pop()  # the quantifier makes the character before it optional
            break
        prefix.append(char)
    literal = "".join(prefix)
    if not literal.startswith("/") or literal.count("/") < 2:
        return _ANY_SEGMENT
    return literal.split("/", 2)[1]


def _path_test(rules: RuleSet | None) -> PathTest | None:
    """A compiled test for a path with matching rules; ``None`` for a literal path."""
    if rules is None:
        return None
    tests = [_matcher_test(m) for m in rules.matchers]
    if rules.combine == "OR":
        return lambda path: any(t(path) for t in tests)
    return lambda path: all(t(path) for t in tests)


def _matcher_test(matcher: Matcher) -> PathTest:
    if matcher.kind == "regex" and matcher.regex is not None:
        regex = matcher.regex
        return lambda path: regex.fullmatch(path) is not None
    if matcher.kind == "include":
        needle = matcher.value or ""
        return lambda path: needle in path
    # type and the other relaxations accept any string path; the full
    # matcher still checks the request afterwards
    return _any_path


def _any_path(path: str) -> bool:
    return True
