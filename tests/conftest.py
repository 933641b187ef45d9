"""Fixtures shared by the whole suite: the repository's pacts and small pact builders."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import settings

from tests.shop import Shop, shop_at
from tests.sources.broker import FakeBroker, running

# Property-based tests draw the same examples every run, so a red run means a change broke
# something, not that the dice found an old flaw on the day. PACTSTUB_FUZZ_EXPLORE=1 draws new
# ones each run (and ``python -m bench.reliability --generated N`` many more requests).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("PACTSTUB_FUZZ_EXPLORE") else "repeatable")

ROOT = Path(__file__).resolve().parent.parent
EPX_PACT = ROOT / "pacts" / "epx-epistemix.json"
S3_PACT = ROOT / "pacts" / "epx-s3.json"
TEMPLATES = ROOT / "templates"
#: PostgreSQL tests take the server's URL from here and are skipped, saying so, without it
POSTGRES_ENV = "PACTSTUB_TEST_POSTGRES_URL"


@pytest.fixture
def epx_pact() -> Path:
    return EPX_PACT


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    """A Pact Broker on a free port (open, with no pacts, until the test sets it up)."""
    with running(FakeBroker()) as fake:
        yield fake


def epx_run_request(job: int) -> dict[str, Any]:
    """A ``POST /runs`` body for ``job``: the Epistemix pact's own example run request."""
    document = json.loads(EPX_PACT.read_text(encoding="utf-8"))
    run: dict[str, Any] = document["interactions"][4]["request"]["body"]["runRequests"][0]
    return {"runRequests": [{**run, "jobId": job}]}


def pact_document(*interactions: dict[str, Any], version: str = "3.0.0") -> dict[str, Any]:
    """A pact with the given interactions (each gets a description if it has none)."""
    numbered = [{"description": f"interaction {i}", **it} for i, it in enumerate(interactions)]
    return {
        "consumer": {"name": "tests"},
        "provider": {"name": "provider"},
        "interactions": numbered,
        "metadata": {"pactSpecification": {"version": version}},
    }


def interactions_in(path: Path) -> int:
    """How many interactions the pact file holds, so tests that load a shipped pact
    check that all of it arrived without repeating its size."""
    return len(json.loads(path.read_text(encoding="utf-8"))["interactions"])


@pytest.fixture
def write_pact(tmp_path: Path) -> Callable[..., Path]:
    """Write a pact document (or raw text) to a file in tmp_path and return its path."""

    def write(document: dict[str, Any] | str, name: str = "pact.json") -> Path:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        return path

    return write


class ServeProcess:
    """``pactstub serve`` running as a subprocess on a real socket.

    ``prefix`` goes before the command, e.g. ``ip netns exec NAME`` to run it on another host.
    """

    def __init__(
        self,
        args: list[str],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        import os
        import subprocess
        import sys
        import tempfile

        # A file, not a pipe: a server logging a line per request would block on a full pipe.
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "pactstub", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        assert self.process.stdout is not None
        self.banner = self.process.stdout.readline()
        self.stderr = ""
        if "serving" not in self.banner:
            self.stop()
            raise RuntimeError(f"pactstub serve did not start: {self.banner}{self.stderr}")
        self.url = self.banner.split("serving ", 1)[1].split()[0]

    def log(self) -> str:
        """What the server has written to stderr so far."""
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> int:
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.communicate()
        if not self._log.closed:
            self.stderr = self.log()
            self._log.close()
        return self.process.returncode


@pytest.fixture
def serve() -> Any:
    """Start ``pactstub serve ARGS`` (remember to pass ``--port 0``); stopped after the test."""
    started: list[ServeProcess] = []

    def start(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, prefix: Sequence[str] = ()
    ) -> ServeProcess:
        process = ServeProcess(list(args), env, cwd, prefix)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    return url


def admin_engine(url: str) -> sa.Engine:
    """An engine on the test database itself, outside any test's schema."""
    parsed = sa.make_url(url.replace("postgres://", "postgresql://", 1))
    return sa.create_engine(parsed.set(drivername="postgresql+psycopg2"), poolclass=sa.NullPool)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections live in a schema made for this test alone, dropped after it.

    The schema goes first on the ``search_path`` through libpq ``options``, so tests
    and pytest-xdist workers never see each other's tables, counters or migrations.
    """
    base = postgres_base_url()
    schema = f"pactstub_test_{uuid.uuid4().hex[:16]}"
    admin = admin_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once on a SQLite file and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """The shop pact (tests/shop.py) in tmp_path, for templates the test writes."""
    yield from shop_at(tmp_path)
