"""The JSONPath subset Pact uses for matching rules and generators.

Paths are parsed once at load into tokens: a name, an index, or ``*``.
A rule applies to a location when its tokens match the location's tokens;
the most specific rule (the one whose tokens match most exactly) wins, which
is how the Pact implementations weight competing paths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pactstub.model import PathTokens

_TOKEN = re.compile(
    r"""
    \.(?P<name>[^.\[\]]+)             # .name  (also .* and .@attr)
    | \[\s*'(?P<quoted>(?:[^'\\]|\\.)*)'\s*\]   # ['name']
    | \[\s*"(?P<dquoted>(?:[^"\\]|\\.)*)"\s*\]  # ["name"]
    | \[\s*(?P<index>\d+)\s*\]        # [0]
    | \[\s*(?P<star>\*)\s*\]          # [*]
    """,
    re.VERBOSE,
)


class PathSyntaxError(ValueError):
    """A rule path that is not in the JSONPath subset Pact uses."""


def parse_path(path: str) -> PathTokens:
    """``$.a[*]['b c'][0]`` -> ``("a", "*", "b c", 0)``.

    A path that does not start with ``$`` is taken as a single name, which is
    how v2 pacts and some v3 ones address top-level fields.
    """
    text = path.strip()
    if not text.startswith("$"):
        text = "$." + text if text else "$"
    tokens: list[str | int] = []
    position = 1
    while position < len(text):
        found = _TOKEN.match(text, position)
        if not found:
            raise PathSyntaxError(f"cannot parse rule path {path!r} at character {position}")
        if found.group("index") is not None:
            tokens.append(int(found.group("index")))
        elif found.group("star") is not None:
            tokens.append("*")
        else:
            name = found.group("name") or found.group("quoted") or found.group("dquoted") or ""
            tokens.append(name)
        position = found.end()
    return tuple(tokens)


def weight(pattern: PathTokens, location: Sequence[str | int]) -> tuple[int, int]:
    """How well rule tokens fit a location: ``(0, 0)`` for no fit, higher is better.

    A rule also applies below its own path (a ``type`` rule on ``$.items``
    covers every item), so a pattern may be a prefix of the location. Exact
    names and indexes count more than wildcards, and longer rules count more
    than shorter ones, so ``$.a.b`` beats ``$.a.*`` beats ``$.a``.
    """
    if len(pattern) > len(location):
        return (0, 0)
    score = 1
    for token, step in zip(pattern, location, strict=False):
        if token == "*":
            continue
        if token == step or str(token) == str(step):
            score *= 2
        else:
            return (0, 0)
    return (score, len(pattern))


def render(location: Sequence[str | int]) -> str:
    """Location tokens as a path a person reads: ``$.runs[0].jobId``, ``$.job['@id']``."""
    out = ["$"]
    for step in location:
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif re.fullmatch(r"[A-Za-z_#][\w#-]*", step):
            out.append(f".{step}")
        else:
            out.append(f"['{step}']")
    return "".join(out)
