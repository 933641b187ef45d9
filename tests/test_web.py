"""The URLs the stub hands out: the public URL when set, forwarded headers only from trusted proxies,
and a Host header that is not a host refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import EPX_PACT, TEMPLATES
from tests.hostile import EPX_HEADERS

UPLOAD = json.dumps({"jobId": 123, "context": "job", "type": "input"})
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example", "X-Forwarded-For": "10.0.0.9"}


def upload_url(host: str = "stub.test:5000", headers: dict[str, str] | None = None, **options: Any) -> str:
    """The upload URL the Epistemix templates hand out for a request sent to ``host``."""
    app = create_app([EPX_PACT], templates=TEMPLATES, **options)
    try:
        response = Client(app).post(
            "/jobs", data=UPLOAD, headers={**EPX_HEADERS, "Host": host, **(headers or {})}
        )
    finally:
        app.close()
    assert response.status_code == 200, response.get_data()
    assert response.json is not None
    return str(response.json["url"])


class TestPublicUrl:
    def test_without_it_urls_follow_the_address_the_client_used(self) -> None:
        assert upload_url("stub.test:5000") == "http://stub.test:5000/pre-signed-url"

    def test_with_it_no_host_header_changes_them(self) -> None:
        public = "https://sandbox.example/epx"
        assert upload_url("attacker.example", public_url=public) == f"{public}/pre-signed-url"
        assert upload_url("stub.test", FORWARDED, public_url=public) == f"{public}/pre-signed-url"


class TestTrustedProxies:
    def test_forwarded_headers_are_ignored_by_default(self) -> None:
        assert upload_url("stub.test", FORWARDED) == "http://stub.test/pre-signed-url"

    def test_they_are_honoured_from_as_many_proxies_as_trusted(self) -> None:
        url = upload_url("internal:8080", FORWARDED, trusted_proxies=1)
        assert url == "https://proxy.example/pre-signed-url"


@pytest.mark.parametrize(
    "host", ["attacker.example/pre-signed-url", "a b", "host:port", "x@evil.example", "[::1"], ids=repr
)
def test_a_host_header_that_is_no_host_is_400_and_journaled(host: str) -> None:
    app = create_app([EPX_PACT], templates=TEMPLATES)
    client = Client(app)
    response = client.post("/jobs", data=UPLOAD, headers={**EPX_HEADERS, "Host": host})
    assert response.status_code == 400
    assert response.json == {"error": "bad request", "message": f"invalid Host header {host!r}"}
    (entry,) = app.journal.entries()
    assert (entry.path, entry.status, entry.problem) == ("/jobs", 400, "bad-request")
    app.close()
