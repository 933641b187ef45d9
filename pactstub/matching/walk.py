"""One body comparison in progress: the rules in force, strictness and what was found.

Body matchers (JSON trees, XML, text, forms) append to a :class:`Walk`, which
turns body locations into the ``$.body...`` form that reports use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pactstub.matching.paths import render
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.matching.ruletable import RuleState, root
from pactstub.model import BodyRule

Location = tuple["str | int", ...]


class Decided(Exception):
    """Raised by a deciding walk at its first mismatch: the answer is already "no match"."""


class Walk:
    """One body comparison: the rules in force, strictness and the findings so far.

    A deciding walk (``decide=True``) only answers yes or no: it raises
    :class:`Decided` as soon as a mismatch is certain to be reported. Walks
    derived from it decide too only when all their findings are kept (an
    ``OR`` of list rules may drop some, so its parts collect in full).
    """

    __slots__ = ("decide", "found", "root", "rules", "strict")

    def __init__(
        self,
        rules: Sequence[BodyRule],
        strict: bool,
        found: list[Mismatch] | None = None,
        decide: bool = False,
        compiled: RuleState | None = None,
    ) -> None:
        self.rules = rules
        self.strict = strict
        self.found: list[Mismatch] = [] if found is None else found
        self.decide = decide
        #: the compiled rules at ``$``; the walk steps through its children
        self.root = root(rules) if compiled is None else compiled

    def __repr__(self) -> str:
        return f"Walk(strict={self.strict}, decide={self.decide}, found={self.found!r})"

    def add(self, location: Location, expected: Any, actual: Any, message: str) -> None:
        self.found.append(Mismatch("body", body_location(location), expected, actual, message))
        if self.decide:
            raise Decided

    def extend(self, found: Sequence[Mismatch]) -> None:
        self.found.extend(found)
        if self.decide and found:
            raise Decided

    def into(self, found: list[Mismatch], decide: bool) -> Walk:
        """The same rules and strictness, collecting into ``found``."""
        return Walk(self.rules, self.strict, found, decide, self.root)


def body_location(location: Location) -> str:
    """``("runs", 0, "id")`` -> ``$.body.runs[0].id``."""
    return BODY_ROOT + render(location)[1:]
