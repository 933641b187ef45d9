"""Whole-message matching: a received request or response against the pact's.

Each part (method, path, query, headers, body, status) is compared on its own
and every difference is reported, so the stub can explain a near miss in
full. The same code decides: with ``first=True`` it stops at the first
difference, which is how the stub chooses among candidates cheaply
(:func:`matches`). Callers matching one request against several candidates
wrap it once in an :class:`ActualRequest`, so its parsing is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pactstub.matching import rules as r
from pactstub.matching.actual import ActualBody, ActualRequest, received_headers
from pactstub.matching.body import match_body, param_problems
from pactstub.matching.headers import header_mismatches
from pactstub.matching.report import Mismatch
from pactstub.model import (
    ChosenRule,
    HttpRequest,
    HttpResponse,
    Matcher,
    Query,
    ReceivedRequest,
    ReceivedResponse,
    RuleSet,
)
from pactstub.wire import decoded_query_parts

#: One part of a request: ``(expected, actual, strict headers, stop at the first mismatch)``.
_Part = Callable[[HttpRequest, ActualRequest, bool, bool], list[Mismatch]]


def match_request(
    expected: HttpRequest,
    actual: ReceivedRequest | ActualRequest,
    *,
    strict_headers: bool = False,
    first: bool = False,
) -> list[Mismatch]:
    """Every way ``actual`` differs from ``expected`` (empty: it matches); ``first``: the first one."""
    request = actual if isinstance(actual, ActualRequest) else ActualRequest(actual)
    found: list[Mismatch] = []
    for part in _REQUEST_PARTS:
        found.extend(part(expected, request, strict_headers, first))
        if first and found:
            break
    return found


def matches(
    expected: HttpRequest, actual: ReceivedRequest | ActualRequest, *, strict_headers: bool = False
) -> bool:
    """Whether ``match_request(expected, actual) == []``, stopping at the first difference."""
    return not match_request(expected, actual, strict_headers=strict_headers, first=True)


def match_response(expected: HttpResponse, actual: ReceivedResponse) -> list[Mismatch]:
    """Every way a provider's response differs from the pact's; extra keys are allowed."""
    found = _match_status(expected, actual.status)
    found.extend(header_mismatches(expected.header_checks, received_headers(actual.headers), False))
    body = ActualBody(actual.body)
    found.extend(
        match_body(expected.body, body, actual.content_type, strict=False, rules=expected.rules.body)
    )
    return found


def _method(expected: HttpRequest, actual: ActualRequest, strict: bool, first: bool) -> list[Mismatch]:
    wanted = expected.method.upper()
    if wanted == actual.method:
        return []
    message = f"Expected method '{wanted}' but was '{actual.method}'"
    return [Mismatch("method", "method", wanted, actual.request.method, message)]


def _path(expected: HttpRequest, actual: ActualRequest, strict: bool, first: bool) -> list[Mismatch]:
    path, rule = actual.request.path, expected.rules.path
    if rule is not None:
        messages = r.apply(rule, r.check_text, expected.path, path, False)
    elif expected.path != path:
        messages = [f"Expected '{path}' to be equal to '{expected.path}'"]
    else:
        return []
    return [Mismatch("path", "path", expected.path, path, message) for message in messages]


def _query(expected: HttpRequest, actual: ActualRequest, strict: bool, first: bool) -> list[Mismatch]:
    """v1 compares query strings once percent-escapes are decoded; later versions, parameter maps."""
    if expected.exact_query is None:
        return match_query(expected.query, actual.request.query, expected.rules.query, first=first)
    received = actual.request.query_string
    if decoded_query_parts(expected.exact_query) == decoded_query_parts(received):
        return []
    message = f"Expected query string '{expected.exact_query}' but received '{received}'"
    return [Mismatch("query", "query", expected.exact_query, received, message)]


def _headers(expected: HttpRequest, actual: ActualRequest, strict: bool, first: bool) -> list[Mismatch]:
    return header_mismatches(expected.header_checks, actual.headers, strict, first)


def _body(expected: HttpRequest, actual: ActualRequest, strict: bool, first: bool) -> list[Mismatch]:
    return match_body(
        expected.body, actual.body, actual.content_type, strict=True, rules=expected.rules.body, first=first
    )


_REQUEST_PARTS: tuple[_Part, ...] = (_method, _path, _query, _headers, _body)


def status_allowed(expected: HttpResponse, status: int) -> bool:
    """Whether a response may have ``status``: its status rule allows it, or (no rule) it is the pact's."""
    return not _match_status(expected, status)


def _match_status(expected: HttpResponse, actual: int) -> list[Mismatch]:
    rule = expected.rules.status
    if rule is not None:
        messages = r.apply(rule, _check_status, expected.status, actual, False)
    elif expected.status != actual:
        messages = [f"Expected status {expected.status} but was {actual}"]
    else:
        return []
    return [Mismatch("status", "status", expected.status, actual, message) for message in messages]


def _check_status(matcher: Matcher, expected: int, actual: int, cascaded: bool) -> str | None:
    if matcher.kind == "statusCode":
        return r.status_problem(matcher, actual)
    return r.check_text(matcher, str(expected), str(actual), cascaded)


def match_query(
    expected: Query | None, actual: Query, rules: Mapping[str, RuleSet], *, first: bool = False
) -> list[Mismatch]:
    """Parameters by name in any order; values of one name in order; no unexpected names."""
    found: list[Mismatch] = []
    wanted = expected or {}
    for name, values in wanted.items():
        want = [v or "" for v in values]
        if name not in actual:
            message = f"Expected query parameter '{name}' but was missing"
            found.append(Mismatch("query", f"query {name}", want, None, message))
        else:
            have = [v or "" for v in actual[name]]
            rule = rules.get(name)
            chosen = ChosenRule(rule, False) if rule is not None else None
            for e, a, message in param_problems(name, want, have, chosen, "query parameter"):
                found.append(Mismatch("query", f"query {name}", e, a, message))
        if first and found:
            return found
    for name, values in actual.items():
        if name not in wanted:
            message = f"Unexpected query parameter '{name}' received"
            found.append(Mismatch("query", f"query {name}", None, [v or "" for v in values], message))
            if first:
                return found
    return found


__all__ = ["ActualRequest", "match_query", "match_request", "match_response", "matches"]
