"""The real Epistemix Python client (``epx==1.2.2``) runs its whole job flow against pactstub.

``pactstub serve --pact pacts/epx-epistemix.json --pact pacts/epx-s3.json`` is started
from the repository root (so ``./templates`` applies) on a free port, and the client
is pointed at it the way a user would: ``PLATFORM_API_URL`` for the API, a
``config.json`` with the offline ``bearer-token`` in ``EPX_STORAGE_DIR`` (which also
keeps the client's job data out of the user's home). A ``FREDJob`` built from a tiny
model folder then does, with no help from the test:

1. ``POST /jobs/register`` -> job id (123, then 124);
2. ``POST /jobs`` (job input) and ``PUT`` of ``inputs.zip`` to the returned URL;
3. ``POST /runs`` -> run ids (from 978);
4. per run, ``POST /jobs`` (run config) and ``PUT`` of ``run.json``;
5. ``POST /jobs`` (job config) and ``PUT`` of ``job.json``;
6. ``GET /runs?job_id=N`` every 3 seconds until the job is DONE (``execute(time_out=...)``),
   each read moving the runs one step: QUEUED, RUNNING, DONE; a run seen in ERROR is sent
   to ``POST /runs/retry`` (once, by default) and polled again;
7. for results: ``GET /runs?id=N`` (each run's status), ``GET /jobs/results?job_id=N``
   and ``GET`` of each run's download URL, a zip of FRED output it unpacks and reads.

Polling fast: the client's wait between polls is ``time.sleep(3)`` in
``epx.job.fred_job``, with no setting to change it (``update_interval`` in its config
only spaces the progress log lines). :class:`ClientClock` replaces the ``time`` module
of that one client module, for one test, so the wait returns at once, and lets a test
act between two polls as an operator would.

What the stub served at each poll is read from the client's own debug log of the
payload it received (logger ``epx.job.status.fred_job_status``). Every request must
match an interaction: the journal's ``?matched=false`` is empty.
Skipped when ``epx`` is not installed (``pip install -e '.[e2e]'``).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

epx = pytest.importorskip(
    "epx", reason="the real Epistemix client is not installed (pip install -e '.[e2e]', i.e. epx==1.2.2)"
)
import epx.job.fred_job as fred_job_module  # noqa: E402  (only once epx is known to be there)
from epx.core.errors.api_errors import NotFoundError  # noqa: E402

from tests.test_epistemix import templates_where  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAIN_FRED = """\
simulator {
    locations = Loving_County_TX
    start_date = 2020-Jan-01
    end_date = 2020-Jan-03
}
"""
#: the client's wait between two polls of GET /runs?job_id=N, in seconds
POLL_WAIT = 3
#: the logger that records each GET /runs?job_id=N payload the client receives
STATUS_LOGGER = "epx.job.status.fred_job_status"


def admin(url: str, method: str = "GET", path: str = "", body: Any = None) -> Any:
    """A call to the stub's own endpoints under /_pactstub/."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_pactstub/{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def journal(url: str, query: str = "") -> list[dict[str, Any]]:
    entries = admin(url, path=f"requests{query}")
    return sorted(entries, key=lambda entry: entry["sequence"])


def run_record(url: str, run_id: int) -> dict[str, Any]:
    """Run ``run_id`` as stored (the admin API reads without moving it on)."""
    [record] = [r for r in admin(url, path="records/runs")["records"] if r["id"] == run_id]
    return dict(record["data"])


