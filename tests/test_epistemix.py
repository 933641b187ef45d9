"""The Epistemix contract served with its templates, as the ``epx`` client sees it.

``pactstub serve --pact pacts/epx-epistemix.json --pact pacts/epx-s3.json
--templates templates`` replaces the hand-written mock: job and run ids from
the SQL counters, runs recorded per job, upload URLs on the stub's own address,
and all of it kept across a restart on the same SQLite file. Runs move through
their lifecycle (``_lifecycles.yaml``) one poll at a time, and every answer in
every state stays within the contract.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app, load_pacts
from pactstub.matching.http import match_response
from pactstub.model import ReceivedResponse
from tests.cli.test_serve import serve_until_exit
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES

HEADERS = {
    "Offline-Token": "Bearer fake-token",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
RUN_FIELDS = {
    "id", "jobId", "userId", "createdTs", "request", "podPhase", "containerStatus",
    "status", "userDeleted", "epxClientVersion", "url",
}  # fmt: skip


def run_request(job_id: int, label: str) -> dict[str, Any]:
    """A run request like the pact's, for ``job_id``, told apart by ``label``."""
    document = json.loads(EPX_PACT.read_text(encoding="utf-8"))
    request: dict[str, Any] = copy.deepcopy(document["interactions"][4]["request"]["body"]["runRequests"][0])
    request["jobId"] = job_id
    request["fredArgs"] = [{"flag": "-p", "value": f"{label}.fred"}]
    return request


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Epx:
    """What the ``epx`` client does, against one running stub."""

    def __init__(self, url: str) -> None:
        self.url = url

    def register(self, tags: list[str]) -> dict[str, Any]:
        status, body = call("POST", f"{self.url}/jobs/register", {"tags": tags}, HEADERS)
        assert status == 200, body
        return dict(body)

    def upload_url(self, body: dict[str, Any]) -> str:
        status, answer = call("POST", f"{self.url}/jobs", body, HEADERS)
        assert status == 200, answer
        return str(answer["url"])

    def submit(self, *requests: dict[str, Any]) -> list[dict[str, Any]]:
        status, body = call("POST", f"{self.url}/runs", {"runRequests": list(requests)}, HEADERS)
        assert status == 200, body
        return list(body["runResponses"])

    def runs(self, job_id: int | str) -> list[dict[str, Any]]:
        status, body = call("GET", f"{self.url}/runs?job_id={job_id}", None, HEADERS)
        assert status == 200, body
        assert set(body) == {"runs"}
        return list(body["runs"])


def start(serve: Any, database: Path) -> Any:
    return serve(
        "--pact", str(EPX_PACT), "--pact", str(S3_PACT), "--templates", str(TEMPLATES),
        "--database-url", f"sqlite:///{database}", "--port", "0",
    )  # fmt: skip


