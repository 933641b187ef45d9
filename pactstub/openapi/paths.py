"""A path with a ``regex`` rule as an OpenAPI path template, where the regex allows one.

``/runs/978`` with the rule ``^/runs/\\d+$`` is ``/runs/{run}`` with an integer path
parameter. Which segments vary is found by generating strings the regex matches (the
same generator the ``Regex`` generator uses, seeded so the document is stable): the
segments that differ between samples become parameters. A regex whose matches do not
keep the example's segments (``/files/.+`` can span several) stays a literal path.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import rstr

from pactstub.model import RuleSet

#: strings generated per regex; enough for every varying segment to show it varies
SAMPLES = 12


@dataclass(frozen=True, slots=True)
class PathTemplate:
    template: str
    parameters: tuple[dict[str, Any], ...] = ()
    #: the regex a literal path kept, for the operation's description
    unexpressed: str | None = None


def path_template(path: str, rules: RuleSet | None) -> PathTemplate:
    regex = _regex(rules)
    if regex is None:
        return PathTemplate(path)
    segments = path.split("/")
    generator = rstr.Rstr(random.Random(0))
    try:
        samples = [str(generator.xeger(regex)).split("/") for _ in range(SAMPLES)]
    except Exception:  # a construct the generator cannot produce: keep the path as written
        return PathTemplate(path, unexpressed=regex)
    if any(len(sample) != len(segments) for sample in samples):
        return PathTemplate(path, unexpressed=regex)
    varying = [i for i in range(1, len(segments)) if any(s[i] != segments[i] for s in samples)]
    if not varying:
        return PathTemplate(path)
    names: list[str] = []
    parameters = []
    for i in varying:
        name = _name(segments, i, names)
        names.append(name)
        segments_digits = segments[i].isdigit() and all(s[i].isdigit() for s in samples)
        schema = {"type": "integer"} if segments_digits else {"type": "string"}
        example: Any = int(segments[i]) if segments_digits else segments[i]
        parameters.append(
            {"name": name, "in": "path", "required": True, "schema": schema, "example": example}
        )
        segments[i] = "{" + name + "}"
    return PathTemplate("/".join(segments), tuple(parameters))


def _regex(rules: RuleSet | None) -> str | None:
    if rules is None or rules.combine == "OR":
        return None
    return next((m.regex.pattern for m in rules.matchers if m.kind == "regex" and m.regex is not None), None)


def _name(segments: list[str], index: int, taken: list[str]) -> str:
    """``runs/978`` -> ``run``: the segment before, in the singular; else ``param``."""
    before = segments[index - 1] if index > 1 and segments[index - 1][:1].isalpha() else ""
    base = before[:-1] if before.endswith("s") and len(before) > 1 else before
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "param"
    name, count = base, 2
    while name in taken:
        name, count = f"{base}{count}", count + 1
    return name