class ClientClock:
    """The ``time`` module as ``epx.job.fred_job`` sees it during one test.

    ``time()`` is the real clock (the client's ``time_out`` still counts); ``sleep()``
    records the wait, runs what the test scheduled for that wait (``on_wait[n]``, n from
    1) and returns at once.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.on_wait: dict[int, Callable[[], None]] = {}

    @staticmethod
    def time() -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        action = self.on_wait.get(len(self.waits))
        if action is not None:
            action()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ClientClock:
    fake = ClientClock()
    monkeypatch.setattr(fred_job_module, "time", fake)
    return fake


@pytest.fixture
def polls(caplog: pytest.LogCaptureFixture) -> Callable[[], list[list[tuple[int, str, str]]]]:
    """Each GET /runs?job_id=N answer the client received: (run id, status, pod phase) per run."""
    caplog.set_level(logging.DEBUG, logger=STATUS_LOGGER)

    def seen() -> list[list[tuple[int, str, str]]]:
        payloads = [
            json.loads(r.getMessage()[len("Payload: ") :])
            for r in caplog.records
            if r.name == STATUS_LOGGER and r.getMessage().startswith("Payload: ")
        ]
        return [[(run["id"], run["status"], run["podPhase"]) for run in p["runs"]] for p in payloads]

    return seen


@pytest.fixture
def start_stub(serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """``pactstub serve`` of the two pacts on a free port and a throwaway database, and
    the client pointed at it; ``templates`` replaces ``./templates``."""

    def start(templates: Path | None = None) -> str:
        chosen = ["--templates", str(templates)] if templates is not None else []
        server = serve(
            "--port", "0",
            "--database-url", f"sqlite:///{tmp_path}/db.sqlite3",
            "--pact", "pacts/epx-epistemix.json",
            "--pact", "pacts/epx-s3.json",
            *chosen,
            cwd=ROOT,
        )  # fmt: skip
        monkeypatch.setenv("PLATFORM_API_URL", str(server.url))
        return str(server.url)

    return start


@pytest.fixture
def stub(start_stub: Callable[..., str]) -> str:
    """The promised command line, with the shipped templates."""
    return start_stub()


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model folder with a ``main.fred``, the current directory, and the client's storage."""
    storage = tmp_path / "epx"
    storage.mkdir()
    (storage / "config.json").write_text(json.dumps({"bearer-token": "fake-token"}), encoding="utf-8")
    monkeypatch.setenv("EPX_STORAGE_DIR", str(storage))
    for name in ("JPY_API_TOKEN", "EPX_HUB_URL"):  # would make the client ask a token refresher instead
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "main.fred").write_text(MAIN_FRED, encoding="utf-8")
    monkeypatch.chdir(folder)  # the client sends its working directory as the run's workingDir
    return folder


def fred_job(
    model: Path, n_reps: int = 1, seed: int | tuple[int, ...] = 42, tags: list[str] | None = None
) -> Any:
    return epx.FREDJob(
        config=[
            epx.FREDModelConfig(
                synth_pop=epx.SynthPop("US_2010.v5", ["Loving_County_TX"]),
                start_date="2020-01-01",
                end_date="2020-01-03",
                seed=seed,
                n_reps=n_reps,
            )
        ],
        fred_files=[model / "main.fred"],
        tags=tags or ["info_job"],
        run_ids=[],  # the client's default is one list shared by every FREDJob of the process
    )


def assert_all_matched(url: str) -> None:
    misses = journal(url, "?matched=false")
    assert misses == [], json.dumps(misses, indent=1)


