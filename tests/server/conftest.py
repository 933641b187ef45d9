"""Servers started once per module, and a pact whose responses carry their own framing."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EPX_PACT, TEMPLATES, ServeProcess, pact_document

#: A body limit small enough to go past with a few chunks.
BODY_LIMIT = 1000

EPX_HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "Content-Type": "application/json",
    "fredcli-version": "0.4.0",
    "User-Agent": "epx_client_1.2.2",
}

#: How each server under test is chosen on the command line.
SERVERS = {
    "waitress": [],
    "gunicorn": ["--server", "gunicorn"],
    "werkzeug": ["--server", "werkzeug"],
}


def framing_pact() -> dict[str, Any]:
    """Responses as recorded pacts have them: with their own length and connection headers."""
    recorded = {
        "Content-Type": "application/json",
        "Content-Length": "999",
        "Transfer-Encoding": "chunked",
        "Connection": "keep-alive",
        "Keep-Alive": "timeout=5",
    }
    return pact_document(
        {
            "request": {"method": "GET", "path": "/recorded"},
            "response": {"status": 200, "headers": recorded, "body": {"recorded": True}},
        },
        {
            "request": {"method": "DELETE", "path": "/recorded"},
            "response": {"status": 204, "headers": recorded, "body": {"deleted": True}},
        },
        {
            "request": {"method": "GET", "path": "/unchanged"},
            "response": {"status": 304, "headers": {"ETag": '"v1"'}, "body": {"stale": True}},
        },
    )


@pytest.fixture(scope="module")
def framing_pact_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pacts") / "framing.json"
    path.write_text(json.dumps(framing_pact()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def start_module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServeProcess]]:
    """``start(*args)``: a ``pactstub serve`` for the whole module, on its own SQLite file."""
    started: list[ServeProcess] = []

    def start(*args: str) -> ServeProcess:
        database = tmp_path_factory.mktemp("db") / "store.sqlite3"
        process = ServeProcess(["--port", "0", "--database-url", f"sqlite:///{database}", *args])
        started.append(process)
        return process

    yield start
    for process in started:  # all at once: each takes a moment to finish
        process.process.send_signal(signal.SIGTERM)
    for process in started:
        process.stop()


def epx_server_args(*extra: str) -> list[str]:
    """The Epistemix pact with its templates (a registration saves a job) and a small body limit."""
    args = ["--pact", str(EPX_PACT), "--templates", str(TEMPLATES)]
    return [*args, "--max-body-size", str(BODY_LIMIT), *extra]
