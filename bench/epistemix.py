"""The requests the benchmarks send: one per Epistemix interaction, plus a miss.

They are built from the pact file itself (its example requests, headers included),
not from pactstub's model, so the benchmark sends exactly what a consumer test
would and stays valid for the Rust stub, which reads the same file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EPX_PACT = ROOT / "pacts" / "epx-epistemix.json"
TEMPLATES = ROOT / "templates"

#: short, stable labels for the table; the pact's descriptions are long
LABELS = {
    "a job registration request": "POST /jobs/register",
    "a job input upload URL request": "POST /jobs (job input)",
    "a job config upload URL request": "POST /jobs (job config)",
    "a run config upload URL request": "POST /jobs (run config)",
    "a run submission request": "POST /runs",
    "a request to get runs by job_id": "GET /runs?job_id=N",
    "a request to get a run by id": "GET /runs?id=N",
    "a request for the results download URLs of a job": "GET /jobs/results?job_id=N",
    "a request to retry ERROR runs, a form body labelled as JSON": "POST /runs/retry",
    "a request to stop runs": "PATCH /runs?id=N",
    "a request for the user's jobs": "GET /jobs/me",
    "a request for the user's jobs by tags and dates": "GET /jobs/me?tags&dates",
    "a request for the user's latest job": "GET /jobs?latest=true",
    "a request for the user's latest job with tags": "GET /jobs?tags&latest=true",
}
#: the interactions whose templates read or write state (``templates/epx-epistemix``)
STATEFUL = ("a job registration request", "a run submission request", "a request to get runs by job_id")
MISS_LABEL = "miss (no match)"
#: requests that change what the next one gets, left out of the timed rows (see interaction_requests)
UNTIMED_METHODS = frozenset({"DELETE"})


@dataclass(frozen=True, slots=True)
class BenchRequest:
    """One HTTP request, ready for wrk (method, target, headers, body) or a raw socket."""

    key: str
    label: str
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def raw(self, host: str) -> bytes:
        """The request as HTTP/1.1 bytes, for the Python load generator."""
        lines = [f"{self.method} {self.target} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def load_pact(path: Path = EPX_PACT) -> dict[str, Any]:
    """The pact document as JSON."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def interaction_requests(pact: dict[str, Any]) -> list[BenchRequest]:
    """One request per interaction, as the pact's example has it, for the timed rows.

    An interaction with a provider state (a 404 alternative) sends the same request
    as the one without, so it is left out. So is ``DELETE /jobs/N``: with templates the
    first request deletes the job and every later one is answered 404, so a row of it
    would time the not-found answer under the delete's name.
    """
    return [
        _from_interaction(i)
        for i in pact["interactions"]
        if not i.get("providerState") and i["request"]["method"].upper() not in UNTIMED_METHODS
    ]


def miss_request(pact: dict[str, Any]) -> BenchRequest:
    """The registration request with a body no interaction accepts.

    The path and method exist, so pactstub answers 400 with the closest
    interaction and its mismatches (its full no-match path); the Rust stub
    answers 404. Same headers as a hit, so only the matching differs.
    """
    register = _from_interaction(pact["interactions"][0])
    return BenchRequest(
        key="miss",
        label=MISS_LABEL,
        method=register.method,
        target=register.target,
        headers=register.headers,
        body=b'{"jobId": 1}',
    )


def _from_interaction(interaction: dict[str, Any]) -> BenchRequest:
    request = interaction["request"]
    target = request["path"]
    query = request.get("query")
    if query:
        target += "?" + (query if isinstance(query, str) else _query_text(query))
    body = request.get("body")
    description = interaction["description"]
    return BenchRequest(
        key=description,
        label=LABELS.get(description, description),
        method=request["method"].upper(),
        target=target,
        headers={name: str(value) for name, value in request.get("headers", {}).items()},
        body=b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode("utf-8"),
    )


def _query_text(query: dict[str, Any]) -> str:
    """A v3+ query map (``{"name": ["value"]}``) as a query string."""
    pairs = []
    for name, values in query.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append(f"{name}={value}")
    return "&".join(pairs)
