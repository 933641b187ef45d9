"""Golden matching cases: one JSON file per behaviour, in the Pact specification's shape.

Request cases go through the public WSGI app (a match answers the pact's
response, a miss does not), and their listed mismatches are checked with
``match_request`` on the same request; response cases go through
``match_response``, which the provider verifier uses. A case may pin the
specification version (``"specification": "2"``, default ``"3"``); a case that
does not match lists the mismatches it expects (``kind``, ``location`` and
optionally ``message``), so it fails for the reason it was written for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.test import Client, EnvironBuilder

from pactstub import create_app, load_pacts
from pactstub.matching.http import ActualRequest, match_request, match_response, matches
from pactstub.model import ReceivedRequest, ReceivedResponse
from pactstub.wire import parse_query_string

CASES = Path(__file__).parent / "cases"
MATCHED = {"matched": True}


def _files(direction: str) -> list[Path]:
    return sorted((CASES / direction).glob("*/*.json"))


def _pact(case: dict[str, Any], request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    version = str(case.get("specification", "3"))
    interaction: dict[str, Any] = {"description": case.get("comment", "golden"), "request": request}
    interaction["response"] = response
    if version.startswith("4"):
        interaction["type"] = "Synchronous/HTTP"
    return {
        "consumer": {"name": "golden-consumer"},
        "provider": {"name": "golden-provider"},
        "interactions": [interaction],
        "metadata": {"pactSpecification": {"version": version}},
    }


def _query(query: Any) -> str:
    if query is None or isinstance(query, str):
        return query or ""
    pairs = []
    for name, values in query.items():
        for value in values if isinstance(values, list) else [values]:
            key = quote(str(name), safe="")
            pairs.append(key if value is None else f"{key}={quote(str(value), safe='')}")
    return "&".join(pairs)


def _headers(headers: dict[str, Any] | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        pairs.extend((name, str(v)) for v in (value if isinstance(value, list) else [value]))
    return pairs


def _body(message: dict[str, Any]) -> bytes | None:
    body = message.get("body")
    if body is None:
        return None
    return body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")


def _check_listed(case: dict[str, Any], found: list[dict[str, Any]]) -> None:
    assert case["match"] or case.get("mismatches"), "a case that does not match says where it must not"
    for wanted in case.get("mismatches", []):
        hits = [m for m in found if m["kind"] == wanted["kind"] and m["location"] == wanted["location"]]
        assert hits, f"no {wanted} among {found}"
        if "message" in wanted:
            assert wanted["message"] in [m["message"] for m in hits], hits


def _wire(actual: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": actual.get("path", "/"),
        "method": actual.get("method", "GET"),
        "query_string": _query(actual.get("query")),
        "headers": _headers(actual.get("headers")),
        "data": _body(actual),
    }


def _received(actual: dict[str, Any]) -> ReceivedRequest:
    """The request as the stub sees it, for asserting mismatch details directly."""
    builder = EnvironBuilder(**_wire(actual))
    try:
        request = builder.get_request()
        body = request.get_data()
        return ReceivedRequest(
            method=request.method,
            path=request.path,
            query=parse_query_string(request.query_string.decode("latin-1")),
            headers=tuple(request.headers.items()),
            body=body,
            query_string=request.query_string.decode("latin-1"),
        )
    finally:
        builder.close()


@pytest.mark.parametrize("path", _files("request"), ids=lambda p: p.stem)
def test_request_case(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    ok = {"status": 200, "headers": {"Content-Type": "application/json"}, "body": MATCHED}
    document = _pact(case, case["expected"], ok)
    response = Client(create_app([document])).open(**_wire(case["actual"]))
    answer = response.get_json(silent=True) or {}
    matched = response.status_code == 200 and answer == MATCHED
    assert matched == case["match"], json.dumps(answer, indent=2)
    if not case["match"]:
        assert response.status_code != 200
        expected = load_pacts([document])[0].interactions[0].request
        found = match_request(expected, _received(case["actual"]))
        assert found, "the matcher must explain a miss"
        _check_listed(case, [m.to_json() for m in found])


@pytest.mark.parametrize("path", _files("request"), ids=lambda p: p.stem)
@pytest.mark.parametrize("strict_headers", [False, True], ids=["lenient", "strict"])
def test_request_case_decides_like_it_explains(path: Path, strict_headers: bool) -> None:
    """Stopping at the first mismatch finds one of the mismatches a full match reports, or none."""
    case = json.loads(path.read_text(encoding="utf-8"))
    ok = {"status": 200, "body": MATCHED}
    expected = load_pacts([_pact(case, case["expected"], ok)])[0].interactions[0].request
    received = ActualRequest(_received(case["actual"]))
    found = [m.to_json() for m in match_request(expected, received, strict_headers=strict_headers)]
    first = [
        m.to_json() for m in match_request(expected, received, strict_headers=strict_headers, first=True)
    ]
    assert (first == []) == (found == [])
    assert all(m in found for m in first)
    assert matches(expected, received, strict_headers=strict_headers) == (found == [])


@pytest.mark.parametrize("path", _files("response"), ids=lambda p: p.stem)
def test_response_case(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    pact = load_pacts([_pact(case, {"method": "GET", "path": "/"}, case["expected"])])[0]
    actual = case["actual"]
    received = ReceivedResponse(
        status=int(actual.get("status", 200)),
        headers=tuple(_headers(actual.get("headers"))),
        body=_body(actual) or b"",
    )
    found = match_response(pact.interactions[0].response, received)
    assert (found == []) == case["match"], [str(m) for m in found]
    _check_listed(case, [m.to_json() for m in found])


def test_there_are_enough_cases() -> None:
    """The golden set is the matcher's specification; keep it broad."""
    assert len(_files("request")) + len(_files("response")) >= 80
