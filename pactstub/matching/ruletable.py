"""Body rules compiled, when a pact loads, into a small automaton a body walk steps through.

Which rule decides a location follows the reference implementation: every
rule whose path fits the location (or a parent of it, whose rule cascades)
is weighed by the product of its token weights (names and indexes 2,
wildcards 1, the root 2) times its number of tokens, so a deeper, more exact
path wins, and on a tie the later rule. Weighing every rule at every node of
every request body is the slow way to get that answer; instead each
:class:`~pactstub.model.RuleState` holds the answer for the locations that
lead to it, with the rules still alive and their weights so far. A step goes
to the state for that name when some live rule names it at that depth, and
to one shared state for every other step, so request data (array indexes,
free map keys) never adds states. Past the deepest rule every location is
alike, and a state is its own child.

Every state is built here, before the pact serves a request; request threads
only read them. The tests check the answers against the weighing done the slow way.
"""

from __future__ import annotations

from collections.abc import Iterable

from pactstub.model import NO_RULES, BodyRule, BodyRules, ChosenRule, Matcher, RuleState

_TYPE_KINDS = frozenset({"type", "min", "max", "minmax"})
_KEY_FREEING = frozenset({"values", "eachValue", "eachKey"})

#: the rules still alive at a depth: (position in the rule list, weight so far)
_Alive = tuple[tuple[int, int], ...]


def compile_body_rules(rules: Iterable[BodyRule]) -> BodyRules:
    """The body rules with every state of their automaton built."""
    listed = tuple(rules)
    if not listed:
        return BodyRules()
    return BodyRules(listed, _Builder(listed).state(0, tuple((index, 1) for index in range(len(listed)))))


def either(first: RuleState, second: RuleState) -> ChosenRule | None:
    """The rule chosen over two spellings of one location (XML).

    The slow way goes rule by rule, first spelling then second, and a later
    fit wins a tie, so the winner has the greatest ``(weight, rule position)``.
    """
    if first.rank is None:
        return second.chosen
    if second.rank is None or first.rank > second.rank:
        return first.chosen
    return second.chosen


class _Builder:
    """Builds the states of one rule list, sharing states reached by different steps."""

    def __init__(self, rules: tuple[BodyRule, ...]) -> None:
        self.rules = rules
        self.built: dict[tuple[int, _Alive], RuleState] = {}

    def state(self, depth: int, alive: _Alive) -> RuleState:
        key = (depth, alive)
        found = self.built.get(key)
        if found is None:
            found = self.built[key] = self._make(depth, alive)
        return found

    def _make(self, depth: int, alive: _Alive) -> RuleState:
        chosen: ChosenRule | None = None
        rank: tuple[int, int] | None = None
        own: list[Matcher] = []
        names: set[str] = set()
        typed = False
        final = True  # no live rule is written for this depth or deeper
        for index, score in alive:
            tokens = self.rules[index].tokens
            final = final and len(tokens) < depth
            if len(tokens) > depth:
                if tokens[depth] != "*":
                    names.add(str(tokens[depth]))
                continue
            weight = score * 2 * (len(tokens) + 1)
            if rank is None or weight >= rank[0]:
                rank = (weight, index)
                chosen = ChosenRule(self.rules[index].rules, len(tokens) != depth)
            matchers = self.rules[index].rules.matchers
            typed = typed or any(m.kind in _TYPE_KINDS for m in matchers)
            if len(tokens) == depth:
                own.extend(matchers)
        if not alive:
            return NO_RULES
        return RuleState(
            chosen=chosen,
            rank=rank,
            own=tuple(own),
            typed=typed,
            frees_keys=any(m.kind in _KEY_FREEING for m in own),
            named={name: self.state(depth + 1, self._step(depth, alive, name)) for name in names},
            other=None if final else self.state(depth + 1, self._step(depth, alive, None)),
        )

    def _step(self, depth: int, alive: _Alive, name: str | None) -> _Alive:
        """The rules alive one step further: ended ones cascade, wildcards and ``name`` go on."""
        kept: list[tuple[int, int]] = []
        for index, score in alive:
            tokens = self.rules[index].tokens
            if len(tokens) <= depth or tokens[depth] == "*":
                kept.append((index, score))
            elif name is not None and str(tokens[depth]) == name:
                kept.append((index, score * 2))
        return tuple(kept)
