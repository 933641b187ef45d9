"""Alembic, driven from code: the one way pactstub's schema is created or changed.

There is a single copy of the migration scripts, the top-level ``migrations/``
folder. An installed pactstub ships it as the package ``pactstub.migrations``
(setuptools ``package_dir``), so the :class:`~alembic.config.Config` is built here
with a package-resource ``script_location`` (as pypi/warehouse does) instead of a
path in an ``alembic.ini`` that an installed package does not have. A checkout
that is not installed falls back to the folder next to the ``pactstub`` package.

Every run happens on a connection handed to ``env.py`` through
``config.attributes["connection"]``, inside one transaction that holds a lock:
``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL.
Several gunicorn workers or servers starting at once therefore migrate one after
the other, and the later ones find the schema already at head. An in-memory SQLite
database is migrated on its one shared connection, which is the point of passing
the connection in.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from pactstub.errors import DatabaseError, StoreError
from pactstub.state.engine import WRITE_OPTION, DatabaseSettings, create_engine

__all__ = [
    "MIGRATIONS_PACKAGE",
    "VERSION_TABLE",
    "RevisionError",
    "current",
    "describe_error",
    "downgrade",
    "head",
    "locked_connection",
    "make_config",
    "script_location",
    "upgrade",
]

MIGRATIONS_PACKAGE = "pactstub.migrations"
#: Not Alembic's default ``alembic_version``: the application under test may keep
#: its own Alembic history in the same PostgreSQL database.
VERSION_TABLE = "pactstub_alembic_version"


class RevisionError(StoreError):
    """A revision asked for does not exist, or the database is at one we do not know."""


def script_location() -> str:
    """Where Alembic finds ``env.py``: the package resource, else the checkout's folder."""
    try:
        spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    except ModuleNotFoundError:
        spec = None
    if spec is not None:
        return f"{MIGRATIONS_PACKAGE}:."
    checkout = Path(__file__).resolve().parents[2] / "migrations"
    if (checkout / "env.py").is_file():
        return str(checkout)
    raise StoreError(
        f"the migration scripts are missing: neither the package {MIGRATIONS_PACKAGE!r} "
        "nor a 'migrations' folder next to the pactstub package was found"
    )


def make_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config without an ini file; ``url`` is escaped for configparser."""
    config = Config()
    config.set_main_option("script_location", script_location())
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def locked_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction that holds the migration lock; commits on exit."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Per schema: tests (and tenants) with their own schema do not wait on each other.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.pactstub_migrate'))")
                )
            yield connection


#: What the public functions accept: an engine made by ``pactstub.state.engine.create_engine``
#: (an in-memory database must be migrated on its own engine), or a URL / settings.
Target = Engine | str | DatabaseSettings


@contextmanager
def _engine(target: Target) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = create_engine(DatabaseSettings(url=target) if isinstance(target, str) else target)
    try:
        yield engine
    finally:
        engine.dispose()


def _run(target: Target, action: str, revision: str) -> None:
    with _engine(target) as engine:
        _run_on(engine, action, revision)


def _run_on(engine: Engine, action: str, revision: str) -> None:
    try:
        with locked_connection(engine) as connection:
            config = make_config(connection=connection)
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    except CommandError as error:
        where = _safe_url(engine)
        raise RevisionError(f"cannot {action} database {where} to {revision!r}: {error}") from error
    except SQLAlchemyError as error:
        where = _safe_url(engine)
        raise DatabaseError(f"cannot {action} database {where}: {describe_error(error)}") from error


def upgrade(target: Target, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest)."""
    _run(target, "upgrade", revision)


def downgrade(target: Target, revision: str) -> None:
    """Take the schema down to ``revision``; ``"base"`` drops every pactstub table."""
    _run(target, "downgrade", revision)


def current(target: Target) -> str | None:
    """The revision the database is at, or ``None`` for a database never migrated."""
    with _engine(target) as engine:
        return _current(engine)


def _current(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            heads = context.get_current_heads()
            connection.rollback()
    except SQLAlchemyError as error:
        raise DatabaseError(f"cannot read database {_safe_url(engine)}: {describe_error(error)}") from error
    return heads[0] if heads else None


def describe_error(error: SQLAlchemyError) -> str:
    """The driver's own words on one line (no SQL, no parameters), else SQLAlchemy's."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return " ".join(str(error.orig).split())
    return " ".join(str(error).split())


def head() -> str | None:
    """The newest revision of the migration scripts."""
    return ScriptDirectory.from_config(make_config()).get_current_head()
