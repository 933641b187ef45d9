"""``pactstub serve`` as a user runs it: a subprocess on a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

EPX_HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}


def serve_until_exit(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``pactstub serve ARGS`` when it is expected to stop by itself (an error)."""
    command = [sys.executable, "-m", "pactstub", "serve", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def fetch(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_serves_the_epistemix_pact_and_says_what_it_loaded(
    serve: Any, epx_pact: Path, tmp_path: Path
) -> None:
    server = serve("--pact", str(epx_pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db")
    assert server.url.startswith("http://127.0.0.1:")
    status, body = fetch(f"{server.url}/runs?job_id=5", headers=EPX_HEADERS)
    assert status == 200
    assert "runs" in body
    assert fetch(f"{server.url}/health")[1]["status"] == "healthy"
    assert server.stop() == 0
    assert "stopped" in server.stderr


def test_the_banner_lists_pacts_interactions_and_routes(serve: Any, epx_pact: Path, tmp_path: Path) -> None:
    server = serve("--pact", str(epx_pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db")
    lines = [server.process.stdout.readline() for _ in range(4)]
    assert "epx-epistemix.json: epx -> Epistemix, 17 interactions" in lines[0]
    assert "17 interactions on 10 routes" in lines[1]


def test_the_original_mocks_environment_variables_still_work(
    serve: Any, epx_pact: Path, tmp_path: Path
) -> None:
    env = {
        "FLASK_PORT": "0",
        "CORS_ORIGINS": "http://only.test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/e.db",
    }
    server = serve("--pact", str(epx_pact), env=env)
    request = urllib.request.Request(f"{server.url}/health", headers={"Origin": "http://only.test"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "http://only.test"
    assert (tmp_path / "e.db").exists()


def test_concurrent_requests_are_served(serve: Any, epx_pact: Path, tmp_path: Path) -> None:
    server = serve("--pact", str(epx_pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: fetch(f"{server.url}/runs?job_id={i}", headers=EPX_HEADERS), range(40))
        )
    assert [status for status, _ in results] == [200] * 40


def test_a_bad_pact_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"interactions": [{"description": 1}]}', encoding="utf-8")
    result = serve_until_exit("--pact", str(bad), "--port", "0")
    assert result.returncode == 2
    assert f"{bad}: $.interactions[0].description" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_is_a_clear_error(serve: Any, epx_pact: Path, tmp_path: Path) -> None:
    first = serve("--pact", str(epx_pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db")
    port = first.url.rsplit(":", 1)[1]
    result = serve_until_exit(
        "--pact", str(epx_pact), "--port", port, "--database-url", f"sqlite:///{tmp_path}/t.db"
    )
    assert result.returncode == 1
    assert f"Port {port} is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigint_stops_the_server_cleanly_and_frees_the_port(
    serve: Any, epx_pact: Path, tmp_path: Path
) -> None:
    import signal
    import socket

    server = serve("--pact", str(epx_pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db")
    port = int(server.url.rsplit(":", 1)[1])
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    server.stop()
    assert "Traceback" not in server.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_gunicorn_serves_one_worker_with_keep_alive(serve: Any, epx_pact: Path, tmp_path: Path) -> None:
    import http.client

    server = serve(
        "--pact",
        str(epx_pact),
        "--port",
        "0",
        "--server",
        "gunicorn",
        "--database-url",
        f"sqlite:///{tmp_path}/g.db",
    )
    assert "(1 worker)" in server.banner
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for job in (1, 2):
            connection.request("GET", f"/runs?job_id={job}", headers=EPX_HEADERS)
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            assert response.getheader("Connection", "keep-alive").lower() != "close"
    finally:
        connection.close()


def test_werkzeug_cannot_run_several_workers(epx_pact: Path) -> None:
    result = serve_until_exit("--pact", str(epx_pact), "--server", "werkzeug", "--workers", "2")
    assert result.returncode == 2
    assert "--server gunicorn" in result.stderr
