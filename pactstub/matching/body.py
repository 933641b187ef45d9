"""Body matching: the pact body's kind picks JSON, XML, plain text, form or binary.

Everything is appended to one list so a caller sees every problem; a deciding
match (:func:`body_matches`) stops at the first one instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pactstub.loading.parse import parse_form
from pactstub.matching import rules as r
from pactstub.matching.jsontree import compare_json
from pactstub.matching.prepared import ActualBody
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.matching.walk import Decided, Location, Walk, body_location
from pactstub.model import Body, BodyRule, RuleSet

__all__ = [
    "Location",
    "Walk",
    "body_location",
    "body_matches",
    "compare_binary",
    "compare_form",
    "compare_json",
    "compare_text",
    "match_body",
    "param_problems",
]


# --------------------------------------------------------------------------- other kinds


def compare_text(walk: Walk, expected: str, actual: str) -> None:
    """Plain text: equality, or the rules written for the whole body (``$``)."""
    chosen = walk.root.chosen
    if chosen is not None:
        for message in r.apply(chosen[0], r.check_text, expected, actual, chosen[1]):
            walk.add((), expected, actual, message)
    elif expected != actual:
        message = f"Expected body '{expected}' to match '{actual}' using equality but did not match"
        walk.add((), expected, actual, message)


def compare_binary(walk: Walk, expected: bytes, actual: bytes) -> None:
    """Bytes: equality, unless a ``contentType`` rule asks for a magic-number check."""
    chosen = walk.root.chosen
    kinds = [m for m in chosen[0].matchers if m.kind == "contentType"] if chosen else []
    for matcher in kinds:
        message = r.content_type_problem(str(matcher.params.get("value")), actual)
        if message:
            walk.add((), matcher.params.get("value"), None, message)
    if not kinds and expected != actual:
        message = (
            f"Expected binary contents of {len(expected)} bytes to equal the {len(actual)} bytes received"
        )
        walk.add((), len(expected), len(actual), message)


def compare_form(walk: Walk, expected: str, actual: str) -> None:
    """Form-encoded bodies match like query strings, rules keyed ``$.name``."""
    _compare_forms(walk, _parsed_form(expected), parse_form(actual))


@lru_cache(maxsize=1024)
def _parsed_form(expected: str) -> dict[str, list[str]]:
    """A pact's form body, parsed once (callers only read it)."""
    return parse_form(expected)


def _compare_forms(walk: Walk, wanted: dict[str, list[str]], got: dict[str, list[str]]) -> None:
    for name, values in wanted.items():
        if name not in got:
            walk.add((name,), values, None, f"Expected form post parameter '{name}' but was missing")
            continue
        chosen = walk.root.child(name).chosen
        for want, have, message in param_problems(name, values, got[name], chosen, "form post parameter"):
            walk.add((name,), want, have, message)
    for name, values in got.items():
        if name not in wanted:
            walk.add((name,), None, values, f"Unexpected form post parameter '{name}' received")


def param_problems(
    name: str, expected: Sequence[str], actual: Sequence[str], chosen: tuple[RuleSet, bool] | None, noun: str
) -> list[tuple[Any, Any, str]]:
    """Multi-valued parameters (query or form): values of one name compare in order.

    With a rule, every received value is checked against the rule (extra values
    against the first example), so ``min``/``max`` style rules may relax the count.
    """
    if chosen is not None:
        problems: list[tuple[Any, Any, str]] = []
        for index, value in enumerate(actual):
            example = expected[index] if index < len(expected) else (expected[0] if expected else "")
            problems.extend(
                (example, value, m) for m in r.apply(chosen[0], r.check_text, example, value, False)
            )
        for matcher in chosen[0].matchers:
            message = None if chosen[1] else r.size_problem(matcher, len(actual), r.show(list(actual)))
            if message and matcher.kind in ("min", "max", "minmax"):
                problems.append((list(expected), list(actual), message))
        return problems
    problems = []
    if len(expected) != len(actual):
        message = (
            f"Expected {noun} '{name}' with {len(expected)} value(s) but received {len(actual)} value(s)"
        )
        problems.append((list(expected), list(actual), message))
    for want, got in zip(expected, actual, strict=False):
        if want != got:
            problems.append((want, got, f"Expected {noun} '{name}' with value '{want}' but was '{got}'"))
    return problems


# --------------------------------------------------------------------------- dispatch


def match_body(
    expected: Body | None,
    actual: bytes | ActualBody,
    actual_type: str | None,
    *,
    strict: bool,
    rules: Sequence[BodyRule],
) -> list[Mismatch]:
    """Compare a received body with the pact's, by the pact body's kind.

    A missing expected body matches anything; an empty (or null) one needs an
    empty body; a present one needs a present body of a compatible type.
    ``actual`` may be an :class:`ActualBody`, whose parsed forms are reused.
    """
    body = actual if isinstance(actual, ActualBody) else ActualBody(actual)
    return _match_body(expected, body, actual_type, Walk(rules, strict))


def body_matches(
    expected: Body | None,
    actual: ActualBody,
    actual_type: str | None,
    *,
    strict: bool,
    rules: Sequence[BodyRule],
) -> bool:
    """Whether :func:`match_body` would find nothing, stopping at the first mismatch."""
    try:
        return not _match_body(expected, actual, actual_type, Walk(rules, strict, decide=True))
    except Decided:
        return False


def _match_body(
    expected: Body | None, body: ActualBody, actual_type: str | None, walk: Walk
) -> list[Mismatch]:
    actual = body.data
    if expected is None:
        return []
    empty_expected = expected.value is None or expected.value in ("", b"")
    if empty_expected:
        if actual:
            return [
                Mismatch(
                    "body",
                    BODY_ROOT,
                    None,
                    _preview(actual),
                    f"Expected empty body but received '{_preview(actual)}'",
                )
            ]
        return []
    if not _compatible(expected.content_type, actual_type):
        message = (
            f"Expected a body of '{expected.content_type}' but the actual content type was '{actual_type}'"
        )
        return [Mismatch("body-type", BODY_ROOT, expected.content_type, actual_type, message)]
    if not actual:
        shown = _preview(expected.to_bytes())
        return [Mismatch("body", BODY_ROOT, shown, None, f"Expected body '{shown}' but was missing")]
    _dispatch(walk, expected, body)
    return walk.found


def _dispatch(walk: Walk, expected: Body, actual: ActualBody) -> None:
    if expected.kind == "json":
        parsed, error = actual.json()
        if error is not None:
            walk.add((), expected.value, _preview(actual.data), f"Failed to parse the actual body: '{error}'")
            return
        compare_json(walk, (), expected.value, parsed, walk.root)
    elif expected.kind == "xml":
        from pactstub.matching.xml import compare_xml

        compare_xml(walk, str(expected.value), actual)
    elif expected.kind == "binary":
        compare_binary(walk, expected.to_bytes(), actual.data)
    elif expected.kind == "form":
        _compare_forms(walk, _parsed_form(str(expected.value)), actual.form())
    else:
        compare_text(walk, str(expected.value), actual.text())


@lru_cache(maxsize=256)
def _family(content_type: str) -> str:
    base = content_type.partition(";")[0].strip().lower()
    if base.endswith(("/json", "+json")):
        return "json"
    if base.endswith(("/xml", "+xml")):
        return "xml"
    return base


def _compatible(expected: str | None, actual: str | None) -> bool:
    """Unknown on either side is compatible; else the base types (or JSON/XML families) agree."""
    if not expected or not actual:
        return True
    return _family(expected) == _family(actual)


def _preview(data: bytes, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."
