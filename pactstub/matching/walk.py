"""One body comparison in progress: the rules in force, strictness and what was found.

Body matchers (JSON trees, XML, text, forms) append to a :class:`Walk`, which
turns body locations into the ``$.body...`` form that reports use.
"""

from __future__ import annotations

from collections.abc import Sequence

from pactstub.matching.paths import render
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.model import RuleState

Location = tuple["str | int", ...]


class Decided(Exception):
    """Raised by a deciding walk at its first mismatch: the answer is already "no match"."""

    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(mismatch.message)
        self.mismatch = mismatch


class Walk:
    """One body comparison: the rules in force, strictness and the findings so far.

    A deciding walk (``decide=True``) stops at the first mismatch: it raises
    :class:`Decided` as soon as a mismatch is certain to be reported. Walks
    derived from it decide too only when all their findings are kept (an
    ``OR`` of list rules may drop some, so its parts collect in full).
    """

    __slots__ = ("decide", "found", "root", "strict")

    def __init__(
        self, root: RuleState, strict: bool, found: list[Mismatch] | None = None, decide: bool = False
    ) -> None:
        #: the compiled rules at ``$``; the walk steps through its children
        self.root = root
        self.strict = strict
        self.found: list[Mismatch] = [] if found is None else found
        self.decide = decide

    def __repr__(self) -> str:
        return f"Walk(strict={self.strict}, decide={self.decide}, found={self.found!r})"

    def add(self, location: Location, expected: object, actual: object, message: str) -> None:
        mismatch = Mismatch("body", body_location(location), expected, actual, message)
        self.found.append(mismatch)
        if self.decide:
            raise Decided(mismatch)

    def extend(self, found: Sequence[Mismatch]) -> None:
        self.found.extend(found)
        if self.decide and found:
            raise Decided(found[0])

    def into(self, found: list[Mismatch], decide: bool) -> Walk:
        """The same rules and strictness, collecting into ``found``."""
        return Walk(self.root, self.strict, found, decide)


def body_location(location: Location) -> str:
    """``("runs", 0, "id")`` -> ``$.body.runs[0].id``."""
    return BODY_ROOT + render(location)[1:]
