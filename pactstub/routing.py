"""The route index: from method and path to the interactions worth matching.

Built once at start-up. Literal paths sit in a dict, so finding candidates for
them costs the same with ten interactions or ten thousand; interactions whose
path has a matching rule are compiled once into a predicate and checked after
the dict. Ambiguities (two interactions a request could match equally) are
found here, when the index is built, not at request time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pactstub.model import Interaction, Matcher, RuleSet

PathTest = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Route:
    """One interaction in the index, with its position across all loaded pacts."""

    interaction: Interaction
    order: int
    #: fewer relaxations = more specific = preferred when several match
    relaxations: int


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

    @classmethod
    def build(cls, interactions: Iterable[Interaction]) -> RouteIndex:
        index = cls()
        literal: dict[str, dict[str, list[Route]]] = defaultdict(lambda: defaultdict(list))
        patterns: dict[str, list[_PatternRoute]] = defaultdict(list)
        for order, interaction in enumerate(interactions):
            route = Route(interaction, order, _relaxations(interaction))
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

    def methods_for(self, path: str) -> set[str]:
        """Every method some interaction accepts on this path (for 405 ``Allow``)."""
        methods = set(self._literal.get(path, {}))
        methods.update(p.method for p in self._patterns_for(path) if p.test(path))
        return methods

    def _patterns_for(self, path: str) -> list[_PatternRoute]:
        segment = path.split("/", 2)[1] if path.count("/") >= 2 else None
        bucket = self._patterns.get(segment, []) if segment is not None else []
        return [*bucket, *self._patterns.get(_ANY_SEGMENT, [])]

    def ambiguous(self) -> dict[int, list[int]]:
        """For each route order, the orders of the other routes with its method and path.

        Such interactions share a place in the index, so only the request's
        headers, query or body (or a provider state) can tell them apart; a
        request matching several gets the most specific, then the first.
        """
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for route in self.routes:
            request = route.interaction.request
            groups[(request.method.upper(), request.path)].append(route.order)
        return {
            order: [other for other in group if other != order]
            for group in groups.values()
            if len(group) > 1
            for order in group
        }


def _preference(route: Route) -> tuple[int, int]:
    return (route.relaxations, route.order)


_REGEX_SPECIAL = frozenset(".^$*+?{}[]|()\\")


def _first_segment(rules: RuleSet | None) -> str:
    """The first path segment every path the rules accept starts with, if the regex says.

    Only a single regex rule is analysed: its literal prefix must reach past
    the first segment's closing ``/`` (``^/users/...``); anything else goes to
    the bucket tested for every path.
    """
    if rules is None or len(rules.matchers) != 1 or rules.matchers[0].pattern is None:
        return _ANY_SEGMENT
    regex = rules.matchers[0].pattern.pattern
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


def _relaxations(interaction: Interaction) -> int:
    return interaction.request.rules.count


def _path_test(rules: RuleSet | None) -> PathTest | None:
    """A compiled test for a path with matching rules; ``None`` for a literal path."""
    if rules is None:
        return None
    tests = [_matcher_test(m) for m in rules.matchers]
    if rules.combine == "OR":
        return lambda path: any(t(path) for t in tests)
    return lambda path: all(t(path) for t in tests)


def _matcher_test(matcher: Matcher) -> PathTest:
    if matcher.kind == "regex" and matcher.pattern is not None:
        pattern: re.Pattern[str] = matcher.pattern
        return lambda path: pattern.fullmatch(path) is not None
    if matcher.kind == "include":
        needle = str(matcher.params.get("value", ""))
        return lambda path: needle in path
    # type and the other relaxations accept any string path; the full
    # matcher still checks the request afterwards
    return _any_path


def _any_path(path: str) -> bool:
    return True
