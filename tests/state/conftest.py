"""Real databases for the store tests: a SQLite file in tmp_path and, when
``PACTSTUB_TEST_POSTGRES_URL`` is set, a PostgreSQL schema of the test's own.

Each PostgreSQL test gets a fresh schema (put first on the ``search_path`` through
libpq ``options``), dropped afterwards, so tests and pytest-xdist workers never see
each other's tables, counters or Alembic version.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pactstub.state.store import Store

POSTGRES_ENV = "PACTSTUB_TEST_POSTGRES_URL"


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    return url


def _admin_engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url.replace("postgres://", "postgresql://", 1))
    return sa.create_engine(parsed.set(drivername="postgresql+psycopg2"), poolclass=sa.NullPool)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections live in a schema made for this test alone."""
    base = postgres_base_url()
    schema = f"pactstub_test_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine(base)
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
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened


def table_names(url: str) -> set[str]:
    """The tables the database (the test's schema) holds, seen from outside the store."""
    engine = sa.create_engine(url, poolclass=sa.NullPool) if url.startswith("sqlite") else _admin_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def tables() -> Callable[[str], set[str]]:
    """``tables(url)``: the table names of a database, read with a separate engine."""
    return table_names
