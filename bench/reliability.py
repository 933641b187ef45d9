"""The figures of the README's reliability section, measured on real servers in a minute or two.

``python -m bench.reliability`` runs four parts (``--parts`` picks some):

``fuzz``
    ``pactstub serve`` (the default server, Epistemix templates, SQLite) gets the
    hand-written malformed requests of ``tests/hostile.py`` and N generated ones (the same
    hypothesis strategies the test suite uses); counted: answers with a 5xx, JSON bodies
    that are not JSON, connections closed without an answer.
``kill``
    Client threads register jobs and submit runs while the server is killed with SIGKILL
    three times and restarted on the same port; then every acknowledged job and run is
    looked for in the store. Lost and reused ids, both expected 0, on SQLite and (with
    ``PACTSTUB_BENCH_POSTGRES_URL``) PostgreSQL.
``outage``
    PostgreSQL reached through a forwarder that is frozen (nothing answers), then cut
    (connections closed): how long a registration and ``/health`` take to answer and
    with what, and how long the stub takes to recover once the database is back.
``slowloris``
    Connections that send a header byte now and then stay open while a client sends
    ordinary requests; their latency, with one worker and two.

Figures depend on the machine and its load: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from bench import harness, postgres
from bench.epistemix import EPX_PACT, ROOT, TEMPLATES
from pactstub.state.store import Store
from tests.hostile import EPX_HEADERS, HAND_WRITTEN, Hostile, exchange, problems, requests
from tests.stall import StallingForwarder

S3_PACT = ROOT / "pacts" / "epx-s3.json"
PARTS = ("fuzz", "kill", "outage", "slowloris")
RUN_REQUEST = json.loads(EPX_PACT.read_text(encoding="utf-8"))["interactions"][4]["request"]["body"]


# ------------------------------------------------------------------ plumbing


@contextmanager
def serving(database_url: str, log_dir: Path, *extra: str, port: int = 0) -> Iterator[harness.Server]:
    server = start(database_url, log_dir, *extra, port=port)
    try:
        yield server
    finally:
        server.stop()


def start(database_url: str, log_dir: Path, *extra: str, port: int = 0) -> harness.Server:
    return harness.start_pactstub(
        EPX_PACT, database_url=database_url, templates=TEMPLATES, cpus=None, log_dir=log_dir, port=port,
        extra=["--pact", str(S3_PACT), "--log-level", "warning", *extra],
    )  # fmt: skip


def call(port: int, method: str, path: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
    """One request on a new connection; (status, JSON body or None)."""
    connection = http.client.HTTPConnection(harness.HOST, port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body)
        connection.request(method, path, body=data, headers=EPX_HEADERS)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


# ------------------------------------------------------------------ fuzz


def fuzz(generated: int, log_dir: Path) -> dict[str, Any]:
    counts = {"requests": 0, "5xx": 0, "not JSON": 0, "no answer": 0}
    failures: list[dict[str, Any]] = []  # the requests behind the counts, to reproduce them

    def send(request: Hostile) -> None:
        answer = exchange(server.url, request)
        counts["requests"] += 1
        found = ["no answer"] if answer is None else problems(*answer)
        for problem in found:
            kind = "5xx" if problem.startswith("status") else "not JSON"
            counts["no answer" if problem == "no answer" else kind] += 1
        if found:
            answered = repr(answer)[:500]
            failures.append({"problems": found, "request": repr(request)[:2000], "answer": answered})

    with serving(f"sqlite:///{log_dir / 'fuzz.sqlite3'}", log_dir) as server:
        for request in HAND_WRITTEN.values():
            send(request)
        checks = settings(
            max_examples=generated, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        checks(given(requests())(send))()
    generated_count = counts["requests"] - len(HAND_WRITTEN)
    return {"hand_written": len(HAND_WRITTEN), "generated": generated_count, **counts, "failures": failures}


# ------------------------------------------------------------------ kill -9


def kill_durability(database_url: str, log_dir: Path, kills: int, interval_s: float) -> dict[str, Any]:
    """Kill the server ``kills`` times under load; every acknowledged id must be in the store, once."""
    port = harness.free_port()
    acknowledged: list[tuple[int, int]] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                status, job = call(port, "POST", "/jobs/register", {"tags": ["durable"]}, timeout=5)
                if status != 200:
                    continue
                run = {**RUN_REQUEST["runRequests"][0], "jobId": job["id"]}
                status, runs = call(port, "POST", "/runs", {"runRequests": [run]}, timeout=5)
                if status == 200:
                    acknowledged.append((job["id"], runs["runResponses"][0]["runId"]))
            except (OSError, http.client.HTTPException):
                time.sleep(0.02)  # killed under us: try again once it is back

    server = start(database_url, log_dir, port=port)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(kills):
        time.sleep(interval_s)
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
        server = start(database_url, log_dir, port=port)
    time.sleep(interval_s)
    stop.set()
    for thread in threads:
        thread.join()
    server.stop()
    with Store(database_url) as store:
        records = store.export()["records"]
    stored = {(r["collection"], r["id"]) for r in records}
    jobs, runs = [job for job, _ in acknowledged], [run for _, run in acknowledged]
    lost = sum(("jobs", job) not in stored for job in jobs) + sum(("runs", run) not in stored for run in runs)
    reused = (len(jobs) - len(set(jobs))) + (len(runs) - len(set(runs)))
    return {"kills": kills, "acknowledged_runs": len(acknowledged), "lost": lost, "ids_reused": reused}


# ------------------------------------------------------------------ database outage


def outage(database_url: str, log_dir: Path, timeout_s: float) -> dict[str, Any]:
    url = sa.make_url(database_url)
    found: dict[str, Any] = {"database_timeout_s": timeout_s}
    with StallingForwarder((url.host or "127.0.0.1", url.port or 5432)) as forwarder:
        through = url.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
        with serving(through, log_dir, "--database-timeout", str(timeout_s)) as server:
            call(server.port, "POST", "/jobs/register", {"tags": ["before"]})
            for name, breaks in (("frozen", forwarder.freeze), ("down", forwarder.cut)):
                breaks()
                (status, _), register_s = timed(
                    lambda: call(server.port, "POST", "/jobs/register", {"tags": []})
                )
                (health, _), health_s = timed(lambda: call(server.port, "GET", "/health"))
                forwarder.restore()
                back, recovery_s = timed(lambda: recovered(server.port))
                found[name] = {
                    "register": status, "register_s": round(register_s, 2),
                    "health": health, "health_s": round(health_s, 2),
                    "recovery_s": round(recovery_s, 2) if back else None,
                }  # fmt: skip
    return found


def recovered(port: int, within_s: float = 60.0) -> bool:
    """Whether a registration succeeds again within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if call(port, "POST", "/jobs/register", {"tags": ["after"]})[0] == 200:
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------ slowloris


