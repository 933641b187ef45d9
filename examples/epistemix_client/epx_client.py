"""A tiny client of the Epistemix API: register a job, upload its input, submit runs, read them back.

It is the code under test in ``test_epistemix_flow.py``; nothing in it knows about
pactstub. Point ``api_url`` at the real API or at the stub.
"""

from __future__ import annotations

from typing import Any

import requests

CLIENT_VERSION = "1.2.2"
FRED_CLI_VERSION = "0.4.0"
TIMEOUT_S = 10


def headers(token: str) -> dict[str, str]:
    """The headers the Epistemix API expects on every call."""
    return {
        "Offline-Token": f"Bearer {token}",
        "content-type": "application/json",
        "fredcli-version": FRED_CLI_VERSION,
        "user-agent": f"epx_client_{CLIENT_VERSION}",
    }


def register_job(api_url: str, token: str, tags: list[str]) -> dict[str, Any]:
    """``POST /jobs/register``: a new job, ``{"id": ..., "userId": ..., "tags": [...]}``."""
    response = requests.post(
        f"{api_url}/jobs/register", json={"tags": tags}, headers=headers(token), timeout=TIMEOUT_S
    )
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    return job


def upload_job_input(api_url: str, token: str, job_id: int, content: bytes) -> None:
    """Ask where to put the job's input (``POST /jobs``), then ``PUT`` it there."""
    response = requests.post(
        f"{api_url}/jobs",
        json={"jobId": job_id, "context": "job", "type": "input"},
        headers=headers(token),
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    upload = requests.put(response.json()["url"], data=content, timeout=TIMEOUT_S)
    upload.raise_for_status()


def run_request(
    job_id: int, *, location: str = "Loving_County_TX", program: str = "main.fred"
) -> dict[str, Any]:
    """One simulation run of ``job_id`` (the body of one entry of ``runRequests``)."""
    return {
        "jobId": job_id,
        "workingDir": "/workspaces/fred_simulations",
        "size": "hot",
        "fredVersion": "latest",
        "population": {"version": "US_2010.v5", "locations": [location]},
        "fredArgs": [{"flag": "-p", "value": program}],
        "fredFiles": [f"/workspaces/fred_simulations/{program}"],
    }


def submit_runs(api_url: str, token: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``POST /runs``: one response per run, each with its ``runId``."""
    response = requests.post(
        f"{api_url}/runs", json={"runRequests": runs}, headers=headers(token), timeout=TIMEOUT_S
    )
    response.raise_for_status()
    responses: list[dict[str, Any]] = response.json()["runResponses"]
    return responses


def get_runs(api_url: str, token: str, job_id: int) -> list[dict[str, Any]]:
    """``GET /runs?job_id=N``: the runs of one job, oldest first."""
    response = requests.get(
        f"{api_url}/runs", params={"job_id": job_id}, headers=headers(token), timeout=TIMEOUT_S
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()["runs"]
    return runs
