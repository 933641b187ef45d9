"""Counters stay unique when several gunicorn workers serve several clients at once.

``pactstub serve --workers 2`` runs the app in two processes that share only the
database; 4 client processes register jobs and submit runs concurrently, and
every id handed out must be distinct and the sequence without gaps, on SQLite
and on PostgreSQL (``PACTSTUB_TEST_POSTGRES_URL``, each test in a fresh schema).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES

CLIENTS = 4
JOBS_PER_CLIENT = 25

#: One client process: register jobs and submit one run for each; print what it got.
CLIENT = r"""
import json, sys, urllib.request

url, count = sys.argv[1], int(sys.argv[2])
headers = {"Offline-Token": "Bearer t", "content-type": "application/json",
           "fredcli-version": "0.4.0", "user-agent": "epx_client_1.2.2"}
run = json.loads(sys.stdin.read())

def post(path, body):
    request = urllib.request.Request(url + path, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())

pairs = []
for _ in range(count):
    job = post("/jobs/register", {"tags": ["load"]})["id"]
    runs = post("/runs", {"runRequests": [dict(run, jobId=job)]})["runResponses"]
    pairs.append([job, runs[0]["runId"], runs[0]["jobId"]])
print(json.dumps(pairs))
"""


def _run_request() -> dict[str, Any]:
    document = json.loads(EPX_PACT.read_text(encoding="utf-8"))
    request: dict[str, Any] = document["interactions"][4]["request"]["body"]["runRequests"][0]
    return request


def _clients(url: str) -> list[list[int]]:
    """Run the client processes at once; every one is ended before this returns."""
    run = json.dumps(_run_request())
    processes: list[subprocess.Popen[str]] = []
    try:
        for _ in range(CLIENTS):
            process = subprocess.Popen(
                [sys.executable, "-c", CLIENT, url, str(JOBS_PER_CLIENT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            processes.append(process)
        # Each client reads its run request only now, so they all start together.
        results: list[list[int]] = []
        for process in processes:
            out, err = process.communicate(run, timeout=300)
            assert process.returncode == 0, err
            results.extend(json.loads(out))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_ids_stay_unique_and_contiguous_across_workers(serve: Any, database_url: str) -> None:
    server = serve(
        "--pact", str(EPX_PACT), "--pact", str(S3_PACT), "--templates", str(TEMPLATES),
        "--database-url", database_url, "--workers", "2", "--port", "0", "--log-level", "warning",
    )  # fmt: skip
    assert "(2 workers)" in server.banner

    results = _clients(server.url)

    total = CLIENTS * JOBS_PER_CLIENT
    job_ids = [job for job, _, _ in results]
    run_ids = [run for _, run, _ in results]
    assert sorted(job_ids) == list(range(123, 123 + total))
    assert sorted(run_ids) == list(range(978, 978 + total))
    assert all(job == run_job for job, _, run_job in results)

    # every job's runs are its own: the run recorded with it, and no other
    import urllib.request

    headers = {
        "Offline-Token": "Bearer t",
        "content-type": "application/json",
        "fredcli-version": "0.4.0",
        "user-agent": "epx_client_1.2.2",
    }
    for job, run, _ in results[:: JOBS_PER_CLIENT // 5]:
        request = urllib.request.Request(f"{server.url}/runs?job_id={job}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            runs = json.loads(response.read())["runs"]
        assert [(r["id"], r["jobId"]) for r in runs] == [(run, job)]
    assert server.stop() == 0


def test_workers_share_one_journal_and_one_reset(serve: Any, tmp_path: Any) -> None:
    """Each request lands on whichever worker accepts it; every read sees every request."""
    import urllib.request

    server = serve(
        "--pact", str(EPX_PACT), "--database-url", f"sqlite:///{tmp_path / 'w.sqlite3'}",
        "--workers", "2", "--port", "0", "--log-level", "warning",
    )  # fmt: skip

    def fetch(path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{server.url}{path}", method=method)  # one connection each
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as refused:  # the runs asked for without the pact's headers
            return json.loads(refused.read())

    for job in range(20):  # both workers take some
        fetch(f"/runs?job_id={job}")
    journals = [fetch("/_pactstub/requests") for _ in range(10)]
    assert [len(entries) for entries in journals] == [20] * 10
    assert sorted(entry["query"] for entry in journals[0]) == sorted(f"job_id={job}" for job in range(20))
    for job in range(20):  # the last of these may still wait in either worker's queue
        fetch(f"/runs?job_id={job}")
    fetch("/_pactstub/reset", method="POST")
    assert [len(fetch("/_pactstub/requests")) for _ in range(10)] == [0] * 10