def test_two_jobs_their_runs_and_uploads_survive_a_restart(serve: Any, tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    server = start(serve, database)
    epx = Epx(server.url)

    first = epx.register(["info_job"])
    assert first == {"id": 123, "userId": 456, "tags": ["info_job"]}

    urls = [
        epx.upload_url({"jobId": 123, "context": "job", "type": "input"}),
        epx.upload_url({"jobId": 123, "context": "job", "type": "config"}),
        epx.upload_url({"jobId": 123, "context": "run", "type": "config", "runId": 978}),
    ]
    assert urls == [
        f"{server.url}/pre-signed-url",
        f"{server.url}/pre-signed-url-job-config",
        f"{server.url}/pre-signed-url-run",
    ]
    for url in urls:
        assert call("PUT", url, b"some file content", {"Content-Type": "application/octet-stream"}) == (
            200,
            {},
        )

    submitted = epx.submit(run_request(123, "a"), run_request(123, "b"), run_request(123, "c"))
    assert [(r["runId"], r["jobId"], r["status"], r["errors"]) for r in submitted] == [
        (978, 123, "Submitted", None),
        (979, 123, "Submitted", None),
        (980, 123, "Submitted", None),
    ]
    assert [r["runRequest"] for r in submitted] == [run_request(123, x) for x in "abc"]

    second = epx.register(["second", "job"])
    assert second == {"id": 124, "userId": 456, "tags": ["second", "job"]}
    assert [r["runId"] for r in epx.submit(run_request(124, "d"))] == [981]

    runs_123 = epx.runs(123)
    assert [(run["id"], run["jobId"]) for run in runs_123] == [(978, 123), (979, 123), (980, 123)]
    assert [run["request"] for run in runs_123] == [run_request(123, x) for x in "abc"]
    for run in runs_123:
        assert set(run) == RUN_FIELDS
        assert ISO_UTC.match(run["createdTs"]), run["createdTs"]
        assert run["userId"] == 456
        assert (run["status"], run["podPhase"]) == ("QUEUED", "Pending")  # the first read of a new run
        assert run["containerStatus"] is None
        assert run["userDeleted"] is False
        assert run["epxClientVersion"] == "1.2.2"
        assert run["url"] == f"{server.url}/pre-signed-url-run"
    assert [run["createdTs"] for run in runs_123] == sorted(run["createdTs"] for run in runs_123)
    assert [run["status"] for run in epx.runs(123)] == ["RUNNING"] * 3  # each read moves them on
    assert [(run["id"], run["jobId"], run["status"]) for run in epx.runs(124)] == [(981, 124, "QUEUED")]
    assert epx.runs(999) == []
    assert server.stop() == 0

    restarted = start(serve, database)
    epx = Epx(restarted.url)
    after = epx.runs(123)
    assert [(run["id"], run["status"], run["podPhase"]) for run in after] == [
        (978, "DONE", "Succeeded"),
        (979, "DONE", "Succeeded"),
        (980, "DONE", "Succeeded"),
    ]  # their lifecycle carries on from where it was
    assert {run["url"] for run in after} == {f"{restarted.url}/pre-signed-url-run"}
    assert [run["createdTs"] for run in after] == [run["createdTs"] for run in runs_123]
    assert [run["status"] for run in epx.runs(124)] == ["RUNNING"]
    assert epx.register([])["id"] == 125
    assert [r["runId"] for r in epx.submit(run_request(125, "e"))] == [982]
    assert [run["id"] for run in epx.runs(125)] == [982]
    assert (
        epx.upload_url({"jobId": 125, "context": "job", "type": "input"}) == f"{restarted.url}/pre-signed-url"
    )


def test_a_request_the_contract_does_not_allow_gets_a_description(serve: Any, tmp_path: Path) -> None:
    server = start(serve, tmp_path / "db.sqlite3")
    without_token = {k: v for k, v in HEADERS.items() if k != "Offline-Token"}
    status, body = call("POST", f"{server.url}/jobs/register", {"tags": []}, without_token)
    assert status == 400
    assert body["description"] == "header Offline-Token: Expected a header 'Offline-Token' but was missing"
    assert body["closest"][0]["interaction"] == "a job registration request"

    status, body = call("GET", f"{server.url}/runs?job_id=abc", None, HEADERS)
    assert status == 400
    assert body["description"].startswith("query job_id: ")


# ---------------------------------------------------------------- within the contract


def _replay(interaction: dict[str, Any]) -> dict[str, Any]:
    """The example request; a string body (the retry's form body) goes as it is written."""
    request = interaction["request"]
    query = request.get("query")
    body = request.get("body")
    state = {"X-Pact-Provider-State": interaction["providerState"]} if "providerState" in interaction else {}
    return {
        "method": request["method"],
        "path": request["path"] + (f"?{query}" if query else ""),
        "headers": {**request.get("headers", {}), **state},
        "data": body if isinstance(body, str) else json.dumps(body) if "body" in request else None,
    }


@pytest.mark.parametrize("rounds", [1, 2])
def test_templated_responses_stay_within_the_contract(rounds: int, tmp_path: Path) -> None:
    """Replays each interaction's example request in pact order and checks the
    response against the pact's matching rules, as ``pactstub verify`` does.

    A template may answer as another interaction with the same method and path (its
    ``set_status`` alternatives): the response must then satisfy that one. In the second
    round job 123 is already gone, so deleting it is the pact's "does not exist" answer.
    """
    pacts = load_pacts([EPX_PACT, S3_PACT])
    app = create_app(
        [EPX_PACT, S3_PACT], templates=TEMPLATES, database_url=f"sqlite:///{tmp_path}/db.sqlite3"
    )
    client = Client(app)
    raw = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in (EPX_PACT, S3_PACT)}
    answered_as_another: list[tuple[str, str]] = []
    try:
        for _ in range(rounds):
            for pact in pacts:
                for interaction in pact.interactions:
                    response = client.open(**_replay(raw[pact.name]["interactions"][interaction.index]))
                    actual = ReceivedResponse(
                        response.status_code, tuple(response.headers.items()), response.get_data()
                    )
                    problems = match_response(interaction.response, actual)
                    if not problems:
                        continue
                    alternatives = [
                        other
                        for other in pact.interactions
                        if (other.request.method, other.request.path)
                        == (interaction.request.method, interaction.request.path)
                        and other is not interaction
                        and not match_response(other.response, actual)
                    ]
                    assert alternatives, (interaction.description, [str(p) for p in problems])
                    answered_as_another.append((interaction.description, alternatives[0].description))
    finally:
        app.close()
    deleted_twice = ("a request to delete a job", "a request to delete a job that does not exist")
    assert answered_as_another == [deleted_twice] * (rounds - 1)


