"""The WSGI app, driven through ``pactstub.create_app`` and werkzeug's test client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from pactstub import PactLoadError, create_app
from tests.conftest import TEMPLATES, pact_document

EPX_HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}


@pytest.fixture
def epx(epx_pact: Path) -> Client:
    return Client(create_app([epx_pact]))


def post_json(client: Client, path: str, body: Any, headers: dict[str, str] | None = None) -> TestResponse:
    return client.post(path, data=json.dumps(body), headers=headers if headers is not None else EPX_HEADERS)


class TestChoosingAnInteraction:
    @pytest.mark.parametrize(
        ("body", "url_path"),
        [
            ({"jobId": 7, "context": "job", "type": "input"}, "/pre-signed-url"),
            ({"jobId": 7, "context": "job", "type": "config"}, "/pre-signed-url-job-config"),
            ({"jobId": 7, "context": "run", "type": "config", "runId": 1}, "/pre-signed-url-run"),
        ],
    )
    def test_the_body_picks_one_of_the_three_post_jobs(self, epx: Client, body: Any, url_path: str) -> None:
        response = post_json(epx, "/jobs", body)
        assert response.status_code == 200
        assert response.json is not None
        assert response.json["url"].endswith(url_path)

    def test_any_job_id_works_not_only_the_example(self, epx: Client) -> None:
        response = epx.get("/runs?job_id=98765", headers=EPX_HEADERS)
        assert response.status_code == 200

    def test_the_most_specific_interaction_wins_over_pact_order(self) -> None:
        loose = {
            "description": "any name",
            "request": {
                "method": "GET",
                "path": "/people",
                "query": {"name": ["x"]},
                "matchingRules": {"query": {"name": {"matchers": [{"match": "type"}]}}},
            },
            "response": {"status": 200, "body": {"who": "anyone"}},
        }
        exact = {
            "description": "exactly alice",
            "request": {"method": "GET", "path": "/people", "query": {"name": ["alice"]}},
            "response": {"status": 200, "body": {"who": "alice"}},
        }
        client = Client(create_app([pact_document(loose, exact)]))
        assert client.get("/people?name=alice").json == {"who": "alice"}
        assert client.get("/people?name=bob").json == {"who": "anyone"}

    def test_the_provider_state_header_picks_among_interactions(self) -> None:
        def with_state(state: str, answer: str) -> dict[str, Any]:
            return {
                "description": f"when {state}",
                "providerStates": [{"name": state}],
                "request": {"method": "GET", "path": "/thing"},
                "response": {"status": 200, "body": {"answer": answer}},
            }

        client = Client(create_app([pact_document(with_state("empty", "none"), with_state("full", "some"))]))
        assert client.get("/thing").json == {"answer": "none"}
        assert client.get("/thing", headers={"X-Pact-Provider-State": "full"}).json == {"answer": "some"}

    def test_provider_state_option_filters_interactions(self) -> None:
        first = {
            "providerStates": [{"name": "a user exists"}],
            "request": {"method": "GET", "path": "/a"},
            "response": {"status": 200},
        }
        second = {
            "providerStates": [{"name": "no users"}],
            "request": {"method": "GET", "path": "/b"},
            "response": {"status": 200},
        }
        client = Client(create_app([pact_document(first, second)], provider_state="^no "))
        assert client.get("/a").status_code == 404
        assert client.get("/b").status_code == 200


class TestExplainingANoMatch:
    def test_a_missing_header_gives_400_naming_it(self, epx: Client) -> None:
        headers = {k: v for k, v in EPX_HEADERS.items() if k != "Offline-Token"}
        response = post_json(epx, "/jobs/register", {"tags": ["a"]}, headers)
        assert response.status_code == 400
        explanation = response.json
        assert explanation is not None
        assert explanation["closest"][0]["interaction"] == "a job registration request"
        locations = [m["location"] for m in explanation["mismatches"]]
        assert any("Offline-Token" in location for location in locations)
        mismatch = explanation["mismatches"][0]
        assert {"kind", "location", "expected", "actual", "message"} <= set(mismatch)

    def test_a_wrong_body_value_names_its_json_path(self, epx: Client) -> None:
        response = post_json(epx, "/jobs/register", {"tags": "not-a-list"})
        assert response.status_code == 400
        assert response.json is not None
        assert any(m["location"] == "$.body.tags" for m in response.json["mismatches"])

    def test_unknown_path_is_404(self, epx: Client) -> None:
        response = epx.get("/nowhere")
        assert response.status_code == 404
        assert response.json is not None
        assert "/nowhere" in response.json["error"]

    def test_known_path_with_other_method_is_405_with_allow(self, epx: Client) -> None:
        response = epx.delete("/runs")
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH", "POST", "OPTIONS"}

    def test_no_match_status_is_configurable(self, epx_pact: Path) -> None:
        client = Client(create_app([epx_pact], no_match_status=418))
        assert post_json(client, "/jobs/register", {"tags": 1}).status_code == 418

    def test_the_journal_records_matches_and_mismatches(self, epx: Client) -> None:
        post_json(epx, "/jobs/register", {"tags": ["x"]})
        post_json(epx, "/jobs/register", {"tags": ["x"]}, headers={})
        entries = epx.get("/_pactstub/requests").json
        assert entries is not None
        assert [e["matched"] for e in entries] == [True, False]
        assert entries[0]["interaction"] == "a job registration request"
        assert entries[1]["closest"][0]["mismatches"]
        unmatched = epx.get("/_pactstub/requests?matched=false").json
        assert unmatched is not None
        assert len(unmatched) == 1


class TestMalformedInput:
    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            (b"{not json", "application/json"),
            (b"tags=a&tags=b", "application/json"),
            (b"\xff\xfe\x00garbage", "application/json"),
            (b'{"tags": ["a"]}', "text/plain"),
            (b"", "application/json"),
        ],
        ids=["invalid-json", "content-type-lies", "not-utf8", "json-as-text", "empty"],
    )
    def test_bad_bodies_get_400_never_500(self, epx: Client, data: bytes, content_type: str) -> None:
        headers = {**EPX_HEADERS, "content-type": content_type}
        response = epx.post("/jobs/register", data=data, headers=headers)
        assert response.status_code == 400
        assert response.json is not None
        assert response.json["mismatches"]

    def test_an_oversized_body_is_413(self, epx_pact: Path) -> None:
        client = Client(create_app([epx_pact], max_body_size=100))
        response = post_json(client, "/jobs/register", {"tags": ["x" * 200]})
        assert response.status_code == 413
        assert response.json == {"error": "request body too large", "status": 413, "limit_bytes": 100}

    @pytest.mark.parametrize("method", ["PROPFIND", "BREW", "get"])
    def test_odd_methods_are_answered(self, epx: Client, method: str) -> None:
        response = epx.open("/runs", method=method, headers=EPX_HEADERS)
        assert response.status_code in (200, 400, 405)


class TestAnswering:
    def test_json_bodies_get_a_json_content_type(self) -> None:
        interaction = {
            "request": {"method": "GET", "path": "/x"},
            "response": {"status": 201, "body": {"a": 1}},
        }
        response = Client(create_app([pact_document(interaction)])).get("/x")
        assert response.status_code == 201
        assert response.headers["Content-Type"] == "application/json"
        assert response.json == {"a": 1}

    def test_generators_make_fresh_values(self) -> None:
        interaction = {
            "request": {"method": "GET", "path": "/x"},
            "response": {
                "status": 200,
                "body": {"id": 1, "token": "abc"},
                "generators": {
                    "body": {
                        "$.id": {"type": "RandomInt", "min": 10, "max": 20},
                        "$.token": {"type": "Regex", "regex": "[a-f]{8}"},
                    }
                },
            },
        }
        body = Client(create_app([pact_document(interaction)])).get("/x").json
        assert body is not None
        assert 10 <= body["id"] <= 20
        assert len(body["token"]) == 8
        assert set(body["token"]) <= set("abcdef")

    def test_mock_server_url_generator_uses_the_stubs_own_address(self) -> None:
        interaction = {
            "request": {"method": "GET", "path": "/x"},
            "response": {
                "status": 200,
                "body": {"next": "http://example.test/items/2"},
                "generators": {
                    "body": {
                        "$.next": {
                            "type": "MockServerURL",
                            "example": "http://example.test/items/2",
                            "regex": ".*(/items/\\d+)$",
                        }
                    }
                },
            },
        }
        client = Client(create_app([pact_document(interaction)]))
        body = client.get("/x", base_url="http://stub.local:8123").json
        assert body == {"next": "http://stub.local:8123/items/2"}


class TestBuiltInEndpoints:
    def test_health(self, epx: Client) -> None:
        body = epx.get("/health").json
        assert body is not None
        assert body["status"] == "healthy"
        assert body["timestamp"]

    def test_root_describes_what_is_served(self, epx: Client) -> None:
        body = epx.get("/").json
        assert body is not None
        assert body["name"] == "pactstub"
        assert body["interactions"] == 17
        assert "POST /jobs" in body["routes"]
        assert body["pacts"][0]["provider"] == "Epistemix"

    def test_a_pact_can_define_health_itself(self) -> None:
        interaction = {"request": {"method": "GET", "path": "/health"}, "response": {"body": {"up": True}}}
        assert Client(create_app([pact_document(interaction)])).get("/health").json == {"up": True}

    def test_interactions_endpoint_lists_them(self, epx: Client) -> None:
        listing = epx.get("/_pactstub/interactions").json
        assert listing is not None
        rows = listing["interactions"]
        assert [r["method"] for r in rows] == [
            "POST", "POST", "POST", "POST", "POST", "GET", "GET", "GET",
            "POST", "PATCH", "GET", "GET", "GET", "GET", "GET", "DELETE", "DELETE",
        ]  # fmt: skip


class TestCors:
    def test_preflight_is_answered_for_every_route(self, epx: Client) -> None:
        response = epx.options(
            "/jobs/register",
            headers={
                "Origin": "http://app.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "offline-token, content-type",
            },
        )
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "offline-token, content-type"

    def test_responses_carry_the_allowed_origin(self, epx_pact: Path) -> None:
        client = Client(create_app([epx_pact], cors_origins="http://a.test, http://b.test"))
        allowed = client.get("/health", headers={"Origin": "http://b.test"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://b.test"
        refused = client.get("/health", headers={"Origin": "http://evil.test"})
        assert "Access-Control-Allow-Origin" not in refused.headers


class TestCreateApp:
    def test_unknown_options_are_refused_by_name(self, epx_pact: Path) -> None:
        with pytest.raises(Exception, match="strict_header"):
            create_app([epx_pact], strict_header=True)

    def test_bad_pacts_raise_one_error_listing_every_problem(self, tmp_path: Path) -> None:
        bad_json = tmp_path / "a.json"
        bad_json.write_text("{", encoding="utf-8")
        missing = tmp_path / "missing.json"
        with pytest.raises(PactLoadError) as caught:
            create_app([bad_json, missing])
        sources = {problem.source for problem in caught.value.problems}
        assert sources == {str(bad_json), str(missing)}


class TestLogging:
    def test_one_line_per_request_names_the_interaction_or_the_reason(
        self, epx: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level("INFO", logger="pactstub")
        post_json(epx, "/jobs/register", {"tags": ["x"]})
        post_json(epx, "/jobs/register", {"tags": ["x"]}, headers={})
        epx.get("/nowhere")
        lines = [r.getMessage() for r in caplog.records if r.name == "pactstub"]
        assert len(lines) == 3
        assert lines[0].startswith("POST /jobs/register 200 -> epx-epistemix: 'a job registration request'")
        assert lines[0].endswith("ms")
        assert "POST /jobs/register 400" in lines[1]
        assert "closest: epx-epistemix#0 'a job registration request'" in lines[1]
        assert "Offline-Token" in lines[1]
        assert lines[2].startswith("GET /nowhere 404")


def test_an_unknown_provider_state_is_explained_not_a_405() -> None:
    interaction = {
        "providerStates": [{"name": "a user exists"}],
        "request": {"method": "GET", "path": "/user"},
        "response": {"status": 200},
    }
    client = Client(create_app([pact_document(interaction)]))
    response = client.get("/user", headers={"X-Pact-Provider-State": "no users"})
    assert response.status_code == 400
    assert response.json is not None
    (mismatch,) = response.json["mismatches"]
    assert mismatch["kind"] == "provider-state"
    assert mismatch["location"] == "header X-Pact-Provider-State"
    assert mismatch["expected"] == ["a user exists"]
    assert mismatch["actual"] == "no users"


@pytest.mark.parametrize("templates", [None, TEMPLATES], ids=["examples", "templates"])
def test_no_malformed_request_gets_a_500(epx_pact: Path, templates: Path | None) -> None:
    """Random bodies, content types, methods and paths: always an answer, never a server error."""
    import random

    epx = Client(create_app([epx_pact], templates=templates))

    chaos = random.Random(20261127)
    bodies = [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"tags": {"$": [1e999]}}',
        b"\x00\xff" * 8,
        b"a=1&a",
        "é".encode("latin-1"),
    ]
    types = [
        "application/json",
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "",
        "*/*;;",
    ]
    paths = [
        "/jobs/register",
        "/jobs",
        "/runs",
        "/runs?job_id=",
        "/runs?job_id=%ff",
        "/runs?id=9",
        "/%00",
        "/jobs/../runs",
    ]
    for _ in range(300):
        body = chaos.choice(bodies) + bytes(chaos.getrandbits(8) for _ in range(chaos.randrange(4)))
        headers = {**EPX_HEADERS, "content-type": chaos.choice(types)}
        method = chaos.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "X-ODD"])
        response = epx.open(chaos.choice(paths), method=method, data=body, headers=headers)
        assert response.status_code < 500, (method, body, headers, response.get_data())