def test_the_epx_client_runs_two_jobs_through_their_lifecycle_to_their_results(
    stub: str, model: Path, clock: ClientClock, polls: Callable[[], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    first = fred_job(model)
    first.execute(time_out=60)

    assert first.job_id == 123
    assert first.run_ids == [978]
    assert polls() == [
        [(978, "QUEUED", "Pending")],
        [(978, "RUNNING", "Running")],
        [(978, "DONE", "Succeeded")],
    ]
    assert clock.waits == [POLL_WAIT, POLL_WAIT]  # the client waited between polls, as it does every 3 s
    assert capsys.readouterr().out.count("File uploaded successfully!") == 3  # inputs, run and job config

    sent = [(e["method"], e["path"], e["query"], e["status"], e["interaction"]) for e in journal(stub)]
    poll = ("GET", "/runs", "job_id=123", 200, "a request to get runs by job_id")
    assert sent == [
        ("POST", "/jobs/register", "", 200, "a job registration request"),
        ("POST", "/jobs", "", 200, "a job input upload URL request"),
        ("PUT", "/pre-signed-url", "", 200, "a job input upload request"),
        ("POST", "/runs", "", 200, "a run submission request"),
        ("POST", "/jobs", "", 200, "a run config upload URL request"),
        ("PUT", "/pre-signed-url-run", "", 200, "a run config upload request"),
        ("POST", "/jobs", "", 200, "a job config upload URL request"),
        ("PUT", "/pre-signed-url-job-config", "", 200, "a job config upload request"),
        poll,
        poll,
        poll,
    ]
    assert str(first.status) == "DONE"  # DONE is final: reading it again changes nothing
    assert [(run.run_id, str(run.status)) for run in first._runs] == [(978, "DONE")]

    # The client kept (and uploaded) the run config it built, under the run id the stub gave it.
    storage = Path(epx.core.utils.config.get_job_storage_dir())
    run_config = json.loads((storage / "123" / "inputs" / "978" / "run.json").read_text(encoding="utf-8"))
    assert run_config["run_id"] == 978
    assert run_config["params"]["seed"] == 42

    pop_size = first.results.pop_size()  # a FREDJobResults reads its runs once: ask for it each time
    assert list(pop_size.columns) == ["run_id", "sim_day", "pop_size"]
    assert set(pop_size.run_id) == {978}
    assert list(pop_size.pop_size) == [64, 64, 64]
    dates = first.results.dates()
    assert [str(day.date()) for day in dates.sim_date] == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert (storage / "123" / "results" / "978" / "work" / "outputs" / "logs.txt").is_file()

    second = fred_job(model, n_reps=2, seed=(1, 2))
    second.execute(time_out=60)

    assert second.job_id == 124
    assert second.run_ids == [979, 980]
    assert [[status for _, status, _ in poll] for poll in polls()[-3:]] == [
        ["QUEUED", "QUEUED"],
        ["RUNNING", "RUNNING"],
        ["DONE", "DONE"],
    ]  # GET /runs?job_id=124 lists this job's runs only
    assert second.status.name.runs_done_count == 2
    assert set(second.results.pop_size().run_id) == {979, 980}
    assert set(first.results.pop_size().run_id) == {978}

    assert_all_matched(stub)
    assert {e["interaction"] for e in journal(stub)} >= {
        "a request to get a run by id",
        "a request for the results download URLs of a job",
        "a run results download request",
    }


def test_a_run_forced_to_error_is_retried_by_the_client_and_finishes(
    stub: str, model: Path, clock: ClientClock, polls: Callable[[], Any]
) -> None:
    # Between the first and the second poll, an operator makes run 978 fail.
    clock.on_wait[1] = lambda: admin(stub, "PATCH", "records/runs/978", {"status": "ERROR"})
    job = fred_job(model)
    job.execute(time_out=60)

    assert polls() == [
        [(978, "QUEUED", "Pending")],
        [(978, "ERROR", "Failed")],
        [(978, "QUEUED", "Pending")],  # POST /runs/retry put it back in the queue
        [(978, "RUNNING", "Running")],
        [(978, "DONE", "Succeeded")],
    ]
    retries = [e for e in journal(stub) if e["path"] == "/runs/retry"]
    assert [(e["status"], e["interaction"]) for e in retries] == [
        (200, "a request to retry ERROR runs, a form body labelled as JSON")
    ]
    assert run_record(stub, 978)["status"] == "DONE"
    assert set(job.results.pop_size().run_id) == {978}
    assert_all_matched(stub)


def test_a_run_that_keeps_failing_makes_the_client_give_up_after_its_retry(
    start_stub: Callable[..., str], tmp_path: Path, model: Path, clock: ClientClock, polls: Callable[[], Any]
) -> None:
    url = start_stub(
        templates_where(tmp_path, "rate: 0.0", "rate: 1.0")
    )  # every run fails when it leaves RUNNING
    job = fred_job(model)

    with pytest.raises(RuntimeError, match="FREDJob '123' failed"):
        job.execute(time_out=60)

    assert [[status for _, status, _ in poll] for poll in polls()] == [
        ["QUEUED"], ["RUNNING"], ["ERROR"], ["QUEUED"], ["RUNNING"], ["ERROR"],
    ]  # fmt: skip
    assert run_record(url, 978)["status"] == "ERROR"  # ERROR is final: it stays until retried again
    assert [e["interaction"] for e in journal(url) if e["path"] == "/runs/retry"] == [
        "a request to retry ERROR runs, a form body labelled as JSON"
    ]  # the client retries a run once (max_retries_for_run), then raises
    assert_all_matched(url)


def test_the_client_stops_a_running_job(start_stub: Callable[..., str], tmp_path: Path, model: Path) -> None:
    # A run that stays RUNNING for five reads: FREDJob.stop() reads the status first.
    url = start_stub(templates_where(tmp_path, "RUNNING: {reads: 1,", "RUNNING: {reads: 5,"))
    job = fred_job(model)
    job.execute()  # no time_out: submit and return without polling

    assert str(job.status) == "QUEUED"
    assert str(job.status) == "RUNNING"
    assert job.stop() == "1 of 1 runs stopped"
    assert str(job.status) == "ERROR"
    assert run_record(url, 978)["podPhase"] == "Failed"
    with pytest.raises(RuntimeError, match="Can not stop the job with status is ERROR"):
        job.stop()
    stops = [(e["method"], e["query"], e["interaction"]) for e in journal(url) if e["method"] == "PATCH"]
    assert stops == [("PATCH", "id=978", "a request to stop runs")]
    assert_all_matched(url)


def test_the_client_lists_and_deletes_its_jobs(stub: str, model: Path, clock: ClientClock) -> None:
    first = fred_job(model, tags=["info_job", "sweep"])
    first.execute(time_out=60)
    second = fred_job(model, tags=["info_job"])
    second.execute(time_out=60)
    today = time.strftime("%Y-%m-%d", time.gmtime())

    listed = epx.FREDJob.get_jobs_by_tags().jobs
    assert [(job.id, job.userId, job.tags) for job in listed] == [
        (123, 456, ["info_job", "sweep"]),
        (124, 456, ["info_job"]),
    ]
    assert all(job.created.strftime("%Y-%m-%d") == today for job in listed)
    by_tag = epx.FREDJob.get_jobs_by_tags(tags=["sweep"], start_date=today, end_date=today).jobs
    assert [job.id for job in by_tag] == [123]
    assert (
        epx.FREDJob.get_jobs_by_tags(tags=["info_job"], start_date="2000-01-01", end_date="2000-12-31").jobs
        == []
    )

    latest = epx.FREDJob.get_latest_job()  # the client then reads that job's job.json from its storage
    assert latest is not None
    assert latest.job_id == 124
    tagged = epx.FREDJob.get_latest_job(tags=["sweep"])
    assert tagged is not None
    assert (tagged.job_id, tagged.tags) == (123, ["info_job", "sweep"])
    with pytest.raises(RuntimeError, match="FRED Cloud error code: 404"):
        epx.FREDJob.get_latest_job(tags=["nothing-has-this"])

    first.delete(interactive=False)
    assert [job.id for job in epx.FREDJob.get_jobs_by_tags().jobs] == [124]
    remaining = [(r["id"], r["data"]["jobId"]) for r in admin(stub, path="records/runs")["records"]]
    assert remaining == [(979, 124)]  # job 123's run 978 went with it
    with pytest.raises(NotFoundError, match="Job 123 not found"):
        first.delete(interactive=False)

    assert_all_matched(stub)
    assert [e["status"] for e in journal(stub) if e["method"] == "DELETE"] == [200, 404]
