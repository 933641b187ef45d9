"""The admin endpoints on a shared stub: a token when set, no calls from other sites' pages, no CORS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import EPX_PACT, TEMPLATES

TOKEN = "s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CROSS_SITE = [{"Origin": "http://evil.test"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}]
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")


@pytest.fixture
def guarded() -> Any:
    app = create_app([EPX_PACT], templates=TEMPLATES, admin_token=TOKEN)
    yield Client(app)
    app.close()


@pytest.fixture
def open_admin() -> Any:
    app = create_app([EPX_PACT], templates=TEMPLATES)
    yield Client(app)
    app.close()


#: The dashboard's page, script and style: they hold no data, and load without the token.
PUBLIC = {"/_pactstub/", "/_pactstub/static/<name>"}


def readable_endpoints(client: Client) -> list[str]:
    """Every admin path the stub lists (so an endpoint added later is covered), made concrete."""
    listing = client.get("/_pactstub/no-such-endpoint", headers=BEARER).json
    assert listing is not None
    paths = [
        path.replace("<collection>", "jobs").replace("<int:record_id>", "1").replace("<int:sequence>", "1")
        for path in listing["endpoints"]
        if path not in PUBLIC
    ]
    assert {"/_pactstub/requests", "/metrics"} <= set(paths)
    return paths


class TestToken:
    def test_every_admin_endpoint_needs_it(self, guarded: Client) -> None:
        for path in readable_endpoints(guarded):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                response = guarded.get(path, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.headers["WWW-Authenticate"] == 'Bearer realm="pactstub admin"'
                assert response.json == {
                    "error": "the admin endpoints need Authorization: Bearer <admin token>"
                }

    def test_with_it_every_admin_endpoint_answers(self, guarded: Client) -> None:
        for path in readable_endpoints(guarded):
            assert guarded.get(path, headers=BEARER).status_code in (200, 404, 405), path
        assert guarded.post("/_pactstub/reset", headers=BEARER).status_code == 200

    def test_the_contract_routes_never_need_it(self, guarded: Client) -> None:
        assert guarded.get("/health").status_code == 200
        assert guarded.get("/runs?job_id=1", headers={"Authorization": "Bearer other"}).status_code == 400

    def test_serve_reads_it_from_the_environment(self, serve: Any, tmp_path: Path) -> None:
        server = serve(
            "--pact", str(EPX_PACT), "--port", "0", "--database-url", f"sqlite:///{tmp_path / 's.sqlite3'}",
            env={"PACTSTUB_ADMIN_TOKEN": TOKEN},
        )  # fmt: skip
        assert status_of(f"{server.url}/_pactstub/state") == 401
        assert status_of(f"{server.url}/_pactstub/state", BEARER) == 200
        assert TOKEN not in server.log()


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


class TestOtherSites:
    @pytest.mark.parametrize("headers", CROSS_SITE, ids=["origin", "null-origin", "sec-fetch-site"])
    def test_a_state_changing_call_from_another_sites_page_is_refused(
        self, open_admin: Client, headers: dict[str, str]
    ) -> None:
        open_admin.post("/jobs/register", data=json.dumps({"tags": ["kept"]}), headers=epx_headers())
        response = open_admin.post("/_pactstub/reset", headers=headers)
        assert response.status_code == 403
        assert response.json == {"error": "a state-changing admin call from another site's page is refused"}
        state = open_admin.get("/_pactstub/state").json
        assert state is not None
        assert state["collections"] == {"jobs": 1}

    @pytest.mark.parametrize("headers", CROSS_SITE, ids=["origin", "null-origin", "sec-fetch-site"])
    def test_even_with_the_token(self, guarded: Client, headers: dict[str, str]) -> None:
        assert guarded.delete("/_pactstub/requests", headers={**BEARER, **headers}).status_code == 403

    @pytest.mark.parametrize(
        "headers",
        [{}, {"Origin": "http://localhost"}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}],
        ids=["no-origin", "same-origin", "fetch-same-origin", "typed-in"],
    )
    def test_from_the_stubs_own_site_or_no_page_it_is_done(
        self, open_admin: Client, headers: dict[str, str]
    ) -> None:
        assert open_admin.post("/_pactstub/reset", headers=headers).status_code == 200

    def test_reads_from_anywhere_carry_no_cors_headers(self, open_admin: Client) -> None:
        response = open_admin.get("/_pactstub/requests", headers={"Origin": "http://evil.test"})
        assert response.status_code == 200
        assert not [name for name in CORS_HEADERS if name in response.headers]
        contract = open_admin.get("/health", headers={"Origin": "http://evil.test"})
        assert contract.headers["Access-Control-Allow-Origin"] == "*"  # the contract's routes do CORS

    def test_no_preflight_is_answered(self, open_admin: Client) -> None:
        preflight = {
            "Origin": "http://evil.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        response = open_admin.options("/_pactstub/reset", headers=preflight)
        assert response.status_code >= 400
        assert not [name for name in CORS_HEADERS if name in response.headers]


def epx_headers() -> dict[str, str]:
    return {
        "Offline-Token": "Bearer t",
        "content-type": "application/json",
        "fredcli-version": "0.4.0",
        "user-agent": "epx_client_1.2.2",
    }
