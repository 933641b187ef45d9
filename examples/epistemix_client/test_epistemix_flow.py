"""The Epistemix client, tested against the Epistemix pacts served by the ``pactstub`` fixture.

The templates in ``templates/epx-epistemix/`` make the stub stateful: job ids count
from 123, run ids from 978, and ``GET /runs?job_id=N`` returns the runs submitted
for job N. The fixture resets that state before each test and fails a test whose
client sent a request that no interaction of the pacts matches.

Run it with ``pytest examples/epistemix_client``.
"""

from __future__ import annotations

from pathlib import Path

import epx_client
import pytest

from pactstub.testing import StubServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "fake-token"

pytestmark = pytest.mark.pactstub(
    pacts=[REPO / "pacts" / "epx-epistemix.json", REPO / "pacts" / "epx-s3.json"],
    templates=REPO / "templates",
)


def test_two_jobs_and_their_runs(pactstub: StubServer) -> None:
    api = pactstub.url

    first = epx_client.register_job(api, TOKEN, tags=["info_job"])
    second = epx_client.register_job(api, TOKEN, tags=["info_job", "second"])
    assert (first["id"], second["id"]) == (123, 124)
    assert second["tags"] == ["info_job", "second"]

    epx_client.upload_job_input(api, TOKEN, first["id"], b"simulation input")

    submitted = epx_client.submit_runs(
        api,
        TOKEN,
        [
            epx_client.run_request(123),
            epx_client.run_request(124, location="Jefferson_County_PA"),
            epx_client.run_request(124, program="other.fred"),
        ],
    )
    assert [(run["runId"], run["jobId"]) for run in submitted] == [(978, 123), (979, 124), (980, 124)]
    assert {run["status"] for run in submitted} == {"Submitted"}

    runs_of_first = epx_client.get_runs(api, TOKEN, 123)
    runs_of_second = epx_client.get_runs(api, TOKEN, 124)
    assert [run["id"] for run in runs_of_first] == [978]
    assert [run["id"] for run in runs_of_second] == [979, 980]
    assert runs_of_second[0]["request"]["population"]["locations"] == ["Jefferson_County_PA"]
    assert {run["epxClientVersion"] for run in runs_of_first + runs_of_second} == {"1.2.2"}

    pactstub.assert_called("a job registration request", times=2)
    pactstub.assert_called("a job input upload request", times=1)  # the PUT, from the S3 pact
    pactstub.assert_called("a request to get runs by job_id", times=2)


def test_each_test_starts_from_a_fresh_stub(pactstub: StubServer) -> None:
    assert pactstub.requests == []
    assert epx_client.get_runs(pactstub.url, TOKEN, 123) == []
    assert epx_client.register_job(pactstub.url, TOKEN, tags=[])["id"] == 123


def test_a_job_without_runs(pactstub: StubServer) -> None:
    job = epx_client.register_job(pactstub.url, TOKEN, tags=["empty"])
    assert epx_client.get_runs(pactstub.url, TOKEN, job["id"]) == []
