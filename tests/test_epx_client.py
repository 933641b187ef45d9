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
6. ``GET /runs?job_id=N`` until the job is DONE (``execute(time_out=...)``);
7. for results: ``GET /runs?id=N`` (each run's status), ``GET /jobs/results?job_id=N``
   and ``GET`` of each run's download URL, a zip of FRED output it unpacks and reads.

Every request must match an interaction: the journal's ``?matched=false`` is empty.
Skipped when ``epx`` is not installed (``pip install -e '.[e2e]'``).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

epx = pytest.importorskip(
    "epx", reason="the real Epistemix client is not installed (pip install -e '.[e2e]', i.e. epx==1.2.2)"
)

ROOT = Path(__file__).resolve().parent.parent
MAIN_FRED = """\
simulator {
    locations = Loving_County_TX
    start_date = 2020-Jan-01
    end_date = 2020-Jan-03
}
"""


def journal(url: str, query: str = "") -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_pactstub/requests{query}", timeout=30) as response:
        document = json.loads(response.read())
    entries = document if isinstance(document, list) else document["requests"]
    return sorted(entries, key=lambda entry: entry["sequence"])


@pytest.fixture
def stub(serve: Any, tmp_path: Path) -> str:
    """The promised command line, on a free port and a throwaway database."""
    server = serve(
        "--port", "0",
        "--database-url", f"sqlite:///{tmp_path}/db.sqlite3",
        "--pact", "pacts/epx-epistemix.json",
        "--pact", "pacts/epx-s3.json",
        cwd=ROOT,
    )  # fmt: skip
    return str(server.url)


@pytest.fixture
def model(stub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model folder with a ``main.fred``, the current directory, and the client pointed at ``stub``."""
    storage = tmp_path / "epx"
    storage.mkdir()
    (storage / "config.json").write_text(json.dumps({"bearer-token": "fake-token"}), encoding="utf-8")
    monkeypatch.setenv("EPX_STORAGE_DIR", str(storage))
    monkeypatch.setenv("PLATFORM_API_URL", stub)
    for name in ("JPY_API_TOKEN", "EPX_HUB_URL"):  # would make the client ask a token refresher instead
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "main.fred").write_text(MAIN_FRED, encoding="utf-8")
    monkeypatch.chdir(folder)  # the client sends its working directory as the run's workingDir
    return folder


def fred_job(model: Path, n_reps: int = 1, seed: int | tuple[int, ...] = 42) -> Any:
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
        tags=["info_job"],
        run_ids=[],  # the client's default is one list shared by every FREDJob of the process
    )


def test_the_epx_client_runs_two_jobs_to_their_results(
    stub: str, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = fred_job(model)
    first.execute(time_out=60)

    assert first.job_id == 123
    assert first.run_ids == [978]
    assert str(first.status) == "DONE"
    assert [(run.run_id, str(run.status)) for run in first._runs] == [(978, "DONE")]
    assert capsys.readouterr().out.count("File uploaded successfully!") == 3  # inputs, run and job config

    sent = [(e["method"], e["path"], e["query"], e["status"], e["interaction"]) for e in journal(stub)]
    assert sent[:9] == [
        ("POST", "/jobs/register", "", 200, "a job registration request"),
        ("POST", "/jobs", "", 200, "a job input upload URL request"),
        ("PUT", "/pre-signed-url", "", 200, "a job input upload request"),
        ("POST", "/runs", "", 200, "a run submission request"),
        ("POST", "/jobs", "", 200, "a run config upload URL request"),
        ("PUT", "/pre-signed-url-run", "", 200, "a run config upload request"),
        ("POST", "/jobs", "", 200, "a job config upload URL request"),
        ("PUT", "/pre-signed-url-job-config", "", 200, "a job config upload request"),
        ("GET", "/runs", "job_id=123", 200, "a request to get runs by job_id"),
    ]

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
    assert str(second.status) == "DONE"
    assert second.status.name.runs_done_count == 2  # GET /runs?job_id=124 lists this job's runs only
    assert set(second.results.pop_size().run_id) == {979, 980}
    assert set(first.results.pop_size().run_id) == {978}

    misses = journal(stub, "?matched=false")
    assert misses == [], json.dumps(misses, indent=1)
    assert {e["interaction"] for e in journal(stub)} >= {
        "a request to get a run by id",
        "a request for the results download URLs of a job",
        "a run results download request",
    }
