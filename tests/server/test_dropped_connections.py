"""``ConnectionDropped``: the app asks the server to close a connection and write nothing.

A small app around the real one raises it for ``/drop``; every server pactstub runs
must then close the client's connection without a byte, and go on serving.
"""

from __future__ import annotations

import http.client
import ssl
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pactstub.app import StubApp
from pactstub.errors import ConnectionDropped
from pactstub.testing import StubServer
from tests.conftest import EPX_PACT
from tests.server.wire import address, closed_by_server, connect, request


class DropOnePath(StubApp):
    """The stub, except that ``/drop`` asks for the connection to be dropped."""

    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/drop":
            raise ConnectionDropped("the test asked for it")
        return super().__call__(environ, start_response)


#: ``python -c SCRIPT KIND WORKERS TLS_FOLDER``: DropOnePath served by ``pactstub.server.serve``.
SCRIPT = """
import sys
from pathlib import Path
from pactstub.config import Settings
from pactstub.loading import load_pacts
from pactstub.server import ServerConfig, serve, tls
from tests.server.test_dropped_connections import DropOnePath

kind, workers, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
app = DropOnePath(load_pacts([sys.argv[4]]), Settings(database_url=sys.argv[5]))
files = tls.self_signed_files("127.0.0.1", Path(folder)) if folder else None
config = ServerConfig(port=0, server=kind, workers=workers, tls=files)
serve(app, config, report=app.transport_error, on_ready=lambda url: print(url, flush=True))
"""


def check_dropped(url: str, context: ssl.SSLContext | None = None) -> None:
    """``/drop`` ends with the connection closed and nothing written; the server goes on."""
    host, port = address(url)
    with connect(url) as raw, context.wrap_socket(raw, server_hostname=host) if context else raw as sock:
        sock.sendall(request("GET", "/drop"))
        assert closed_by_server(sock)
    client = (
        http.client.HTTPSConnection(host, port, timeout=10, context=context)
        if context
        else http.client.HTTPConnection(host, port, timeout=10)
    )
    client.request("GET", "/drop")
    with pytest.raises(http.client.RemoteDisconnected):
        client.getresponse()
    client.close()
    client.request("GET", "/health")
    assert client.getresponse().status == 200
    client.close()


@pytest.fixture
def run_script(tmp_path: Path) -> Iterator[Any]:
    processes: list[subprocess.Popen[str]] = []

    def run(kind: str, workers: int, tls: bool) -> tuple[str, subprocess.Popen[str]]:
        folder = str(tmp_path / "tls") if tls else ""
        database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        command = [sys.executable, "-c", SCRIPT, kind, str(workers), folder, str(EPX_PACT), database]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
        )
        processes.append(process)
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url, process.stderr.read() if process.stderr else ""
        return url, process

    yield run
    for process in processes:
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.parametrize(
    ("kind", "workers", "tls"),
    [("waitress", 1, False), ("gunicorn", 2, False), ("werkzeug", 1, False), ("gunicorn", 1, True)],
    ids=["waitress", "gunicorn-workers", "werkzeug", "gunicorn-tls"],
)
def test_every_server_drops_the_connection_when_asked(
    run_script: Any, tmp_path: Path, kind: str, workers: int, tls: bool
) -> None:
    url, process = run_script(kind, workers, tls)
    context = ssl.create_default_context(cafile=tmp_path / "tls" / "cert.pem") if tls else None
    check_dropped(url, context)
    process.terminate()
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert " 500 " not in stderr


def test_the_embedded_server_drops_the_connection_when_asked() -> None:
    with StubServer([EPX_PACT], check_on_exit=False) as stub:
        stub.app = DropOnePath(stub.app.pacts, stub.app.settings)
        check_dropped(stub.url)
    assert [(entry.path, entry.status) for entry in stub.requests] == [("/health", 200)]
