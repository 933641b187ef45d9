"""Templated requests as the store grows: the cost of a lookup must not grow with the records.

For each size, a fresh store (a SQLite file, or PostgreSQL with ``--postgres-url``) is
seeded through ``pactstub state import`` (timed: seeding large stores must stay fast)
with half jobs and half runs, one run per job, as the Epistemix templates write them.
Then the Epistemix pact is served in process (``create_app`` + werkzeug's test client,
no sockets, so the figures are the app and the store, not a server) and each request is
timed on its own, the median of ``--requests``:

* ``POST /jobs/register``: a counter and a new record;
* ``POST /runs`` for a job that exists: a lookup of the job by id, a counter, a record;
* ``GET /runs?job_id=N`` for a job with one run: a lookup by field equality (and the run's
  lifecycle, final by then).

The last column divides each size's figure by the smallest size's: flat means the cost
does not depend on the size of the store.

    python -m bench.store_scaling                     # 2,000 and 100,000 records
    python -m bench.store_scaling --sizes 2000,100000,1000000
    python -m bench.store_scaling --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

Two measurements behind choices of the state package:

    python -m bench.store_scaling --compare-execution   # SQLAlchemy Connection.execute vs compiled SQL
    python -m bench.store_scaling --compare-locks       # concurrent SQLite writers with/without the lock
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from bench.epistemix import EPX_PACT, TEMPLATES, interaction_requests, load_pact
from bench.postgres import bench_database

HEADERS = {
    "Offline-Token": "Bearer bench",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}
FIRST_JOB = 1000


def seed_document(records: int) -> dict[str, Any]:
    """``records`` records: jobs 1000.. and one run for each, with the fields the templates write."""
    jobs = records // 2
    documents: list[dict[str, Any]] = []
    for n in range(jobs):
        job = FIRST_JOB + n
        documents.append({"collection": "jobs", "data": {"id": job, "userId": 456, "tags": [f"t{n % 50}"]}})
    for n in range(records - jobs):
        job = FIRST_JOB + n
        run = {"jobId": job, "workingDir": "/tmp", "size": "hot", "fredArgs": []}
        data = {"id": 10_000_000 + n, "jobId": job, "userId": 456, "request": run,
                "epxClientVersion": "1.2.2", "status": "DONE", "podPhase": "Succeeded"}  # fmt: skip
        documents.append({"collection": "runs", "data": data})
    counters = [{"name": "jobs", "value": FIRST_JOB + jobs + 10}, {"name": "runs", "value": 20_000_000}]
    return {"version": 2, "counters": counters, "records": documents}


def seed(url: str, records: int, folder: Path) -> float:
    """Import the document through the CLI; the seconds it took."""
    path = folder / f"seed-{records}.json"
    path.write_text(json.dumps(seed_document(records)), encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pactstub", "state", "import", str(path), "--database-url", url],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"seeding failed: {done.stderr}")
    path.unlink()
    return took


def median_us(send: Callable[[], int], count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status = send()
        times.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"a benchmark request answered {status}")
    return statistics.median(times) * 1e6


def measure(url: str, records: int, count: int) -> dict[str, float]:
    from pactstub import create_app

    app = create_app([EPX_PACT], templates=TEMPLATES, database_url=url)
    client = Client(app)
    requests = {r.key: r for r in interaction_requests(load_pact())}
    register = requests["a job registration request"]
    submit = requests["a run submission request"]
    middle = FIRST_JOB + records // 4  # a job in the middle of the seeded ones, with one run
    body = json.loads(submit.body)
    body["runRequests"] = body["runRequests"][:1]
    body["runRequests"][0]["jobId"] = middle + 1  # another job: GET keeps seeing one run
    run_body = json.dumps(body).encode()
    try:
        return {
            "POST /jobs/register": median_us(
                lambda: client.post("/jobs/register", headers=HEADERS, data=register.body).status_code, count
            ),
            "POST /runs": median_us(
                lambda: client.post("/runs", headers=HEADERS, data=run_body).status_code, count
            ),
            "GET /runs?job_id=N": median_us(
                lambda: client.get(f"/runs?job_id={middle}", headers=HEADERS).status_code, count
            ),
        }
    finally:
        app.close()


def compare_execution(folder: Path, transactions: int = 3000) -> None:
    """The same two statements in one transaction (a counter bump, a record insert): through
    SQLAlchemy's ``Connection.execute``, and compiled once and run on the driver's cursor."""
    import sqlalchemy as sa

    from pactstub.state import sql
    from pactstub.state.store import Store

    with Store(f"sqlite:///{folder}/execution.sqlite3") as store:
        store.next_value("n")
        statements = sql.statements("sqlite")
        values = {"session": "default", "collection": "c", "data": "{}", "now": 0}
        names = {"session": "default", "name": "n"}
        bump, insert = sa.text(statements.bump_counter), sa.text(statements.insert_record)
        with store.engine.connect() as connection:
            started = time.perf_counter()
            for n in range(transactions):
                with connection.begin():
                    connection.execute(bump, names).scalar_one()
                    connection.execute(insert, {**values, "id": n + 1})
            through_sqlalchemy = (time.perf_counter() - started) / transactions * 1e6
        raw = store.engine.raw_connection()
        cursor = raw.cursor()
        started = time.perf_counter()
        for n in range(transactions):
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(statements.bump_counter, names)
            cursor.fetchone()
            cursor.execute(statements.insert_record, {**values, "id": transactions + n + 1})
            raw.commit()
        on_the_driver = (time.perf_counter() - started) / transactions * 1e6
        raw.close()
    print(
        f"counter bump + record insert, one transaction: Connection.execute {through_sqlalchemy:.0f} µs, "
        f"compiled SQL on the driver's cursor {on_the_driver:.0f} µs"
    )


def compare_locks(folder: Path, threads: int = 8, saves: int = 300) -> None:
    """Threads of one process saving records at once: queueing on a lock or in SQLite's busy handler."""
    import threading
    from contextlib import nullcontext

    from pactstub.state.store import Store

    for label, locked in (("process write lock", True), ("SQLite busy handler only", False)):
        with Store(f"sqlite:///{folder}/locks-{locked}.sqlite3") as store:
            if not locked:
                store._context.write_lock = nullcontext()  # what the store did without its lock
            times: list[float] = []

            def work(store: Store = store, times: list[float] = times) -> None:
                for n in range(saves):
                    started = time.perf_counter()
                    with store.unit() as unit:
                        unit.save("c", {"n": n, "id_": unit.next_value("n")})
                    times.append(time.perf_counter() - started)

            workers = [threading.Thread(target=work) for _ in range(threads)]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            took = time.perf_counter() - started
            times.sort()
            p50, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000
            print(f"{label:<26} {threads * saves / took:>7,.0f} saves/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description="Templated request latency as the store grows.")
    parser.add_argument("--sizes", default="2000,100000", help="records in the store, comma-separated")
    parser.add_argument("--requests", type=int, default=300, help="requests timed per row (the median)")
    parser.add_argument("--postgres-url", help="a PostgreSQL server to measure on as well")
    parser.add_argument("--compare-execution", action="store_true", help="only the execution comparison")
    parser.add_argument("--compare-locks", action="store_true", help="only the lock comparison")
    options = parser.parse_args()
    if options.compare_execution or options.compare_locks:
        with tempfile.TemporaryDirectory() as folder:
            if options.compare_execution:
                compare_execution(Path(folder))
            if options.compare_locks:
                compare_locks(Path(folder))
        return
    sizes = [int(size) for size in options.sizes.split(",")]
    databases = ["sqlite"] + (["postgres"] if options.postgres_url else [])
    heading = ("database", "records", "import s", "request", "median µs", "x smallest")
    print("{:<9} {:>9} {:>9}  {:<20} {:>10} {:>10}".format(*heading))
    for database in databases:
        first: dict[str, float] = {}
        for size in sizes:
            with tempfile.TemporaryDirectory() as folder:
                if database == "sqlite":
                    url = f"sqlite:///{folder}/store.sqlite3"
                    took = seed(url, size, Path(folder))
                    figures = measure(url, size, options.requests)
                else:
                    with bench_database(options.postgres_url) as url:
                        took = seed(url, size, Path(folder))
                        figures = measure(url, size, options.requests)
            for request, micros in figures.items():
                first.setdefault(request, micros)
                ratio = micros / first[request]
                print(f"{database:<9} {size:>9,} {took:>9.1f}  {request:<20} {micros:>10.0f} {ratio:>9.2f}x")
                took = float("nan")


if __name__ == "__main__":
    main()
