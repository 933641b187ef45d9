"""Body matching: the pact body's kind picks JSON, XML, plain text, form or binary.

Everything is appended to one list so a caller sees every problem; with
``first=True`` the comparison stops at the first one instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pactstub.matching import rules as r
from pactstub.matching.actual import ActualBody
from pactstub.matching.jsontree import compare_json
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.matching.walk import Decided, Walk
from pactstub.matching.xml import compare_xml
from pactstub.model import Body, BodyRules, ChosenRule


def match_body(
    expected: Body | None,
    actual: ActualBody,
    actual_type: str | None,
    *,
    strict: bool,
    rules: BodyRules,
    first: bool = False,
) -> list[Mismatch]:
    """Compare a received body with the pact's, by the pact body's kind.

    A missing expected body matches anything; an empty (or null) one needs an
    empty body; a present one needs a present body of a compatible type.
    ``strict`` (requests) refuses unexpected keys, attributes and children.
    """
    if expected is None:
        return []
    data = actual.data
    if expected.value is None or expected.value in ("", b""):
        if not data:
            return []
        shown = _preview(data)
        return [Mismatch("body", BODY_ROOT, None, shown, f"Expected empty body but received '{shown}'")]
    if not _compatible(expected.content_type, actual_type):
        message = (
            f"Expected a body of '{expected.content_type}' but the actual content type was '{actual_type}'"
        )
        return [Mismatch("body-type", BODY_ROOT, expected.content_type, actual_type, message)]
    if not data:
        shown = _preview(expected.to_bytes())
        return [Mismatch("body", BODY_ROOT, shown, None, f"Expected body '{shown}' but was missing")]
    walk = Walk(rules.root, strict, decide=first)
    try:
        _compare(walk, expected, actual)
    except Decided as stop:  # a deciding walk stops at its first finding
        return [stop.mismatch]
    return walk.found


def _compare(walk: Walk, expected: Body, actual: ActualBody) -> None:
    if expected.kind == "json":
        parsed, error = actual.json()
        if error is not None:
            walk.add((), expected.value, _preview(actual.data), f"Failed to parse the actual body: '{error}'")
            return
        compare_json(walk, (), expected.value, parsed, walk.root)
    elif expected.kind == "xml" and expected.xml is not None:
        compare_xml(walk, expected.xml, str(expected.value), actual)
    elif expected.kind == "binary":
        _compare_binary(walk, expected.to_bytes(), actual.data)
    elif expected.kind == "form" and expected.form is not None:
        _compare_forms(walk, expected.form, actual.form())
    else:
        _compare_text(walk, str(expected.value), actual.text())


def _compare_text(walk: Walk, expected: str, actual: str) -> None:
    """Plain text: equality, or the rules written for the whole body (``$``)."""
    chosen = walk.root.chosen
    if chosen is not None:
        for message in r.apply(chosen.rules, r.check_text, expected, actual, chosen.cascaded):
            walk.add((), expected, actual, message)
    elif expected != actual:
        message = f"Expected body '{expected}' to match '{actual}' using equality but did not match"
        walk.add((), expected, actual, message)


def _compare_binary(walk: Walk, expected: bytes, actual: bytes) -> None:
    """Bytes: equality, unless a ``contentType`` rule asks for a magic-number check."""
    chosen = walk.root.chosen
    kinds = [m for m in chosen.rules.matchers if m.kind == "contentType"] if chosen else []
    for matcher in kinds:
        message = r.content_type_problem(str(matcher.value), actual)
        if message:
            walk.add((), matcher.value, None, message)
    if not kinds and expected != actual:
        message = (
            f"Expected binary contents of {len(expected)} bytes to equal the {len(actual)} bytes received"
        )
        walk.add((), len(expected), len(actual), message)


def _compare_forms(walk: Walk, wanted: Mapping[str, Sequence[str]], got: Mapping[str, list[str]]) -> None:
    """Form-encoded bodies match like query strings, rules keyed ``$.name``."""
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
    name: str, expected: Sequence[str], actual: Sequence[str], chosen: ChosenRule | None, noun: str
) -> list[tuple[object, object, str]]:
    """Multi-valued parameters (query or form): values of one name compare in order.

    With a rule, every received value is checked against the rule (extra values
    against the first example), so ``min``/``max`` style rules may relax the count.
    """
    problems: list[tuple[object, object, str]] = []
    if chosen is not None:
        for index, value in enumerate(actual):
            example = expected[index] if index < len(expected) else (expected[0] if expected else "")
            problems.extend(
                (example, value, m) for m in r.apply(chosen.rules, r.check_text, example, value, False)
            )
        for matcher in chosen.rules.matchers:
            if matcher.kind in ("min", "max", "minmax") and not chosen.cascaded:
                message = r.size_problem(matcher, len(actual), r.show(list(actual)))
                if message:
                    problems.append((list(expected), list(actual), message))
        return problems
    if len(expected) != len(actual):
        message = (
            f"Expected {noun} '{name}' with {len(expected)} value(s) but received {len(actual)} value(s)"
        )
        problems.append((list(expected), list(actual), message))
    for want, got in zip(expected, actual, strict=False):
        if want != got:
            problems.append((want, got, f"Expected {noun} '{name}' with value '{want}' but was '{got}'"))
    return problems


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
