"""``GET /metrics``: what the stub answered, how fast, and how its store is doing, for Prometheus.

Read back with prometheus-client's own parser, so the output is checked as Prometheus reads it.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from pactstub import create_app
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, pact_document

HEADERS = {
    "Offline-Token": "Bearer t",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}
REGISTRATION = "a job registration request"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample as ``(name, labels) -> value``."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def register(stub: Client, body: Any = None, **headers: str) -> int:
    response = stub.post(
        "/jobs/register", data=json.dumps(body or {"tags": ["t"]}), headers={**HEADERS, **headers}
    )
    return response.status_code


@pytest.fixture
def stub() -> Client:
    return Client(create_app([EPX_PACT, S3_PACT], templates=TEMPLATES))


def scrape(stub: Client, path: str = "/metrics", **headers: str) -> str:
    response = stub.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.get_data(as_text=True)


def test_requests_are_counted_by_interaction_status_and_outcome(stub: Client) -> None:
    assert register(stub) == 200
    assert register(stub) == 200
    assert register(stub, {"tags": ["t"], "extra": 1}) == 400
    stub.get("/nowhere")
    text = scrape(stub)
    matched = {"pact": "epx-epistemix", "interaction": REGISTRATION, "status": "200", "outcome": "matched"}
    assert value(text, "pactstub_requests_total", **matched) == 2
    missed = {"pact": "", "interaction": "", "status": "400", "outcome": "mismatch"}
    assert value(text, "pactstub_requests_total", **missed) == 1
    not_found = {"pact": "", "interaction": "", "status": "404", "outcome": "not-found"}
    assert value(text, "pactstub_requests_total", **not_found) == 1
    closest = {"pact": "epx-epistemix", "closest": REGISTRATION}
    assert value(text, "pactstub_unmatched_requests_total", **closest) == 1
    assert value(text, "pactstub_request_seconds_count") == 4


def test_render_and_store_latencies_are_histograms(stub: Client) -> None:
    register(stub)
    text = scrape(stub)
    labels = {"pact": "epx-epistemix", "interaction": REGISTRATION}
    assert value(text, "pactstub_render_seconds_count", **labels) == 1
    assert value(text, "pactstub_render_seconds_bucket", le="+Inf", **labels) == 1
    # the template's unit of work at least, and the journal's writes
    store_count = value(text, "pactstub_store_seconds_count")
    assert store_count is not None
    assert store_count >= 1


def test_the_journal_size_and_the_store_are_reported(stub: Client) -> None:
    register(stub)
    stub.get("/health")
    text = scrape(stub)
    assert value(text, "pactstub_journal_entries") == 2
    size = value(text, "pactstub_journal_bytes")
    assert size is not None
    assert size > 0
    assert value(text, "pactstub_store_up") == 1


def test_a_store_that_cannot_be_reached_is_reported_down() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stub = Client(create_app([EPX_PACT], database_url=f"postgresql://postgres@127.0.0.1:{port}/none"))
    assert stub.get("/health").status_code == 503
    text = scrape(stub)
    assert value(text, "pactstub_store_up") == 0
    assert value(text, "pactstub_journal_entries") is None, "no size is made up when it cannot be read"


def test_metrics_never_show_what_a_request_carried(stub: Client) -> None:
    secret = "s3cr3t-8c1f"
    register(stub, {"tags": [secret]}, **{"Offline-Token": f"Bearer {secret}"})
    register(stub, {"tags": [secret], "password": secret}, Authorization=f"Bearer {secret}")
    stub.get(f"/jobs/{secret}?token={secret}", headers={"Cookie": f"session={secret}"})
    stub.get(f"/{secret}")
    text = scrape(stub)
    assert "pactstub_requests_total" in text
    assert secret not in text


def test_the_admin_token_guards_the_metrics() -> None:
    stub = Client(create_app([EPX_PACT], admin_token="letmein"))
    assert stub.get("/metrics").status_code == 401
    assert stub.get("/_pactstub/metrics").status_code == 401
    assert stub.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert "pactstub_requests_total" in scrape(stub, Authorization="Bearer letmein")


def test_a_pact_that_uses_the_path_keeps_it(write_pact: Any) -> None:
    interaction = {
        "request": {"method": "GET", "path": "/metrics"},
        "response": {"status": 200, "body": {"theirs": True}},
    }
    stub = Client(create_app([write_pact(pact_document(interaction))]))
    assert stub.get("/metrics").json == {"theirs": True}
    assert "pactstub_requests_total" in scrape(stub, "/_pactstub/metrics")


def test_workers_add_up_their_counts(serve: Any, tmp_path: Path) -> None:
    """Each of two gunicorn workers counts its own requests; a scrape shows them all."""
    server = serve(
        "--pact", str(EPX_PACT), "--port", "0", "--workers", "2",
        "--database-url", f"sqlite:///{tmp_path / 'store.sqlite3'}",
        env={"TMPDIR": str(tmp_path)},
    )  # fmt: skip
    folders = list(tmp_path.glob("pactstub-metrics-*"))
    assert len(folders) == 1, "the workers' metrics live in a folder made for this run"
    requests = 0
    while len(list(folders[0].glob("counter_*.db"))) < 2 and requests < 200:
        # a new connection each, until both workers have answered some (each counts into its own file)
        with urllib.request.urlopen(server.url + "/health", timeout=10) as response:
            assert response.status == 200
        requests += 1
    assert len(list(folders[0].glob("counter_*.db"))) == 2, "both workers answered"
    for _ in range(4):  # whichever worker answers the scrape, it counts every worker's requests
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        builtin = {"pact": "", "interaction": "", "status": "200", "outcome": "matched"}
        assert value(text, "pactstub_requests_total", **builtin) == requests
        assert value(text, "pactstub_store_up") == 1
    assert server.stop() == 0
    assert not folders[0].exists(), "the folder is removed when the stub stops"
