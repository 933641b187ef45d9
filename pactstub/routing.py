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


@dataclass(slots=True)
class RouteIndex:
    """Candidates by method and path; see the module docstring."""

    _literal: dict[str, dict[str, list[Route]]] = field(default_factory=dict)
    _patterns: list[_PatternRoute] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    @classmethod
    def build(cls, interactions: Iterable[Interaction]) -> RouteIndex:
        index = cls()
        literal: dict[str, dict[str, list[Route]]] = defaultdict(lambda: defaultdict(list))
        for order, interaction in enumerate(interactions):
            route = Route(interaction, order, _relaxations(interaction))
            index.routes.append(route)
            method = interaction.request.method.upper()
            test = _path_test(interaction.request.rules.path)
            if test is None:
                literal[interaction.request.path][method].append(route)
            else:
                index._patterns.append(_PatternRoute(method, test, route))
        index._literal = {path: dict(methods) for path, methods in literal.items()}
        return index

    def candidates(self, method: str, path: str) -> list[Route]:
        """Routes whose method and path fit, most specific first, then pact order."""
        method = method.upper()
        found = list(self._literal.get(path, {}).get(method, ()))
        found.extend(p.route for p in self._patterns if p.method == method and p.test(path))
        found.sort(key=lambda r: (r.relaxations, r.order))
        return found

    def methods_for(self, path: str) -> set[str]:
        """Every method some interaction accepts on this path (for 405 ``Allow``)."""
        methods = set(self._literal.get(path, {}))
        methods.update(p.method for p in self._patterns if p.test(path))
        return methods

    def paths(self) -> list[str]:
        """The literal paths and the example paths of patterned routes, in pact order."""
        seen: dict[str, None] = {}
        for route in self.routes:
            seen.setdefault(route.interaction.request.path, None)
        return list(seen)

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
