"""Rule choice compiled once per rule list: a body walk steps through a small automaton.

:func:`pactstub.matching.rules.select` weighs every rule against a whole
location, and a body walk asks that at every node. Here the answer is
computed once per *state* instead: the rules that still fit a location, with
their scores so far. A walk carries its state and steps into a child through
a per-state transition table keyed by the step when some live rule names that
step at that depth, and by one shared key (``None``) for every other step, so
request data (array indexes, free map keys) never grows the tables. Past the
deepest live rule every location is alike and a state is its own child.

The answers are those of ``rules.select``/``rules.exact``/``rules.defined``/
``rules.type_rule_defined`` for the same location (the tests check this).
Tables are cached by the identity of the pact's rule tuple, with a bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from pactstub.model import BodyRule, Matcher, RuleSet

_TYPE_KINDS = frozenset({"type", "min", "max", "minmax"})
_KEY_FREEING = frozenset({"values", "eachValue", "eachKey"})

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """Values built from pact objects, keyed by the object's identity.

    Each entry keeps its key object alive, so an ``id`` cannot be reused
    while the entry exists. The cache is cleared when it reaches ``limit``
    entries, which bounds it however many pacts come and go.
    """

    __slots__ = ("_build", "_entries", "_limit")

    def __init__(self, build: Callable[[K], V], limit: int = 4096) -> None:
        self._build = build
        self._limit = limit
        self._entries: dict[int, tuple[K, V]] = {}

    def __call__(self, key: K) -> V:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            return entry[1]
        value = self._build(key)
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[id(key)] = (key, value)
        return value


class RuleState:
    """What the rules say at one location (and every location that steps alike)."""

    __slots__ = ("_alive", "_names", "_next", "_rules", "best", "chosen", "defined", "depth", "final",
                 "frees_keys", "own", "typed")  # fmt: skip

    def __init__(self, rules: tuple[BodyRule, ...], depth: int, alive: tuple[tuple[int, int], ...]) -> None:
        self._rules = rules
        self._alive = alive
        self.depth = depth
        self._next: dict[str | None, RuleState] = {}
        #: ``(key, rule index)`` of the winning rule, for comparing two spellings
        self.best: tuple[int, int] | None = None
        #: the winning rule set and whether it is cascaded from a parent, or ``None``
        self.chosen: tuple[RuleSet, bool] | None = None
        best_key = 0
        own: list[Matcher] = []
        names: set[str] = set()
        typed = False
        deepest = -1
        for index, score in alive:
            tokens = rules[index].tokens
            length = len(tokens)
            deepest = max(deepest, length)
            if length > depth:
                token = tokens[depth]
                if token != "*":
                    names.add(str(token))
                continue
            key = score * 2 * (length + 1)
            if key >= best_key:
                best_key = key
                self.best = (key, index)
                self.chosen = (rules[index].rules, length != depth)
            matchers = rules[index].rules.matchers
            typed = typed or any(m.kind in _TYPE_KINDS for m in matchers)
            if length == depth:
                own.extend(matchers)
        #: whether any rule applies here, its own or cascaded from a parent
        self.defined = self.best is not None
        #: whether a type-like rule applies here (XML siblings then match by example)
        self.typed = typed
        #: the matchers of rules written for exactly this location
        self.own: tuple[Matcher, ...] = tuple(own)
        #: whether one of ``own`` frees a map's keys (``values``, ``eachValue``, ``eachKey``)
        self.frees_keys = any(m.kind in _KEY_FREEING for m in own)
        self._names = frozenset(names)
        #: past every live rule's end: each child is alike, so the state is its own child
        self.final = depth > deepest

    def child(self, step: str | int) -> RuleState:
        """The state at ``location + (step,)``."""
        if self.final:
            return self
        text = step if isinstance(step, str) else str(step)
        key = text if text in self._names else None
        found = self._next.get(key)
        if found is None:
            found = self._step(key)
            self._next[key] = found
        return found

    def _step(self, key: str | None) -> RuleState:
        depth = self.depth
        alive: list[tuple[int, int]] = []
        for index, score in self._alive:
            tokens = self._rules[index].tokens
            if len(tokens) <= depth:
                alive.append((index, score))
                continue
            token = tokens[depth]
            if token == "*":
                alive.append((index, score))
            elif key is not None and str(token) == key:
                alive.append((index, score * 2))
        return RuleState(self._rules, depth + 1, tuple(alive))

    def at(self, location: Sequence[str | int]) -> RuleState:
        """The state ``location`` leads to from here."""
        state = self
        for step in location:
            state = state.child(step)
        return state


def either(first: RuleState, second: RuleState) -> tuple[RuleSet, bool] | None:
    """The rule chosen over two spellings of one location (XML), as ``select`` weighs them.

    ``select`` goes rule by rule, first spelling then second, and a later fit
    wins a tie, so the winner is the greatest ``(key, rule index, spelling)``.
    """
    if first.best is None:
        return second.chosen
    if second.best is None or first.best > second.best:
        return first.chosen
    return second.chosen


def _compile(rules: tuple[BodyRule, ...]) -> RuleState:
    return RuleState(rules, 0, tuple((index, 1) for index in range(len(rules))))


_roots: IdentityCache[tuple[BodyRule, ...], RuleState] = IdentityCache(_compile)


def root(rules: Sequence[BodyRule]) -> RuleState:
    """The state at ``$`` for ``rules``; compiled once per pact rule tuple."""
    if isinstance(rules, tuple):
        return _roots(rules)
    return _compile(tuple(rules))


def _each_root(matcher: Matcher) -> RuleState:
    nested = matcher.params.get("rules")
    if not isinstance(nested, RuleSet):
        return _compile(())
    return _compile((BodyRule("$.*", ("*",), RuleSet(nested.matchers, "AND")),))


#: ``eachValue``: the nested rules apply to every child of the location the rule is on
each_value_root: IdentityCache[Matcher, RuleState] = IdentityCache(_each_root)
