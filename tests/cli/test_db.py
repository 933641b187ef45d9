"""``pactstub db``: Alembic behind the CLI, on a real SQLite file (and PostgreSQL if given)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from pactstub.cli import main
from pactstub.state import migrate


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    clean = {"PACTSTUB_DATABASE_URL": None, "DATABASE_URL": None, **(env or {})}
    return CliRunner().invoke(main, list(args), env=clean, catch_exceptions=False)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_current_downgrade(url: str) -> None:
    result = run("db", "current", "--database-url", url)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{url}: not migrated"

    result = run("db", "upgrade", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{url}: at revision {migrate.head()} (head)"
    assert {"pactstub_counters", "pactstub_records"} <= tables(url)

    assert (
        run("db", "current", "--database-url", url).stdout.strip()
        == f"{url}: at revision {migrate.head()} (head)"
    )

    result = run("db", "downgrade", "base", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{url}: not migrated"
    assert not {"pactstub_counters", "pactstub_records"} & tables(url)


def test_url_from_the_environment(url: str) -> None:
    assert run("db", "upgrade", env={"DATABASE_URL": url}).exit_code == 0
    other = url.replace("cli.sqlite3", "other.sqlite3")
    result = run("db", "current", env={"DATABASE_URL": url, "PACTSTUB_DATABASE_URL": other})
    assert result.stdout.strip() == f"{other}: not migrated"


def test_unknown_revision_is_a_user_error(url: str) -> None:
    result = run("db", "upgrade", "nope", "--database-url", url)
    assert result.exit_code == 2
    assert "Can't locate revision identified by 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_downgrade_needs_a_revision(url: str) -> None:
    result = run("db", "downgrade", "--database-url", url)
    assert result.exit_code == 2
    assert "Missing argument 'REVISION'" in result.output


def test_unreachable_database_exits_3_and_hides_the_password() -> None:
    """3, not 2: the URL may be right and the database down; the same command may work later."""
    result = run("db", "upgrade", "--database-url", "postgresql://me:s3cret@127.0.0.1:1/x")
    assert result.exit_code == 3
    assert "me:***@127.0.0.1:1/x" in result.stderr
    assert "s3cret" not in result.output


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade(postgres_url: str) -> None:
    assert run("db", "upgrade", "--database-url", postgres_url).exit_code == 0
    assert (
        f"at revision {migrate.head()} (head)" in run("db", "current", "--database-url", postgres_url).stdout
    )
    assert run("db", "downgrade", "base", "--database-url", postgres_url).exit_code == 0
    assert "not migrated" in run("db", "current", "--database-url", postgres_url).stdout
