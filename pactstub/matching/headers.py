"""Header matching: names case-insensitive, values compared the way Pact compares them.

Comma-separated values compare item by item, media types (``Content-Type``,
``Accept``) parameter by parameter, and a matching rule replaces equality.
What depends only on the pact (lower-cased names, the rule for each header,
the expected media types) is compiled once, at load, by :func:`compile_headers`.

Media types are read with werkzeug's parser, as HTTP defines them: the type and
parameter names are case-insensitive and a quoted parameter value equals the
same value unquoted. Parameter values compare ignoring case, as the Pact
reference implementation compares them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from werkzeug.http import parse_list_header, parse_options_header

from pactstub.matching import rules as r
from pactstub.matching.report import Mismatch
from pactstub.model import HeaderCheck, Headers, MediaType, RuleSet

#: Headers that the transport, not the consumer, decides; ignored unless strict.
TRANSPORT_HEADERS: frozenset[str] = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade",
     "accept-encoding", "version"}
)  # fmt: skip
#: Headers whose values are media types compared parameter by parameter.
_MEDIA_TYPE_HEADERS = frozenset({"content-type", "accept"})


def compile_headers(expected: Headers | None, rules: Mapping[str, RuleSet]) -> tuple[HeaderCheck, ...]:
    """One :class:`HeaderCheck` per expected header, for :func:`header_mismatches`."""
    checks = []
    for name, values in (expected or {}).items():
        lower = name.lower()
        rule = rules.get(lower)
        media = media_types(lower, values) if rule is None and lower in _MEDIA_TYPE_HEADERS else None
        checks.append(HeaderCheck(name, lower, tuple(values), lower in TRANSPORT_HEADERS, rule, media))
    return tuple(checks)


def media_types(lower: str, values: Sequence[str]) -> tuple[MediaType, ...]:
    """The media types of a header's values: one for ``Content-Type``, a list for ``Accept``."""
    if lower == "content-type":
        items = [", ".join(values)]
    else:
        items = [item for value in values for item in parse_list_header(value)]
    return tuple(_media_type(item) for item in items)


def _media_type(text: str) -> MediaType:
    """``type/subtype`` is case-insensitive; a value that is not a media type keeps its case."""
    essence, params = parse_options_header(text)
    essence = essence.strip()
    if "/" in essence:
        essence = essence.lower()
    return MediaType(essence, {key.lower(): value for key, value in params.items()})


def header_mismatches(
    checks: Sequence[HeaderCheck], received: Mapping[str, list[str]], strict: bool, first: bool = False
) -> list[Mismatch]:
    """Expected headers must be present (names case-insensitive); extra headers are fine.

    ``received`` is the received headers by lower-cased name; ``first`` stops at one mismatch.
    """
    found: list[Mismatch] = []
    for check in checks:
        if check.transport and not strict:
            continue
        have = received.get(check.lower)
        if have is None:
            message = f"Expected a header '{check.name}' but was missing"
            shown = ", ".join(v.strip() for v in check.values)
            found.append(Mismatch("header", f"header {check.name}", shown, None, message))
        elif not (check.rule is None and _same_text(check.values, have)):
            problems = _problems(check, have)
            if problems:
                want, shown = ", ".join(v.strip() for v in check.values), ", ".join(have)
                found.extend(Mismatch("header", f"header {check.name}", want, shown, m) for m in problems)
        if first and found:
            return found
    return found


def _same_text(want: Sequence[str], have: Sequence[str]) -> bool:
    """The same text: equal however it splits or parses (the common case, checked first)."""
    return len(want) == len(have) and all(map(str.__eq__, want, have))


def _problems(check: HeaderCheck, have: list[str]) -> list[str]:
    want, name = check.values, check.name
    if check.rule is not None:
        return _rule_problems(check.rule, name, want, have)
    if check.media_types is not None:
        same = _media_types_equal(check.media_types, media_types(check.lower, have))
    else:
        expected_values, actual_values = _split(want), _split(have)
        same = expected_values == actual_values
    if same:
        return []
    return [f"Expected header '{name}' to have value '{', '.join(want)}' but was '{', '.join(have)}'"]


def _rule_problems(rule: RuleSet, name: str, want: Sequence[str], have: list[str]) -> list[str]:
    """A rule checks the whole value, or, for a header of several values, each one."""
    if len(want) == 1:
        return [
            f"Mismatch with header '{name}': {m}"
            for m in r.apply(rule, r.check_text, want[0], ", ".join(have), False)
        ]
    problems: list[str] = []
    for index, value in enumerate(have):
        example = want[index] if index < len(want) else want[0]
        problems.extend(
            f"Mismatch with header '{name}': {m}" for m in r.apply(rule, r.check_text, example, value, False)
        )
    return problems


def _split(values: Sequence[str]) -> list[str]:
    """Comma-separated header values, one per item, whitespace around commas ignored."""
    return [part.strip() for value in values for part in value.split(",")]


def _media_types_equal(expected: Sequence[MediaType], actual: Sequence[MediaType]) -> bool:
    """The same types in order, each with every expected parameter (extra ones are fine)."""
    return len(expected) == len(actual) and all(map(_fits, expected, actual))


def _fits(want: MediaType, got: MediaType) -> bool:
    if want.essence != got.essence:
        return False
    for key, value in want.params.items():
        found = got.params.get(key)
        if found is None or found.lower() != value.lower():
            return False
    return True
