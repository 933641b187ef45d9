"""A store on each real database (``database_url`` from the top-level conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from pactstub.state.store import Store
from tests.conftest import admin_engine


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened


def table_names(url: str) -> set[str]:
    """The tables the database (the test's schema) holds, seen from outside the store."""
    engine = sa.create_engine(url, poolclass=sa.NullPool) if url.startswith("sqlite") else admin_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def tables() -> Callable[[str], set[str]]:
    """``tables(url)``: the table names of a database, read with a separate engine."""
    return table_names
