"""``pactstub db``: the store's schema, through Alembic (the same scripts as ``alembic``).

``pactstub serve`` migrates by itself; these commands are for deploys that migrate
as a separate step, for looking at a database, and for going back a revision.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pactstub.cli.options import with_user_errors
from pactstub.state import migrate
from pactstub.state.store import DEFAULT_URL, DatabaseSettings

F = TypeVar("F", bound=Callable[..., Any])


def database_url_option(function: F) -> F:
    """``--database-url``, shared with ``pactstub state``."""
    return click.option(
        "--database-url",
        default=DEFAULT_URL,
        show_default=True,
        envvar=["PACTSTUB_DATABASE_URL", "DATABASE_URL"],
        help="Counter and record store (SQLite file, sqlite:// in memory, or PostgreSQL).",
    )(function)


def settings_for(database_url: str) -> DatabaseSettings:
    """The URL given, with the pool settings of the environment (``DATABASE_POOL_*``)."""
    return dataclasses.replace(DatabaseSettings.from_env(os.environ), url=database_url)


def _report(settings: DatabaseSettings) -> None:
    revision = migrate.current(settings)
    state = "not migrated" if revision is None else f"at revision {revision}"
    if revision is not None and revision == migrate.head():
        state += " (head)"
    click.echo(f"{settings.safe_url()}: {state}")


@click.group()
def db() -> None:
    """Create, inspect or change the schema of the counter and record store."""


@db.command()
@click.argument("revision", default="head")
@database_url_option
@with_user_errors
def upgrade(revision: str, database_url: str) -> None:
    """Migrate up to REVISION (default: head, the newest)."""
    settings = settings_for(database_url)
    migrate.upgrade(settings, revision)
    _report(settings)


@db.command()
@click.argument("revision")
@database_url_option
@with_user_errors
def downgrade(revision: str, database_url: str) -> None:
    """Migrate down to REVISION; "base" removes every pactstub table."""
    settings = settings_for(database_url)
    migrate.downgrade(settings, revision)
    _report(settings)


@db.command()
@database_url_option
@with_user_errors
def current(database_url: str) -> None:
    """Print the revision the database is at."""
    _report(settings_for(database_url))
