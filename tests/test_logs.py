"""``--log-format json``: one JSON object per line, with the facts of each request and lifecycle event."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import EPX_PACT, TEMPLATES, epx_run_request

HEADERS = {
    "Offline-Token": "Bearer t",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}


def call(url: str, method: str = "GET", body: Any = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, HEADERS, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def lines_of(log: str) -> list[dict[str, Any]]:
    """Every line of the log as JSON (failing on the first that is not)."""
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def test_requests_and_lifecycle_events_are_json_objects(serve: Any, tmp_path: Path) -> None:
    server = serve(
        "--pact", str(EPX_PACT), "--templates", str(TEMPLATES), "--port", "0", "--log-format", "json",
        "--database-url", f"sqlite:///{tmp_path / 'store.sqlite3'}",
    )  # fmt: skip
    assert call(server.url + "/jobs/register", "POST", {"tags": ["t"]}) == 200
    assert call(server.url + "/runs", "POST", epx_run_request(123)) == 200
    assert call(server.url + "/runs?id=978") == 200
    assert call(server.url + "/jobs/register", "POST", {"tags": ["t"], "surprise": 1}) == 400
    server.stop()
    logged = lines_of(server.stderr)
    requests = [line for line in logged if line.get("event") == "request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("POST", "/jobs/register", 200),
        ("POST", "/runs", 200),
        ("GET", "/runs", 200),
        ("POST", "/jobs/register", 400),
    ]
    first = requests[0]
    assert first["interaction"] == "a job registration request"
    assert first["pact"] == "epx-epistemix"
    assert first["session"] == "default"
    assert first["level"] == "info"
    assert isinstance(first["duration_ms"], float)
    assert first["time"].endswith("+00:00")
    assert requests[2]["query"] == "id=978"
    miss = requests[3]
    assert miss["level"] == "warning"
    assert miss["interaction"] is None
    assert miss["problem"] == "mismatch"
    assert miss["closest"]["interaction"] == "a job registration request"
    assert miss["closest"]["mismatch"]["location"] == "$.body"
    assert "surprise" in miss["closest"]["mismatch"]["message"]
    moves = [(e["collection"], e["id"], e["from"], e["to"]) for e in logged if e.get("event") == "lifecycle"]
    assert moves == [("runs", 978, None, "QUEUED"), ("runs", 978, "QUEUED", "RUNNING")]


def test_gunicorn_lines_are_json_too(serve: Any, tmp_path: Path) -> None:
    server = serve(
        "--pact", str(EPX_PACT), "--port", "0", "--workers", "2", "--log-format", "json",
        "--database-url", f"sqlite:///{tmp_path / 'store.sqlite3'}",
    )  # fmt: skip
    assert call(server.url + "/health") == 200
    server.stop()
    logged = lines_of(server.stderr)
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in logged)
    assert any(line.get("event") == "request" and line["path"] == "/health" for line in logged)


def test_text_stays_the_default(serve: Any, tmp_path: Path) -> None:
    server = serve("--pact", str(EPX_PACT), "--port", "0", "--database-url", f"sqlite:///{tmp_path / 's.db'}")
    assert call(server.url + "/nowhere") == 404
    server.stop()
    line = next(line for line in server.stderr.splitlines() if "/nowhere" in line)
    assert " WARNING pactstub: GET /nowhere 404 GET /nowhere: no interaction has this path" in line
    assert not line.startswith("{")
