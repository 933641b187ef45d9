"""The examples of the README's "Use it in your tests" section, run as tests.

Each example below is quoted in the README as it stands here; change both together.
They run from the repository root, as a user's tests run from theirs.
"""

from pathlib import Path

import httpx
import pytest
import requests
from werkzeug.test import Client

from pactstub import create_app
from pactstub.testing import StubServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


# --8<-- [start:headers]
HEADERS = {
    "Offline-Token": "Bearer my-token",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}
# --8<-- [end:headers]


# --8<-- [start:stub-server]
def test_register_a_job():
    with StubServer(["pacts/epx-epistemix.json"]) as stub:
        response = requests.post(stub.url_for("/jobs/register"), json={"tags": ["demo"]}, headers=HEADERS)
        assert response.status_code == 200
        assert response.json()["id"] == 123
        stub.assert_called("a job registration request", times=1)
    # Leaving the block stops the server, and fails the test if any request matched no interaction.


# --8<-- [end:stub-server]


# --8<-- [start:fixture]
@pytest.mark.pactstub(pacts=["pacts/epx-epistemix.json"], templates="templates")
def test_job_ids_count_up(pactstub):
    def register():
        response = requests.post(pactstub.url_for("/jobs/register"), json={"tags": []}, headers=HEADERS)
        return response.json()["id"]

    assert [register(), register()] == [123, 124]  # every test starts again from 123
    assert [entry.interaction for entry in pactstub.requests] == ["a job registration request"] * 2


# --8<-- [end:fixture]


# --8<-- [start:wsgi]
def test_without_a_socket():
    client = Client(create_app(["pacts/epx-epistemix.json"]))
    response = client.get("/runs?job_id=123", headers=HEADERS)
    assert response.status_code == 200
    assert response.json["runs"][0]["jobId"] == 123


def test_with_httpx_and_no_socket():
    transport = httpx.WSGITransport(app=create_app(["pacts/epx-epistemix.json"]))
    with httpx.Client(transport=transport, base_url="http://stub") as client:
        response = client.get("/runs", params={"job_id": 123}, headers=HEADERS)
        assert response.json()["runs"][0]["jobId"] == 123


# --8<-- [end:wsgi]


def test_the_readme_quotes_these_examples() -> None:
    """The code blocks of the README's "Use it in your tests" are the examples above, verbatim."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Use it in your tests" in text
    source = Path(__file__).read_text(encoding="utf-8")
    for name in ("headers", "stub-server", "fixture", "wsgi"):
        example = source.split(f"# --8<-- [start:{name}]\n", 1)[1].split(f"# --8<-- [end:{name}]", 1)[0]
        assert example.strip() in text, f"the README's {name!r} example differs from {Path(__file__).name}"
