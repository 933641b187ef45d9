"""Whole-message matching: a received request or response against the pact's.

Each part (method, path, query, headers, body, status) is compared on its own
and every difference is reported, so the stub can explain a near miss in full.
:func:`matches` gives the same verdict as ``match_request(...) == []`` but
stops at the first difference, for choosing among candidates cheaply. Both
take a :class:`PreparedRequest` (see :func:`prepare`) so that work depending
only on the received request is done once for all candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from pactstub.loading.parse import parse_query_string
from pactstub.matching import rules as r
from pactstub.matching.body import body_matches, match_body, param_problems
from pactstub.matching.headers import TRANSPORT_HEADERS, header_mismatches, match_headers, received_headers
from pactstub.matching.prepared import PreparedRequest, prepare
from pactstub.matching.report import Mismatch
from pactstub.model import (
    HttpRequest,
    HttpResponse,
    Query,
    ReceivedRequest,
    ReceivedResponse,
    RuleSet,
)


def match_request(
    expected: HttpRequest, actual: ReceivedRequest | PreparedRequest, *, strict_headers: bool = False
) -> list[Mismatch]:
    """Every way ``actual`` differs from ``expected``; empty means it matches."""
    prepared = prepare(actual)
    request = prepared.request
    found: list[Mismatch] = []
    if expected.method.upper() != prepared.method:
        message = f"Expected method '{expected.method.upper()}' but was '{prepared.method}'"
        found.append(Mismatch("method", "method", expected.method.upper(), request.method, message))
    found.extend(_match_path(expected, request.path))
    if expected.exact_query is not None:
        found.extend(_match_query_string(expected.exact_query, request))
    else:
        found.extend(match_query(expected.query, request.query, expected.rules.query))
    found.extend(header_mismatches(expected, prepared.headers, strict_headers))
    found.extend(
        match_body(
            expected.body, prepared.body, prepared.content_type, strict=True, rules=expected.rules.body
        )
    )
    return found


def matches(
    expected: HttpRequest, actual: ReceivedRequest | PreparedRequest, *, strict_headers: bool = False
) -> bool:
    """Whether ``match_request(expected, actual) == []``, stopping at the first difference."""
    prepared = prepare(actual)
    request = prepared.request
    if expected.method.upper() != prepared.method or _match_path(expected, request.path):
        return False
    if expected.exact_query is not None:
        if _match_query_string(expected.exact_query, request):
            return False
    elif match_query(expected.query, request.query, expected.rules.query):
        return False
    if header_mismatches(expected, prepared.headers, strict_headers, first=True):
        return False
    return body_matches(
        expected.body, prepared.body, prepared.content_type, strict=True, rules=expected.rules.body
    )


def match_response(expected: HttpResponse, actual: ReceivedResponse) -> list[Mismatch]:
    """Every way a provider's response differs from the pact's; extra keys are allowed."""
    found = _match_status(expected, actual.status)
    found.extend(header_mismatches(expected, received_headers(actual.headers), False))
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


__all__ = [
    "TRANSPORT_HEADERS",
    "match_headers",
    "match_query",
    "match_request",
    "match_response",
    "matches",
]