def slowloris(workers: int, connections: int, log_dir: Path) -> dict[str, Any]:
    database = f"sqlite:///{log_dir / f'slowloris-{workers}.sqlite3'}"
    with serving(database, log_dir, "--workers", str(workers)) as server:
        quiet = latencies(server.port)
        stop = threading.Event()
        for _ in range(connections):
            threading.Thread(target=trickle, args=(server.port, stop), daemon=True).start()
        time.sleep(1.0)  # every slow connection open and sending
        loaded = latencies(server.port)
        stop.set()
    return {"workers": workers, "slow_connections": connections, "quiet": quiet, "under_slowloris": loaded}


def trickle(port: int, stop: threading.Event) -> None:
    """A client that sends its request line, then one header byte every half second."""
    try:
        with socket.create_connection((harness.HOST, port), timeout=5) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
            while not stop.wait(0.5):
                sock.sendall(b"x")
    except OSError:
        pass  # the server closed it: it gave up waiting, as it should


def latencies(port: int, count: int = 40) -> dict[str, float]:
    """Latency of ``count`` ordinary requests, one after the other, each on a new connection."""
    answers = [timed(lambda: call(port, "GET", "/runs?job_id=123", timeout=30)) for _ in range(count)]
    assert all(status == 200 for (status, _), _ in answers), "an ordinary request was not answered"
    seconds = sorted(elapsed for _, elapsed in answers)
    return {
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p99_ms": round(seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))] * 1000, 1),
        "max_ms": round(seconds[-1] * 1000, 1),
    }


# ------------------------------------------------------------------ the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--generated", type=int, default=1500, help="generated requests in the fuzz part")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds of load before each kill")
    parser.add_argument("--database-timeout", type=float, default=2.0, help="of the outage part, seconds")
    parser.add_argument("--slow-connections", type=int, default=50)
    arguments = parser.parse_args()
    parts = arguments.parts.split(",")
    pg = postgres.bench_url("pactstub_reliability")  # its own database: nobody else's run is disturbed
    results: dict[str, Any] = {"environment": harness.environment()}
    with tempfile.TemporaryDirectory(prefix="pactstub-reliability-") as folder:
        log_dir = Path(folder)
        if "fuzz" in parts:
            results["fuzz"] = report("fuzz", fuzz(arguments.generated, log_dir))
        if "kill" in parts:
            databases = {"sqlite": f"sqlite:///{log_dir / 'kill.sqlite3'}"}
            if pg is not None:
                postgres.drop_tables(pg)
                databases["postgresql"] = pg
            results["kill"] = {
                name: report(
                    f"kill -9 ({name})", kill_durability(url, log_dir, arguments.kills, arguments.interval)
                )
                for name, url in databases.items()
            }
        if "outage" in parts:
            if pg is None:
                print(f"outage: skipped ({postgres.ENV} is not set)")
            else:
                postgres.drop_tables(pg)
                results["outage"] = report("outage", outage(pg, log_dir, arguments.database_timeout))
        if "slowloris" in parts:
            results["slowloris"] = [
                report(
                    f"slowloris ({workers} worker{'s' * (workers > 1)})",
                    slowloris(workers, arguments.slow_connections, log_dir),
                )
                for workers in (1, 2)
            ]
    print(f"results: {harness.write_results('reliability', results)}")


def report(title: str, figures: dict[str, Any]) -> dict[str, Any]:
    print(f"{title}: {json.dumps(figures)}", flush=True)
    return figures


if __name__ == "__main__":
    main()
