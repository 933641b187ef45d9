"""Whole-message matching: a received request or response against the pact's.

Each part (method, path, query, headers, body, status) is compared on its own
and every difference is reported, so the stub can explain a near miss in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from pactstub.loading.parse import parse_query_string
from pactstub.matching import rules as r
from pactstub.matching.body import match_body, param_problems
from pactstub.matching.report import Mismatch
from pactstub.model import (
    Headers,
    HttpRequest,
    HttpResponse,
    Query,
    ReceivedRequest,
    ReceivedResponse,
    RuleSet,
)

#: Headers that the transport, not the consumer, decides; ignored unless strict.
TRANSPORT_HEADERS: frozenset[str] = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade",
     "accept-encoding", "version"}
)  # fmt: skip
#: Headers whose values are media types compared parameter by parameter.
_MEDIA_TYPE_HEADERS = frozenset({"content-type", "accept"})


def match_request(
    expected: HttpRequest, actual: ReceivedRequest, *, strict_headers: bool = False
) -> list[Mismatch]:
    """Every way ``actual`` differs from ``expected``; empty means it matches."""
    found: list[Mismatch] = []
    if expected.method.upper() != actual.method.upper():
        message = f"Expected method '{expected.method.upper()}' but was '{actual.method.upper()}'"
        found.append(Mismatch("method", "method", expected.method.upper(), actual.method, message))
    found.extend(_match_path(expected, actual.path))
    if expected.exact_query is not None:
        found.extend(_match_query_string(expected.exact_query, actual))
    else:
        found.extend(match_query(expected.query, actual.query, expected.rules.query))
    found.extend(
        match_headers(expected.headers, actual.headers, expected.rules.header, strict=strict_headers)
    )
    body = actual.body if actual.has_body or actual.body else b""
    found.extend(match_body(expected.body, body, actual.content_type, strict=True, rules=expected.rules.body))
    return found


def match_response(expected: HttpResponse, actual: ReceivedResponse) -> list[Mismatch]:
    """Every way a provider's response differs from the pact's; extra keys are allowed."""
    found = _match_status(expected, actual.status)
    found.extend(match_headers(expected.headers, actual.headers, expected.rules.header, strict=False))
    found.extend(
        match_body(expected.body, actual.body, actual.content_type, strict=False, rules=expected.rules.body)
    )
    return found


def _match_path(expected: HttpRequest, actual: str) -> list[Mismatch]:
    rule = expected.rules.path
    if rule is not None:
        messages = r.apply(rule, r.check_text, expected.path, actual, False)
    elif expected.path != actual:
        messages = [f"Expected '{actual}' to be equal to '{expected.path}'"]
    else:
        messages = []
    return [Mismatch("path", "path", expected.path, actual, message) for message in messages]


def _match_status(expected: HttpResponse, actual: int) -> list[Mismatch]:
    rule = expected.rules.status
    if rule is not None:
        messages = r.apply(rule, _check_status, expected.status, actual, False)
    elif expected.status != actual:
        messages = [f"Expected status {expected.status} but was {actual}"]
    else:
        messages = []
    return [Mismatch("status", "status", expected.status, actual, message) for message in messages]


def _check_status(matcher: Any, expected: int, actual: int, cascaded: bool) -> str | None:
    if matcher.kind == "statusCode":
        return r.status_problem(matcher, actual)
    return r.check_text(matcher, str(expected), str(actual), cascaded)


# --------------------------------------------------------------------------- query


def _match_query_string(expected: str, actual: ReceivedRequest) -> list[Mismatch]:
    """v1: the query strings must be the same once percent-escapes are decoded.

    Without the raw string (an older caller) the parsed parameters are compared
    in order, which still catches reordering but not a trailing ``&``.
    """
    if actual.query_string is not None:
        same = _decoded_parts(expected) == _decoded_parts(actual.query_string)
        shown = actual.query_string
    else:
        same = list(parse_query_string(expected).items()) == list(actual.query.items())
        shown = "&".join(k if v is None else f"{k}={v}" for k, vs in actual.query.items() for v in vs)
    if same:
        return []
    message = f"Expected query string '{expected}' but received '{shown}'"
    return [Mismatch("query", "query", expected, shown, message)]


def _decoded_parts(text: str) -> list[str]:
    return [unquote(part.replace("+", " ")) for part in text.split("&")] if text else []


def match_query(expected: Query | None, actual: Query, rules: Mapping[str, RuleSet]) -> list[Mismatch]:
    """Parameters by name in any order; values of one name in order; no unexpected names."""
    found: list[Mismatch] = []
    wanted = expected or {}
    for name, values in wanted.items():
        want = [v or "" for v in values]
        if name not in actual:
            message = f"Expected query parameter '{name}' but was missing"
            found.append(Mismatch("query", f"query {name}", want, None, message))
            continue
        have = [v or "" for v in actual[name]]
        rule = rules.get(name)
        chosen = (rule, False) if rule is not None else None
        for e, a, message in param_problems(name, want, have, chosen, "query parameter"):
            found.append(Mismatch("query", f"query {name}", e, a, message))
    for name, values in actual.items():
        if name not in wanted:
            message = f"Unexpected query parameter '{name}' received"
            found.append(Mismatch("query", f"query {name}", None, [v or "" for v in values], message))
    return found


# --------------------------------------------------------------------------- headers


def match_headers(
    expected: Headers | None,
    actual: Sequence[tuple[str, str]],
    rules: Mapping[str, RuleSet],
    *,
    strict: bool,
) -> list[Mismatch]:
    """Expected headers must be present (names case-insensitive); extra headers are fine."""
    received: dict[str, list[str]] = {}
    for name, value in actual:
        received.setdefault(name.lower(), []).append(value.strip())
    found: list[Mismatch] = []
    for name, values in (expected or {}).items():
        lower = name.lower()
        if lower in TRANSPORT_HEADERS and not strict:
            continue
        want = ", ".join(v.strip() for v in values)
        if lower not in received:
            message = f"Expected a header '{name}' but was missing"
            found.append(Mismatch("header", f"header {name}", want, None, message))
            continue
        have = ", ".join(received[lower])
        for message in _header_problems(lower, name, list(values), received[lower], rules.get(lower)):
            found.append(Mismatch("header", f"header {name}", want, have, message))
    return found


def _header_problems(
    lower: str, name: str, want: list[str], have: list[str], rule: RuleSet | None
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


def _split(values: list[str]) -> list[str]:
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
