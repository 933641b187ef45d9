"""Header matching: names case-insensitive, values compared the way Pact compares them.

Comma-separated values compare item by item, media types (``Content-Type``,
``Accept``) parameter by parameter, and a matching rule replaces equality.
What depends only on the pact (lower-cased names, the rule for each header)
is worked out once per expected request or response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from pactstub.matching import rules as r
from pactstub.matching.report import Mismatch
from pactstub.matching.ruletable import IdentityCache
from pactstub.model import Headers, HttpRequest, HttpResponse, RuleSet

#: Headers that the transport, not the consumer, decides; ignored unless strict.
TRANSPORT_HEADERS: frozenset[str] = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade",
     "accept-encoding", "version"}
)  # fmt: skip
#: Headers whose values are media types compared parameter by parameter.
_MEDIA_TYPE_HEADERS = frozenset({"content-type", "accept"})


def match_headers(
    expected: Headers | None,
    actual: Sequence[tuple[str, str]],
    rules: Mapping[str, RuleSet],
    *,
    strict: bool,
) -> list[Mismatch]:
    """Expected headers must be present (names case-insensitive); extra headers are fine."""
    return _mismatches(_compile(expected, rules), received_headers(actual), strict, False)


def received_headers(actual: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Received headers by lower-cased name, values stripped, in order."""
    received: dict[str, list[str]] = {}
    for name, value in actual:
        received.setdefault(name.lower(), []).append(value.strip())
    return received


def header_mismatches(
    expected: HttpRequest | HttpResponse,
    received: Mapping[str, list[str]],
    strict: bool,
    *,
    first: bool = False,
) -> list[Mismatch]:
    """The headers of ``expected`` against :func:`received_headers`; ``first``: stop at one mismatch."""
    return _mismatches(_compiled(expected), received, strict, first)


class _Expected(NamedTuple):
    """One expected header, with what matching needs worked out once."""

    name: str
    lower: str
    values: Sequence[str]
    transport: bool
    rule: RuleSet | None


def _compile(expected: Headers | None, rules: Mapping[str, RuleSet]) -> tuple[_Expected, ...]:
    return tuple(
        _Expected(name, name.lower(), values, name.lower() in TRANSPORT_HEADERS, rules.get(name.lower()))
        for name, values in (expected or {}).items()
    )


_compiled: IdentityCache[HttpRequest | HttpResponse, tuple[_Expected, ...]] = IdentityCache(
    lambda message: _compile(message.headers, message.rules.header)
)


def _mismatches(
    expected: tuple[_Expected, ...], received: Mapping[str, list[str]], strict: bool, first: bool
) -> list[Mismatch]:
    found: list[Mismatch] = []
    for name, lower, values, transport, rule in expected:
        if transport and not strict:
            continue
        have = received.get(lower)
        if have is None:
            message = f"Expected a header '{name}' but was missing"
            found.append(
                Mismatch("header", f"header {name}", ", ".join(v.strip() for v in values), None, message)
            )
        else:
            if rule is None and len(values) == len(have) and all(map(str.__eq__, values, have)):
                continue  # the same text: equal however it splits or parses
            problems = _header_problems(lower, name, values, have, rule)
            if problems:
                want, shown = ", ".join(v.strip() for v in values), ", ".join(have)
                found.extend(Mismatch("header", f"header {name}", want, shown, m) for m in problems)
        if first and found:
            return found
    return found


def _header_problems(
    lower: str, name: str, want: Sequence[str], have: list[str], rule: RuleSet | None
) -> list[str]:
    if rule is not None:
        if len(want) == 1:
            return [
                f"Mismatch with header '{name}': {m}"
                for m in r.apply(rule, r.check_text, want[0], ", ".join(have), False)
            ]
        problems: list[str] = []
        for index, value in enumerate(have):
            example = want[index] if index < len(want) else want[0]
            problems.extend(
                f"Mismatch with header '{name}': {m}"
                for m in r.apply(rule, r.check_text, example, value, False)
            )
        return problems
    if lower == "content-type":
        expected_values, actual_values = [", ".join(want)], [", ".join(have)]
    else:
        expected_values, actual_values = _split(want), _split(have)
    same = len(expected_values) == len(actual_values) and all(
        _media_type_equal(e, a) if lower in _MEDIA_TYPE_HEADERS else e == a
        for e, a in zip(expected_values, actual_values, strict=True)
    )
    if same:
        return []
    return [f"Expected header '{name}' to have value '{', '.join(want)}' but was '{', '.join(have)}'"]


def _split(values: Sequence[str]) -> list[str]:
    """Comma-separated header values, one per item, whitespace around commas ignored."""
    return [part.strip() for value in values for part in value.split(",")]


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    parts = [part.strip() for part in value.split(";") if part.strip()]
    base = parts[0] if parts else ""
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        params[key.strip().lower()] = val.strip()
    return base, params


def _media_type_equal(expected: str, actual: str) -> bool:
    """Same type; every expected parameter present with the same value (charset any case)."""
    want_base, want_params = _media_type(expected)
    have_base, have_params = _media_type(actual)
    if want_base != have_base:
        return False
    for key, value in want_params.items():
        got = have_params.get(key)
        if got is None:
            return False
        if key == "charset" and value.lower() != got.lower():
            return False
        if key != "charset" and value.strip('"') != got.strip('"'):
            return False
    return True
