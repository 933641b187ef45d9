"""Alembic environment of pactstub's store.

Two ways in:

* ``pactstub.state.migrate`` (``pactstub db ...``, and every ``Store`` at start) hands
  over a connection already in a locked transaction via
  ``config.attributes["connection"]``; it is used as is and committed by the caller.
* the ``alembic`` command from a checkout (``alembic.ini`` at the top level) has no
  connection: the URL comes from ``sqlalchemy.url`` if set, else
  ``PACTSTUB_DATABASE_URL`` / ``DATABASE_URL``, else the default SQLite file, and the
  engine is built by the store so it gets the same WAL mode, busy timeout and lock.
"""

from __future__ import annotations

import dataclasses
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection

from pactstub.state import migrate
from pactstub.state.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from pactstub.state.store import DatabaseSettings

    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return DatabaseSettings(url=configured).normalized_url()
    return DatabaseSettings.from_env(os.environ).normalized_url()


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "version_table": migrate.VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
    }


def _migrate_on(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """``alembic upgrade head --sql``: print the SQL instead of running it."""
    url = _url()
    context.configure(
        url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **_options(url.split(":", 1)[0])
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate_on(connection)
        return
    from pactstub.state.store import DatabaseSettings, create_engine

    settings = dataclasses.replace(DatabaseSettings.from_env(os.environ), url=_url())
    engine = create_engine(settings)
    try:
        with migrate.locked_connection(engine) as locked:
            _migrate_on(locked)
    finally:
        engine.dispose()


if config.config_file_name is not None:
    fileConfig(config.config_file_name)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
