"""A PostgreSQL database of the benchmark's own, so it never touches anyone else's tables.

The URL comes from ``PACTSTUB_BENCH_POSTGRES_URL`` (any database on the server
will do to connect); the benchmark then works in a dedicated database (by default
``pactstub_bench``), created if missing, and drops pactstub's tables there before
and after each run, so every configuration starts from an empty store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pactstub.state.migrate import VERSION_TABLE
from pactstub.state.models import Base

ENV = "PACTSTUB_BENCH_POSTGRES_URL"
DEFAULT_DATABASE = "pactstub_bench"
#: pactstub's tables and its Alembic version table
TABLES = (*(table.name for table in Base.metadata.sorted_tables), VERSION_TABLE)


@contextmanager
def bench_database(base: str, database: str = DEFAULT_DATABASE) -> Iterator[str]:
    """The URL of the benchmark's own database on the server of ``base``, empty, and emptied after."""
    if base.startswith("postgres://"):
        base = "postgresql://" + base.removeprefix("postgres://")
    _create_database(base, database)
    url = make_url(base).set(database=database).render_as_string(hide_password=False)
    drop_tables(url)
    try:
        yield url
    finally:
        drop_tables(url)


def bench_url(database: str = DEFAULT_DATABASE) -> str | None:
    """The URL of the benchmark's database, created if needed; ``None`` without the env var.

    An empty ``database`` uses the env URL's own database as is (its pactstub
    tables are then dropped: only do that on a database nobody else uses).
    """
    base = os.environ.get(ENV, "").strip()
    if not base:
        return None
    if base.startswith("postgres://"):
        base = "postgresql://" + base.removeprefix("postgres://")
    if not database:
        return base
    _create_database(base, database)
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def drop_tables(url: str) -> None:
    """Drop pactstub's tables so the next ``pactstub serve`` migrates an empty store."""
    engine = sa.create_engine(_psycopg2(url))
    try:
        with engine.begin() as connection:
            for table in TABLES:
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        engine.dispose()


def _create_database(base: str, database: str) -> None:
    engine = sa.create_engine(_psycopg2(base), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).scalar()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    finally:
        engine.dispose()


def _psycopg2(url: str) -> str:
    """SQLAlchemy 2.1 defaults to psycopg 3; pactstub (and this venv) has psycopg2."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)
