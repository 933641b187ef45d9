"""Whole requests: the full account of a miss, and the same code stopping at its first mismatch."""

from __future__ import annotations

import json

from pactstub import load_pacts
from pactstub.matching.http import match_request, matches
from pactstub.model import HttpRequest, ReceivedRequest
from tests.conftest import pact_document


def expected_request() -> HttpRequest:
    request = {
        "method": "POST",
        "path": "/jobs",
        "query": {"dry": ["true"]},
        "headers": {"Content-Type": "application/json", "Offline-Token": "t"},
        "body": {"type": "input", "jobId": 1},
    }
    (pact,) = load_pacts([pact_document({"request": request, "response": {}})])
    return pact.interactions[0].request


def test_a_full_match_reports_every_part_that_differs() -> None:
    received = ReceivedRequest(
        "PUT",
        "/jobs/1",
        query={"dry": ("false",)},
        headers=(("Content-Type", "application/json"),),
        body=json.dumps({"type": "config", "jobId": 1}).encode(),
        query_string="dry=false",
    )
    found = match_request(expected_request(), received)
    assert [m.location for m in found] == [
        "method",
        "path",
        "query dry",
        "header Offline-Token",
        "$.body.type",
    ]
    assert not matches(expected_request(), received)


def test_stopping_at_the_first_mismatch_reports_only_that_one() -> None:
    received = ReceivedRequest("POST", "/jobs", query={"dry": ("true",)}, query_string="dry=true", body=b"{}")
    full = match_request(expected_request(), received)
    first = match_request(expected_request(), received, first=True)
    assert [m.location for m in full] == ["header Content-Type", "header Offline-Token", "$.body"]
    assert first == full[:1]


def test_the_example_request_itself_matches() -> None:
    body = json.dumps({"type": "input", "jobId": 1}).encode()
    headers = (("Content-Type", "application/json"), ("Offline-Token", "t"))
    received = ReceivedRequest("post", "/jobs", {"dry": ("true",)}, headers, body, "dry=true")
    assert match_request(expected_request(), received) == []
    assert matches(expected_request(), received)