def test_list_interactions_shows_the_templates(cli: Any) -> None:
    from pactstub.cli import main

    result = cli.invoke(
        main,
        [
            "list-interactions",
            "--pact",
            str(EPX_PACT),
            "--pact",
            str(S3_PACT),
            "--templates",
            str(TEMPLATES),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {row["description"]: row["template"] for row in json.loads(result.output)}
    assert rows["a job registration request"].endswith("epx-epistemix/a-job-registration-request.json.j2")
    assert rows["a request to get runs by job_id"].endswith(
        "epx-epistemix/a-request-to-get-runs-by-job-id.json.j2"
    )
    assert rows["a job input upload request"] is None  # the S3 PUTs answer their example


# ---------------------------------------------------------------- what epx 1.2.2 sends

RETRY = "a request to retry ERROR runs, a form body labelled as JSON"


@pytest.mark.parametrize(
    ("method", "target", "body", "interaction"),
    [
        # requests' data={"runRequestIds": [...]} form-encodes, and the client's own headers keep JSON
        ("POST", "/runs/retry", b"runRequestIds=978&runRequestIds=979", RETRY),
        ("PATCH", "/runs?id=978&id=979", b"", "a request to stop runs"),
        ("DELETE", "/jobs/124", b"", "a request to delete a job"),
        ("GET", "/jobs/me", None, "a request for the user's jobs"),
        (
            "GET",
            "/jobs/me?tags=info_job&tags=b&startDate=2024-01-01&endDate=2024-12-31",
            None,
            "a request for the user's jobs by tags and dates",
        ),
        ("GET", "/jobs?latest=true", None, "a request for the user's latest job"),
        ("GET", "/jobs?tags=info_job&latest=true", None, "a request for the user's latest job with tags"),
    ],
)
def test_the_contract_accepts_exactly_what_the_client_sends(
    method: str, target: str, body: bytes | None, interaction: str
) -> None:
    """Each request as the real client puts it on the wire: its JSON content type on every
    call, bodies or none, repeated query parameters."""
    app = create_app([EPX_PACT])
    try:
        response = Client(app).open(target, method=method, data=body, headers=HEADERS)
        assert response.status_code == 200, response.get_data(as_text=True)
        [entry] = Client(app).get("/_pactstub/requests").get_json()
        assert entry["interaction"] == interaction
    finally:
        app.close()


@pytest.mark.parametrize(
    ("method", "target", "body", "location"),
    [
        ("POST", "/runs/retry", json.dumps({"runRequestIds": [978]}).encode(), "$.body"),
        ("PATCH", "/runs?id=abc", b"", "query id"),
        ("GET", "/jobs/me?startDate=yesterday&endDate=2024-12-31&tags=a", None, "query startDate"),
    ],
)
def test_what_the_client_would_not_send_is_refused_naming_the_place(
    method: str, target: str, body: bytes | None, location: str
) -> None:
    app = create_app([EPX_PACT])
    try:
        response = Client(app).open(target, method=method, data=body, headers=HEADERS)
        assert response.status_code == 400
        assert response.json is not None
        assert [m["location"] for m in response.json["mismatches"]] == [location]
    finally:
        app.close()


# ---------------------------------------------------------------- how a run moves


def test_only_the_polls_move_a_run_on() -> None:
    """Each GET /runs read moves a run one step. Asking for results, retrying and stopping
    look runs up by their stored state and move none of them."""
    app = create_app([EPX_PACT], templates=TEMPLATES)
    client = Client(app)

    def send(method: str, target: str, body: bytes | None = None) -> Any:
        response = client.open(target, method=method, data=body, headers=HEADERS)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def poll() -> list[tuple[int, str, str]]:
        runs = send("GET", "/runs?job_id=123")["runs"]
        return [(run["id"], run["status"], run["podPhase"]) for run in runs]

    def results() -> list[int]:
        return [url["run_id"] for url in send("GET", "/jobs/results?job_id=123")["urls"]]

    try:
        send("POST", "/jobs/register", json.dumps({"tags": []}).encode())
        submitted = {"runRequests": [run_request(123, "a"), run_request(123, "b")]}
        send("POST", "/runs", json.dumps(submitted).encode())
        assert poll() == [(978, "QUEUED", "Pending"), (979, "QUEUED", "Pending")]
        assert results() == []
        assert send("POST", "/runs/retry", b"runRequestIds=978")["runRequestIds"] == []  # not in ERROR
        assert send("PATCH", "/runs?id=978")["deletedIds"] == [{"runId": 978, "reason": "Success"}]

        assert poll() == [(978, "ERROR", "Failed"), (979, "RUNNING", "Running")]  # one step for 979
        assert results() == [978, 979]  # ERROR and DONE, the state the next poll shows
        stopped = send("PATCH", "/runs?id=979&id=990")
        assert (stopped["deletedIds"], stopped["failedIds"]) == (
            [],
            [{"runId": 979, "reason": "Forbidden"}, {"runId": 990, "reason": "NotFound"}],
        )
        retried = send("POST", "/runs/retry", b"runRequestIds=978&runRequestIds=979")
        assert retried == {"status": "Submitted", "runRequestIds": [978]}

        assert poll() == [(978, "QUEUED", "Pending"), (979, "DONE", "Succeeded")]
    finally:
        app.close()


def templates_where(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped templates with one change to the runs' lifecycle."""
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    lifecycles = folder / "epx-epistemix" / "_lifecycles.yaml"
    text = lifecycles.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in the shipped lifecycle"
    lifecycles.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_a_run_can_last_a_time_on_the_stubs_clock(tmp_path: Path) -> None:
    templates = templates_where(tmp_path, "RUNNING: {reads: 1,", "RUNNING: {seconds: 60,")
    app = create_app([EPX_PACT], templates=templates)
    client = Client(app)

    def poll() -> list[str]:
        response = client.get("/runs?job_id=123", headers=HEADERS)
        return [run["status"] for run in response.get_json()["runs"]]

    def advance(**move: Any) -> None:
        assert client.post("/_pactstub/clock", json=move).status_code == 200

    try:
        advance(freeze=True)
        client.post("/jobs/register", data=json.dumps({"tags": []}), headers=HEADERS)
        client.post("/runs", data=json.dumps({"runRequests": [run_request(123, "a")]}), headers=HEADERS)
        assert [poll(), poll(), poll()] == [["QUEUED"], ["RUNNING"], ["RUNNING"]]  # however often it is read
        advance(advance=59)
        assert poll() == ["RUNNING"]
        advance(advance=1)
        assert poll() == ["DONE"]
    finally:
        app.close()


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "RUNNING: {reads: 1,",
            "RUNNING: {reads: 1, next: FINISHED,",
            "$.runs.states.RUNNING.next: 'FINISHED' is not a state of 'runs' "
            "(states: QUEUED, RUNNING, DONE, ERROR)",
        ),
        (
            "QUEUED: {reads: 1,",
            "QUEUED: {reads: soon,",
            "$.runs.states.QUEUED.reads: 'soon' is not of type 'integer'",
        ),
    ],
)
def test_a_mistake_in_the_runs_lifecycle_stops_start_up_naming_file_and_line(
    old: str, new: str, problem: str, tmp_path: Path
) -> None:
    templates = templates_where(tmp_path, old, new)
    lifecycles = templates / "epx-epistemix" / "_lifecycles.yaml"
    lines = lifecycles.read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if new in text)
    result = serve_until_exit(
        "--pact", str(EPX_PACT), "--templates", str(templates), "--port", "0", "--database-url", "sqlite://"
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == f"pactstub: error: template {lifecycles}:{line}: {problem}\n"


# ---------------------------------------------------------------- in every state of a run

LIFECYCLES = TEMPLATES / "epx-epistemix" / "_lifecycles.yaml"


def runs_held_in(state: str, folder: Path) -> Path:
    """A copy of the templates whose runs start in ``state`` and stay in any state they
    are put in: the shipped states, with their ``set`` fields, and no way out of any."""
    import yaml

    shutil.copytree(TEMPLATES, folder)
    document = yaml.safe_load(LIFECYCLES.read_text(encoding="utf-8"))
    states = document["runs"]["states"]
    assert state in states
    first = {state: {"set": states[state].get("set", {})}}
    document["runs"]["states"] = first | {name: {"set": spec.get("set", {})} for name, spec in states.items()}
    held = yaml.safe_dump(document, sort_keys=False)  # the first state listed is a new run's
    (folder / "epx-epistemix" / "_lifecycles.yaml").write_text(held, encoding="utf-8")
    return folder


@pytest.mark.parametrize("state", ["QUEUED", "RUNNING", "DONE", "ERROR"])
def test_the_contract_holds_with_the_runs_in_each_state(state: str, tmp_path: Path, cli: Any) -> None:
    """``pactstub verify`` of the shipped pact and templates, every run held in one state."""
    from pactstub.cli import main

    templates = runs_held_in(state, tmp_path / "templates")
    app = create_app([EPX_PACT], templates=templates)
    try:
        client = Client(app)
        client.post("/jobs/register", data=json.dumps({"tags": []}), headers=HEADERS)
        client.post("/runs", data=json.dumps({"runRequests": [run_request(123, "a")]}), headers=HEADERS)
        for _ in range(3):
            [run] = client.get("/runs?job_id=123", headers=HEADERS).get_json()["runs"]
            assert run["status"] == state
    finally:
        app.close()

    result = cli.invoke(main, ["verify", "--pact", str(EPX_PACT), "--templates", str(templates)])
    assert result.exit_code == 0, result.output
    every = len(json.loads(EPX_PACT.read_text(encoding="utf-8"))["interactions"])
    assert f"{every} passed, 0 failed" in result.output
