"""``pactstub serve`` as a user runs it: a subprocess on a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pactstub.cli import main
from tests.conftest import pact_document

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
    assert result.returncode == 3, "unavailable, not unusable: the same command works once the port is free"
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


def test_werkzeug_cannot_run_several_workers(epx_pact: Path, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/s.db"
    result = serve_until_exit(
        "--pact", str(epx_pact), "--server", "werkzeug", "--workers", "2", "--database-url", database
    )
    assert result.returncode == 2
    assert "server werkzeug runs one process; use server gunicorn" in result.stderr


def test_a_shadowed_interaction_is_logged_at_start(serve: Any, write_pact: Any, tmp_path: Path) -> None:
    def hello(description: str) -> dict[str, Any]:
        return {"description": description, "request": {"method": "GET", "path": "/hello"}, "response": {}}

    pact = write_pact(pact_document(hello("a greeting"), hello("the same greeting again")))
    server = serve("--pact", str(pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db")
    assert server.stop() == 0
    assert "WARNING pactstub: #1 'the same greeting again' is shadowed by #0 'a greeting'" in server.stderr


def test_a_database_that_cannot_be_reached_exits_3_not_2(epx_pact: Path) -> None:
    """The command was right and the database down: exit 3, unlike a usage error's 2."""
    result = serve_until_exit(
        "--pact", str(epx_pact), "--port", "0", "--database-url", "postgresql://me:s3cret@127.0.0.1:1/x"
    )
    assert result.returncode == 3
    assert "pactstub: error: cannot upgrade database" in result.stderr
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_outside_0_to_65535_is_refused(cli: CliRunner, epx_pact: Path, port: str) -> None:
    result = cli.invoke(main, ["serve", "--pact", str(epx_pact), "--port", port])
    assert result.exit_code == 2
    assert "0<=x<=65535" in result.output


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_an_in_memory_store_cannot_be_shared_by_workers(cli: CliRunner, epx_pact: Path, url: str) -> None:
    result = cli.invoke(main, ["serve", "--pact", str(epx_pact), "--workers", "2", "--database-url", url])
    assert result.exit_code == 2
    assert "is not shared between worker processes" in result.output


def test_every_option_shows_its_environment_variable_in_help(cli: CliRunner) -> None:
    serve_help = cli.invoke(main, ["serve", "--help"], terminal_width=200).output
    for variable in (
        "PACTSTUB_PORT", "PACTSTUB_TIMEOUT", "PACTSTUB_TLS_CERT", "PACTSTUB_MAX_BODY_SIZE",
        "PACTSTUB_DATABASE_TIMEOUT", "PACTSTUB_RENDER_TIMEOUT", "PACTSTUB_RENDER_MAX_BYTES",
        "PACTSTUB_ADMIN_TOKEN", "PACTSTUB_PUBLIC_URL", "PACTSTUB_TRUSTED_PROXIES",
    ):  # fmt: skip
        assert f"env var: {variable}" in serve_help or f", {variable}" in serve_help, variable
    db_help = cli.invoke(main, ["db", "upgrade", "--help"], terminal_width=200).output
    assert "env var: PACTSTUB_DATABASE_URL" in db_help


def test_warning_level_shows_misses_and_hides_matches(serve: Any, epx_pact: Path, tmp_path: Path) -> None:
    server = serve(
        "--pact", str(epx_pact), "--port", "0", "--database-url", f"sqlite:///{tmp_path}/s.db",
        "--log-level", "warning",
    )  # fmt: skip
    assert fetch(f"{server.url}/runs?job_id=5", headers=EPX_HEADERS)[0] == 200
    assert fetch(f"{server.url}/runs?job_id=5")[0] == 400
    server.stop()
    assert "WARNING pactstub: GET /runs?job_id=5 400" in server.stderr
    assert "GET /runs?job_id=5 200" not in server.stderr
