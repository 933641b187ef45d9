"""The store failing under a running stub: answered 503, told to no one's harm, recovered from.

PostgreSQL is reached through a forwarder the test controls (``tests.stall``): frozen (no
byte moves, nothing is refused) or cut (every connection closed). The stub runs as
``pactstub serve`` on a real socket, with a one-second database timeout. A SQLite file is
deleted or replaced under an app serving from it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from werkzeug.test import Client

from pactstub import create_app
from pactstub.app import StubApp
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, ServeProcess
from tests.stall import StallingForwarder
from tests.test_epistemix import HEADERS

#: The stub's database timeout in these tests, in seconds.
TIMEOUT_S = 1.0
#: How long a client waits before calling the stub hung: far beyond the timeout.
HUNG_S = 15.0


def register(url: str) -> requests.Response:
    return requests.post(f"{url}/jobs/register", json={"tags": ["outage"]}, headers=HEADERS, timeout=HUNG_S)


def recovered(url: str, within_s: float = 30.0) -> bool:
    """Whether ``/health`` says healthy again before ``within_s`` passes."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if requests.get(f"{url}/health", timeout=HUNG_S).status_code == 200:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def forwarder(postgres_url: str) -> Iterator[StallingForwarder]:
    url = sa.make_url(postgres_url)
    with StallingForwarder((url.host or "127.0.0.1", url.port or 5432)) as made:
        yield made


@pytest.fixture
def stub(serve: Any, postgres_url: str, forwarder: StallingForwarder) -> ServeProcess:
    """``pactstub serve`` with the Epistemix templates on PostgreSQL, through the forwarder."""
    through = sa.make_url(postgres_url).set(host="127.0.0.1", port=forwarder.port)
    server: ServeProcess = serve(
        "--pact", str(EPX_PACT), "--pact", str(S3_PACT), "--templates", str(TEMPLATES),
        "--database-url", through.render_as_string(hide_password=False),
        "--database-timeout", str(TIMEOUT_S), "--port", "0",
    )  # fmt: skip
    return server


def assert_unavailable(response: requests.Response, postgres_url: str, forwarder: StallingForwarder) -> None:
    """503 with Retry-After, a JSON body naming neither the host, the port nor the user."""
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Content-Type"] == "application/json"
    url = sa.make_url(postgres_url)
    for secret in (url.host, str(forwarder.port), url.username, url.password, url.database):
        if secret:
            assert secret not in response.text


@pytest.mark.postgres
class TestPostgresOutages:
    def test_a_frozen_database_is_a_503_then_the_stub_recovers(
        self, stub: ServeProcess, forwarder: StallingForwarder, postgres_url: str
    ) -> None:
        assert register(stub.url).json()["id"] == 123
        forwarder.freeze()
        assert_unavailable(register(stub.url), postgres_url, forwarder)
        health = requests.get(f"{stub.url}/health", timeout=HUNG_S)
        assert_unavailable(health, postgres_url, forwarder)
        assert health.json()["status"] == "unhealthy"
        forwarder.restore()
        assert recovered(stub.url)
        assert register(stub.url).json()["id"] == 124  # the refused registration took no id

    def test_a_database_that_is_gone_is_a_503_then_the_stub_recovers(
        self, stub: ServeProcess, forwarder: StallingForwarder, postgres_url: str
    ) -> None:
        assert register(stub.url).json()["id"] == 123
        forwarder.cut()
        assert_unavailable(register(stub.url), postgres_url, forwarder)
        assert requests.get(f"{stub.url}/health", timeout=HUNG_S).status_code == 503
        forwarder.restore()
        assert recovered(stub.url)
        assert register(stub.url).json()["id"] == 124

    def test_requests_answered_during_an_outage_reach_the_journal_afterwards(
        self, stub: ServeProcess, forwarder: StallingForwarder
    ) -> None:
        forwarder.cut()
        assert register(stub.url).status_code == 503
        forwarder.restore()
        assert recovered(stub.url)
        entries = requests.get(f"{stub.url}/_pactstub/requests", timeout=HUNG_S).json()
        refused = [e for e in entries if e["path"] == "/jobs/register"]
        assert [(e["status"], e["problem"]) for e in refused] == [(503, "store-unavailable")]
        stub.stop()
        assert "the store is unavailable" in stub.stderr  # the log has the details, not the client


# ------------------------------------------------------------------ SQLite


def sqlite_app(database: Path) -> StubApp:
    return create_app([EPX_PACT, S3_PACT], templates=TEMPLATES, database_url=f"sqlite:///{database}")


def post_register(client: Client) -> tuple[int, Any]:
    response = client.post("/jobs/register", data=json.dumps({"tags": ["file"]}), headers=HEADERS)
    return response.status_code, response.json


def remove_database(database: Path) -> None:
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)


def stored_job_ids(database: Path) -> list[int]:
    app = sqlite_app(database)
    try:
        with app.store.unit() as unit:
            return sorted(record.id for record in unit.find("jobs"))
    finally:
        app.close()


class TestSqliteFileSwaps:
    def test_a_deleted_file_is_refused_and_nothing_is_acknowledged_into_it(self, tmp_path: Path) -> None:
        database = tmp_path / "store.sqlite3"
        app = sqlite_app(database)
        client = Client(app)
        assert post_register(client) == (200, {"id": 123, "userId": 456, "tags": ["file"]})
        remove_database(database)
        status, body = post_register(client)
        assert status == 503
        assert body == {"error": "the store is unavailable", "retry_after": 1}
        assert client.get("/health").status_code == 503
        app.close()
        # a restart makes a new, empty file: nothing was acknowledged after the deletion
        assert stored_job_ids(database) == []

    def test_a_replaced_file_is_refused_and_a_restart_carries_on_from_the_new_file(
        self, tmp_path: Path
    ) -> None:
        database, copy = tmp_path / "store.sqlite3", tmp_path / "copy.sqlite3"
        app = sqlite_app(database)
        client = Client(app)
        assert [post_register(client)[1]["id"] for _ in range(2)] == [123, 124]
        with sqlite3.connect(database) as live, sqlite3.connect(copy) as backup:
            live.backup(backup)  # a consistent copy with jobs 123 and 124
        assert post_register(client)[1]["id"] == 125
        remove_database(database)
        shutil.move(copy, database)
        assert post_register(client)[0] == 503
        assert client.get("/health").status_code == 503
        app.close()
        assert stored_job_ids(database) == [123, 124]
        restarted = sqlite_app(database)
        try:
            assert post_register(Client(restarted))[1]["id"] == 125
        finally:
            restarted.close()
        assert stored_job_ids(database) == [123, 124, 125]
