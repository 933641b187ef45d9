"""``GET /_pactstub/``: the dashboard's page and fragments, as HTML over HTTP.

What a browser makes of them (the live journal, clicking a request, the reset button) is
checked in ``test_dashboard_browser.py``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, pact_document

HEADERS = {
    "Offline-Token": "Bearer t",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}
TOKEN = {"Authorization": "Bearer letmein"}


def register(stub: Client, body: Any = None, **headers: str) -> int:
    data = json.dumps(body if body is not None else {"tags": ["t"]})
    return stub.post("/jobs/register", data=data, headers={**HEADERS, **headers}).status_code


def html(stub: Client, path: str, **headers: str) -> str:
    response = stub.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return response.get_data(as_text=True)


def sequences(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-sequence="(\d+)"', text)]


@pytest.fixture
def stub() -> Client:
    return Client(create_app([EPX_PACT, S3_PACT], templates=TEMPLATES))


def test_the_page_shows_requests_records_counters_and_interactions(stub: Client) -> None:
    register(stub)
    register(stub, {"tags": ["t"], "surprise": 1})
    page = html(stub, "/_pactstub/")
    assert sequences(page) == [2, 1], "newest first"
    assert "a job registration request" in page
    assert '<tr data-id="123">' in page, "the job the first request stored"
    assert "<td>jobs</td><td>123</td>" in page, "its counter"
    assert "template epx-epistemix/a-job-registration-request.json.j2" in page
    assert "QUEUED (1 read &rarr; RUNNING)" in page, "the runs lifecycle"
    assert 'class="miss"' in page


def test_the_page_allows_only_its_own_script_and_style(stub: Client) -> None:
    response = stub.get("/_pactstub/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in response.get_data(as_text=True), "no inline script"
    script = stub.get("/_pactstub/static/dashboard.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert stub.get("/_pactstub/static/dashboard.css").status_code == 200
    assert stub.get("/_pactstub/static/secrets.txt").status_code == 404


def test_what_clients_send_is_shown_as_text_never_markup(stub: Client) -> None:
    register(stub, {"tags": ["<b>bold</b>"]})
    stub.get("/<script>alert(1)</script>")
    page = html(stub, "/_pactstub/")
    assert "<script>alert(1)" not in page
    assert "/&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_the_journal_fragment_brings_what_is_new(stub: Client) -> None:
    register(stub)
    first = stub.get("/_pactstub/dashboard/journal")
    assert first.headers["X-Journal-Newest"] == "1"
    register(stub)
    register(stub)
    newer = stub.get("/_pactstub/dashboard/journal?after=1")
    assert sequences(newer.get_data(as_text=True)) == [3, 2]
    assert newer.headers["X-Journal-Newest"] == "3"
    nothing = stub.get("/_pactstub/dashboard/journal?after=3")
    assert sequences(nothing.get_data(as_text=True)) == []
    assert nothing.headers["X-Journal-Newest"] == "3"
    stub.post("/_pactstub/reset")
    assert stub.get("/_pactstub/dashboard/journal?after=3").headers["X-Journal-Newest"] == "0"
    assert stub.get("/_pactstub/dashboard/journal?after=x").status_code == 400


def test_a_miss_is_shown_beside_its_closest_interaction(stub: Client) -> None:
    register(stub, {"tags": "not a list"})
    detail = html(stub, "/_pactstub/dashboard/requests/1")
    assert "Closest interaction: <strong>a job registration request</strong>" in detail
    marked = re.findall(r'<span class="line missed">([^<]*)</span>', detail)
    assert marked == [
        "  &#34;tags&#34;: [",
        "    &#34;info_job&#34;",
        "  ]",
        "  &#34;tags&#34;: &#34;not a list&#34;",
    ]
    assert "$.body.tags -&gt; " in detail
    assert stub.get("/_pactstub/dashboard/requests/99").status_code == 404


def test_a_matched_request_is_shown_beside_its_interaction(stub: Client) -> None:
    register(stub)
    detail = html(stub, "/_pactstub/dashboard/requests/1")
    assert "Answered by <strong>a job registration request</strong>" in detail
    assert 'class="line missed"' not in detail


def test_the_store_fragment_shows_the_session_picked(stub: Client) -> None:
    register(stub)
    register(stub, **{"X-Pactstub-Session": "team-b"})
    register(stub, **{"X-Pactstub-Session": "team-b"})
    store = html(stub, "/_pactstub/dashboard/store?session=team-b")
    assert '<option value="team-b" selected>team-b</option>' in store
    assert '<option value="default">default</option>' in store
    assert "2 records" in store
    default = html(stub, "/_pactstub/dashboard/store")
    assert "1 record" in default
    assert "2 records" not in default


def test_shadowed_interactions_are_noted(write_pact: Any) -> None:
    same = {"request": {"method": "GET", "path": "/x"}, "response": {"status": 200}}
    stub = Client(create_app([write_pact(pact_document(same, same))]))
    fragment = html(stub, "/_pactstub/dashboard/interactions")
    assert "shadowed by #0 <q>interaction 0</q>, which answers its own example" in fragment


class TestWithAnAdminToken:
    @pytest.fixture
    def stub(self) -> Client:
        return Client(create_app([EPX_PACT], templates=TEMPLATES, admin_token="letmein"))

    def test_the_page_loads_without_the_token_but_shows_nothing(self, stub: Client) -> None:
        register(stub)
        page = html(stub, "/_pactstub/")
        assert 'id="token-form"' in page
        assert "enter it to see its state" in page
        assert "a job registration request" not in page
        assert sequences(page) == []
        assert stub.get("/_pactstub/static/dashboard.js").status_code == 200

    def test_the_fragments_need_the_token(self, stub: Client) -> None:
        register(stub)
        for fragment in ("journal", "requests/1", "store", "interactions"):
            assert stub.get(f"/_pactstub/dashboard/{fragment}").status_code == 401
            assert stub.get(f"/_pactstub/dashboard/{fragment}", headers=TOKEN).status_code == 200

    def test_with_the_token_the_page_is_whole(self, stub: Client) -> None:
        register(stub)
        page = html(stub, "/_pactstub/", **TOKEN)
        assert sequences(page) == [1]
        assert "a job registration request" in page
