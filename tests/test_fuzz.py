"""Generated requests (hypothesis, ``tests.hostile``): never a 5xx, JSON that is JSON, a journal entry each.

In process through ``create_app``, and over a real socket to ``pactstub serve`` on its
default server; each with and without the Epistemix templates. A few thousand requests in
all, in seconds: the examples are bounded and the database is in memory or a local file.
The same requests every run unless ``PACTSTUB_FUZZ_EXPLORE=1`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from werkzeug.test import Client

from pactstub import create_app
from pactstub.journal import JournalFilter
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, ServeProcess
from tests.hostile import HAND_WRITTEN, Hostile, exchange, problems, requests

IN_PROCESS_EXAMPLES = 800
OVER_THE_WIRE_EXAMPLES = 400
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("templates", [None, TEMPLATES], ids=["examples", "templates"])
def test_in_process(templates: Path | None) -> None:
    app = create_app([EPX_PACT, S3_PACT], templates=templates, journal_size=100_000)
    client = Client(app)
    last = [0]  # the journal's last sequence number

    def answered(request: Hostile) -> None:
        response = client.open(
            request.target, method=request.method, headers=request.headers, data=request.body
        )
        assert problems(response.status_code, response.content_type, response.get_data()) == [], request
        if not request.admin:
            added = app.journal.entries(JournalFilter(after_id=last[0]))
            assert [(e.method, e.status) for e in added] == [(request.method, response.status_code)]
            last[0] = added[-1].sequence

    try:
        settings(FUZZ, max_examples=IN_PROCESS_EXAMPLES)(given(requests())(answered))()
    finally:
        app.close()


def journal_after(url: str, sequence: int) -> list[dict[str, Any]]:
    answer = exchange(url, Hostile("GET", f"/_pactstub/requests?after={sequence}"))
    assert answer is not None
    entries: list[dict[str, Any]] = json.loads(answer[2])
    return entries


@pytest.mark.parametrize("templates", [True, False], ids=["templates", "examples"])
def test_over_the_wire(serve: Any, tmp_path: Path, templates: bool) -> None:
    args = ["--pact", str(EPX_PACT), "--pact", str(S3_PACT), "--port", "0", "--journal-size", "100000"]
    args += ["--database-url", "sqlite://"]  # one process: its journal needs no settling
    if templates:
        args += ["--templates", str(TEMPLATES)]
    server: ServeProcess = serve(*args, cwd=tmp_path)  # no ./templates there: examples only
    last = [0]  # the journal's last sequence number

    def answered(request: Hostile) -> None:
        answer = exchange(server.url, request)
        assert answer is not None, request
        assert problems(*answer) == [], request
        added = journal_after(server.url, last[0])
        if request.admin:  # not journaled, unless refused by the server before the app saw it
            assert [entry["problem"] for entry in added] in ([], ["transport"]), request
        else:
            assert [entry["status"] for entry in added] == [answer[0]], request
        last[0] = added[-1]["sequence"] if added else last[0]

    for request in HAND_WRITTEN.values():
        answered(request)
    settings(FUZZ, max_examples=OVER_THE_WIRE_EXAMPLES)(given(requests())(answered))()
    server.stop()
    assert "Traceback" not in server.stderr
