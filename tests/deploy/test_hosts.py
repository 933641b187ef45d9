"""Two hosts, one PostgreSQL: ``pactstub serve`` on each behaves as one stub.

Each host is a network namespace of its own (see ``network.py``) running ``pactstub serve``
with the Epistemix templates on the same PostgreSQL schema, migrated once beforehand with
``pactstub db upgrade`` as a deploy does. The tests drive both hosts at once, over their
own addresses, and look for one sandbox: ids, records, journal and reset shared.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES
from tests.deploy.network import Lan, TcpForwarder, lan
from tests.test_epistemix import HEADERS, Epx, call, run_request

pytestmark = pytest.mark.postgres

JOBS = 24  # registered across both hosts, each with one run submitted on the other host


@pytest.fixture
def network() -> Iterator[Lan]:
    with lan(2) as made:
        yield made


@pytest.fixture
def shared_database(network: Lan, postgres_url: str) -> Iterator[str]:
    """The test's PostgreSQL schema, migrated once, as the hosts reach it over the /24."""
    url = sa.make_url(postgres_url)
    forwarder = TcpForwarder(network.gateway, (url.host or "127.0.0.1", url.port or 5432))
    try:
        migrate = [sys.executable, "-m", "pactstub", "db", "upgrade", "--database-url", postgres_url]
        done = subprocess.run(migrate, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        host, port = forwarder.address
        yield url.set(host=host, port=port).render_as_string(hide_password=False)
    finally:
        forwarder.close()


@pytest.fixture
def hosts(network: Lan, shared_database: str, serve: Any) -> list[Epx]:
    """``pactstub serve`` on each host, bound to that host's address (stopped before the network goes)."""
    started = []
    for host in network.hosts:
        server = serve(
            "--pact", str(EPX_PACT), "--pact", str(S3_PACT), "--templates", str(TEMPLATES),
            "--database-url", shared_database, "--pool-size", "4",
            "--host", host.address, "--port", "0",
            prefix=host.command(),
        )  # fmt: skip
        assert server.url.startswith(f"http://{host.address}:")
        started.append(Epx(server.url))
    return started


def drive(hosts: list[Epx]) -> list[tuple[int, int, int]]:
    """Register jobs on both hosts at once, each job's run submitted on the other host.

    Returns (index of the registering host, job id, run id) for each job.
    """

    def one(index: int) -> tuple[int, int, int]:
        here, there = hosts[index % 2], hosts[(index + 1) % 2]
        job = here.register([f"job-{index}"])
        [run] = there.submit(run_request(job["id"], f"run-{index}"))
        assert run["jobId"] == job["id"]
        return index % 2, job["id"], run["runId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(JOBS)))


def journal(host: Epx) -> list[dict[str, Any]]:
    status, entries = call("GET", f"{host.url}/_pactstub/requests")
    assert status == 200, entries
    return list(entries)


def test_ids_handed_out_by_both_hosts_at_once_are_unique(hosts: list[Epx]) -> None:
    jobs = drive(hosts)
    job_ids, run_ids = [job for _, job, _ in jobs], [run for _, _, run in jobs]
    assert sorted(job_ids) == list(range(123, 123 + JOBS))
    assert sorted(run_ids) == list(range(978, 978 + JOBS))
    assert {host for host, _, _ in jobs} == {0, 1}


def test_every_write_is_visible_from_either_host(hosts: list[Epx]) -> None:
    jobs = drive(hosts)
    for (_, job, run), host in itertools.product(jobs, hosts):
        runs = host.runs(job)
        assert [(r["id"], r["jobId"]) for r in runs] == [(run, job)], host.url
    expected = {
        "session": "default",
        "counters": {"jobs": 123 + JOBS - 1, "runs": 978 + JOBS - 1},
        "collections": {"jobs": JOBS, "runs": JOBS},
        "sessions": ["default"],
    }
    assert [call("GET", f"{host.url}/_pactstub/state") for host in hosts] == [(200, expected)] * 2


def test_one_journal_lists_the_requests_of_both_hosts(hosts: list[Epx]) -> None:
    """Each host writes its entries within a moment (batched); either host then lists both."""
    first, second = hosts
    first.runs(1001)
    second.runs(2002)
    for host in hosts:
        deadline = time.monotonic() + 5
        while True:
            queries = [entry["query"] for entry in journal(host) if entry["path"] == "/runs"]
            if {"job_id=1001", "job_id=2002"} <= set(queries) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert "job_id=1001" in queries, host.url
        assert "job_id=2002" in queries, host.url


def test_a_reset_on_one_host_clears_what_the_other_sees(hosts: list[Epx]) -> None:
    first, second = hosts
    assert [first.register(["a"])["id"], second.register(["b"])["id"]] == [123, 124]
    first.submit(run_request(124, "before"))
    assert len(second.runs(124)) == 1
    assert journal(second)

    status, body = call("POST", f"{first.url}/_pactstub/reset", headers=HEADERS)
    assert status == 200, body

    assert second.runs(124) == []
    assert [e for e in journal(second) if e["path"] == "/jobs/register"] == []
    assert second.register(["after"])["id"] == 123
