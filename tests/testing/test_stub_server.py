"""``pactstub.testing.StubServer``: the stub on a real socket, driven by real HTTP clients."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from pactstub import PactLoadError
from pactstub.testing import StubServer
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, pact_document

EPX_HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}

GREETING = pact_document(
    {
        "description": "a greeting",
        "request": {"method": "GET", "path": "/hello", "query": {"name": ["alice"]}},
        "response": {"status": 200, "body": {"greeting": "hello alice"}},
    },
    {
        "description": "a new person",
        "request": {"method": "POST", "path": "/people", "body": {"name": "bob"}},
        "response": {"status": 201, "body": {"id": 1}},
    },
)


def register_job(stub: StubServer) -> int:
    response = requests.post(stub.url_for("/jobs/register"), json={"tags": ["t"]}, headers=EPX_HEADERS)
    assert response.status_code == 200, response.text
    job_id: int = response.json()["id"]
    return job_id


class TestClients:
    def test_requests(self) -> None:
        with StubServer([GREETING]) as stub:
            response = requests.get(stub.url_for("/hello"), params={"name": "alice"})
            assert response.status_code == 200
            assert response.json() == {"greeting": "hello alice"}

    def test_a_requests_session_kept_alive_does_not_hold_up_the_exit(self) -> None:
        with requests.Session() as session:
            with StubServer([GREETING]) as stub:
                assert session.get(stub.url_for("/hello?name=alice")).status_code == 200
                started = time.monotonic()
            assert time.monotonic() - started < 2
            assert not stub.running

    def test_httpx(self) -> None:
        with StubServer([GREETING]) as stub, httpx.Client(base_url=stub.url) as client:
            response = client.post("/people", json={"name": "bob"})
            assert response.status_code == 201
            assert response.json() == {"id": 1}

    def test_urllib(self) -> None:
        with StubServer([GREETING]) as stub:
            with urllib.request.urlopen(stub.url_for("/hello?name=alice")) as response:
                assert json.load(response) == {"greeting": "hello alice"}
            assert [entry.interaction for entry in stub.requests] == ["a greeting"]

    def test_url_and_url_for(self) -> None:
        with StubServer([GREETING], host="127.0.0.1") as stub:
            assert stub.url == f"http://127.0.0.1:{stub.port}"
            assert stub.port > 0
            assert stub.url_for("/hello?name=x") == f"{stub.url}/hello?name=x"
            assert stub.url_for("hello") == f"{stub.url}/hello"

    def test_options_are_create_apps(self) -> None:
        with StubServer([GREETING], no_match_status=418, check_on_exit=False) as stub:
            assert requests.get(stub.url_for("/hello?name=carol")).status_code == 418

    def test_a_bad_pact_fails_at_construction(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text("{not json", encoding="utf-8")
        with pytest.raises(PactLoadError):
            StubServer([bad])


class TestJournal:
    def test_requests_name_the_interaction_or_the_mismatch(self) -> None:
        with StubServer([GREETING], check_on_exit=False) as stub:
            requests.get(stub.url_for("/hello?name=alice"))
            requests.get(stub.url_for("/hello?name=carol"))
            first, second = stub.requests
            assert first.matched
            assert (first.interaction, first.status) == ("a greeting", 200)
            assert not second.matched
            assert second.closest[0].description == "a greeting"
            assert stub.unmatched == [second]

    def test_reset_forgets_requests_and_restarts_counters(self) -> None:
        with StubServer([EPX_PACT, S3_PACT], templates=TEMPLATES) as stub:
            assert [register_job(stub), register_job(stub)] == [123, 124]
            stub.reset()
            assert stub.requests == []
            assert register_job(stub) == 123


class TestCheck:
    def test_check_passes_when_everything_matched(self) -> None:
        with StubServer([GREETING]) as stub:
            requests.get(stub.url_for("/hello?name=alice"))
            stub.check()

    def test_check_names_each_unmatched_request_its_closest_interaction_and_the_mismatch(self) -> None:
        with StubServer([EPX_PACT], check_on_exit=False) as stub:
            requests.post(
                stub.url_for("/jobs"),
                json={"jobId": 1, "context": "job", "type": "inputs"},
                headers=EPX_HEADERS,
            )
            requests.get(stub.url_for("/nowhere"))
            with pytest.raises(AssertionError) as failure:
                stub.check()
        message = str(failure.value)
        assert message.startswith("2 requests to the pact stub matched no interaction:")
        assert "1. POST /jobs: no interaction matched (answered 400)" in message
        assert "closest: epx-epistemix#1 'a job input upload URL request'" in message
        assert "$.body.type -> " in message
        assert "'inputs'" in message
        assert "2. GET /nowhere: no interaction has this path (answered 404)" in message

    def test_a_crash_in_the_app_is_reported_not_swallowed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        with StubServer([GREETING], check_on_exit=False) as stub:

            def explode(self: Any, environ: Any, start_response: Any) -> Any:
                raise RuntimeError("boom")

            monkeypatch.setattr(type(stub.app), "__call__", explode)
            assert requests.get(stub.url_for("/hello?name=alice")).status_code == 500
            with pytest.raises(AssertionError, match=r"GET /hello: the stub failed with RuntimeError: boom"):
                stub.check()


class TestAssertCalled:
    def test_at_least_once_and_exactly(self) -> None:
        with StubServer([GREETING]) as stub:
            for _ in range(2):
                requests.get(stub.url_for("/hello?name=alice"))
            calls = stub.assert_called("a greeting")
            assert len(calls) == 2
            stub.assert_called("a greeting", times=2)
            stub.assert_called("a new person", times=0)

    def test_a_wrong_count_lists_the_requests(self) -> None:
        with StubServer([GREETING]) as stub:
            requests.get(stub.url_for("/hello?name=alice"))
            with pytest.raises(AssertionError) as failure:
                stub.assert_called("a greeting", times=3)
            assert str(failure.value) == (
                "expected 'a greeting' to be called 3 times, it was called once; the requests were:\n"
                "  GET /hello?name=alice -> 'a greeting' (200)"
            )
            with pytest.raises(AssertionError, match="to be called at least once, it was not called"):
                stub.assert_called("a new person")

    def test_an_unknown_description_lists_the_known_ones(self) -> None:
        with StubServer([GREETING]) as stub, pytest.raises(AssertionError) as failure:
            stub.assert_called("a greting")
        assert str(failure.value) == (
            "no interaction is described 'a greting'; the stub serves:\n  'a greeting'\n  'a new person'"
        )


class TestExit:
    def test_an_unmatched_request_fails_the_with_block(self) -> None:
        with (
            pytest.raises(AssertionError, match=r"1 request to the pact stub matched no interaction"),
            StubServer([GREETING]) as stub,
        ):
            requests.get(stub.url_for("/hello?name=carol"))

    def test_not_with_check_on_exit_false(self) -> None:
        with StubServer([GREETING], check_on_exit=False) as stub:
            requests.get(stub.url_for("/hello?name=carol"))
        assert len(stub.unmatched) == 1

    def test_the_tests_own_error_wins_and_carries_the_explanation(self) -> None:
        with pytest.raises(KeyError) as failure, StubServer([GREETING]) as stub:  # noqa: PT012
            requests.get(stub.url_for("/hello?name=carol"))
            raise KeyError("the test's own failure")
        notes = "\n".join(getattr(failure.value, "__notes__", []))
        assert "GET /hello?name=carol: no interaction matched" in notes

    def test_the_port_is_released(self) -> None:
        with StubServer([GREETING]) as stub:
            port = stub.port
        with socket.socket() as again:
            again.bind(("127.0.0.1", port))
        with StubServer([GREETING], port=port) as same_port:
            assert same_port.port == port
            assert requests.get(same_port.url_for("/hello?name=alice")).status_code == 200

    def test_no_thread_is_left_behind(self) -> None:
        before = set(threading.enumerate())
        with requests.Session() as session, StubServer([GREETING]) as stub:
            session.get(stub.url_for("/hello?name=alice"))
        assert set(threading.enumerate()) <= before

    def test_a_busy_port_is_an_error_in_the_test(self) -> None:
        with StubServer([GREETING]) as first, pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1"):
            StubServer([GREETING], port=first.port).start()


class TestStartStop:
    def test_start_and_stop_without_with(self) -> None:
        stub = StubServer([EPX_PACT], templates=TEMPLATES)
        with pytest.raises(RuntimeError, match="not started"):
            stub.url  # noqa: B018
        stub.start()
        try:
            assert register_job(stub) == 123
            with pytest.raises(RuntimeError, match="already running"):
                stub.start()
        finally:
            stub.stop()
        stub.stop()  # twice is fine
        assert not stub.running

    def test_a_stopped_server_starts_again_afresh(self) -> None:
        stub = StubServer([EPX_PACT], templates=TEMPLATES).start()
        register_job(stub)
        stub.stop()
        stub.start()
        try:
            assert register_job(stub) == 123
        finally:
            stub.stop()

    def test_stop_raises_when_the_server_thread_failed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        stub = StubServer([GREETING])

        def fail() -> None:
            raise OSError("the selector broke")

        stub.start()
        # this server only: others may be running in this process (the pactstub fixture's)
        monkeypatch.setattr(stub._server, "service_actions", fail)
        assert stub._thread is not None
        stub._thread.join(5)  # it fails after its first poll
        with pytest.raises(RuntimeError, match=r"server thread .* failed") as failure:
            stub.stop()
        assert isinstance(failure.value.__cause__, OSError)


def test_loading_the_plugin_does_not_import_the_server() -> None:
    import subprocess
    import sys

    code = "import pactstub.testing.plugin, sys; print('pactstub.testing.server' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_urllib_sees_the_mismatch_answer() -> None:
    with StubServer([GREETING], check_on_exit=False) as stub:
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(stub.url_for("/hello?name=carol"))
        with failure.value as error:
            body = json.load(error)
        assert error.code == 400
        assert body["closest"][0]["interaction"] == "a greeting"
