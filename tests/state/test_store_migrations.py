"""The schema exists only through Alembic: in code, from the ``alembic`` command, up and down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pactstub.errors import ConfigError, StoreError, StoreUnavailable
from pactstub.state import migrate
from pactstub.state.models import Base
from pactstub.state.store import DatabaseSettings, Store, create_engine

ROOT = Path(__file__).resolve().parents[2]
DATA_TABLES = {
    "pactstub_counters",
    "pactstub_collections",
    "pactstub_records",
    "pactstub_record_fields",
    "pactstub_clocks",
    "pactstub_faults",
    "pactstub_journal",
}
STORE_TABLES = DATA_TABLES | {migrate.VERSION_TABLE}


def test_upgrade_and_downgrade(database_url: str, tables: Callable[[str], set[str]]) -> None:
    assert migrate.current(database_url) is None
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == migrate.head() == "0002"
    assert tables(database_url) >= STORE_TABLES
    migrate.upgrade(database_url)  # at head already: nothing to do
    migrate.downgrade(database_url, "base")
    assert migrate.current(database_url) is None
    assert tables(database_url) & STORE_TABLES <= {migrate.VERSION_TABLE}
    assert not tables(database_url) & DATA_TABLES


def test_store_without_migrate_leaves_the_schema_alone(database_url: str) -> None:
    with Store(database_url, migrate=False) as store:
        with pytest.raises(StoreError, match="database"):
            store.next_value("jobs")
        migrate.upgrade(store.engine)
        assert store.next_value("jobs") == 1


def test_models_match_the_migrations(database_url: str) -> None:
    """A model change without a revision (or the reverse) shows up here."""
    migrate.upgrade(database_url)
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_unknown_revision_is_a_clear_error(sqlite_url: str) -> None:
    with pytest.raises(migrate.RevisionError, match="Can't locate revision identified by 'nope'"):
        migrate.upgrade(sqlite_url, "nope")


def test_config_escapes_percent_signs() -> None:
    url = "postgresql://u:p%40ss@h/db"
    assert migrate.make_config(url).get_main_option("sqlalchemy.url") == url


def test_script_location_is_the_single_copy() -> None:
    location = migrate.script_location()
    if location.startswith(migrate.MIGRATIONS_PACKAGE):  # installed, or editable install
        return
    assert Path(location) == ROOT / "migrations"


def _alembic(*args: str, url: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PACTSTUB_DATABASE_URL")}
    env["PACTSTUB_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_alembic_command_from_the_checkout(tmp_path: Path, tables: Callable[[str], set[str]]) -> None:
    url = f"sqlite:///{tmp_path / 'with%percent.sqlite3'}"
    done = _alembic("upgrade", "head", url=url)
    assert done.returncode == 0, done.stderr
    assert "Running upgrade  -> 0001" in done.stderr
    assert "Running upgrade 0001 -> 0002" in done.stderr
    assert tables(url) >= STORE_TABLES
    assert migrate.current(url) == "0002"
    with Store(url) as store:  # the store agrees the schema is at head, and uses it
        assert store.next_value("jobs", 123) == 123
    done = _alembic("downgrade", "base", url=url)
    assert done.returncode == 0, done.stderr
    assert not tables(url) & DATA_TABLES


def test_alembic_offline_sql(tmp_path: Path) -> None:
    done = _alembic("upgrade", "0001", "--sql", url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert done.returncode == 0, done.stderr
    assert "CREATE TABLE pactstub_counters" in done.stdout
    assert not (tmp_path / "x.sqlite3").exists()


def test_in_memory_database_is_migrated_on_its_one_connection() -> None:
    with Store("sqlite://") as store:
        assert migrate.current(store.engine) == "0002"
        assert store.next_value("jobs", 3) == 3


def test_settings_from_env() -> None:
    assert DatabaseSettings.from_env({}) == DatabaseSettings("sqlite:///pactstub.sqlite3", 10, 20, 30.0)
    settings = DatabaseSettings.from_env(
        {
            "DATABASE_URL": "postgres://u@h/db",
            "DATABASE_POOL_SIZE": "3",
            "DATABASE_MAX_OVERFLOW": "0",
            "DATABASE_POOL_TIMEOUT": "2.5",
        }
    )
    assert settings == DatabaseSettings("postgres://u@h/db", 3, 0, 2.5)
    assert settings.normalized_url() == "postgresql+psycopg2://u@h/db"
    both = {"DATABASE_URL": "sqlite:///a.sqlite3", "PACTSTUB_DATABASE_URL": "sqlite:///b.sqlite3"}
    assert DatabaseSettings.from_env(both).url == "sqlite:///b.sqlite3"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE='many' is not a int"),
        ({"DATABASE_POOL_SIZE": "0"}, "must be at least 1"),
        ({"DATABASE_POOL_TIMEOUT": "-1"}, "must be at least 0"),
    ],
)
def test_bad_pool_settings(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DatabaseSettings.from_env(environ)


@pytest.mark.parametrize("url", ["mysql://u:pw@h/db", "not a url"])
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Store(url)
    assert "pw" not in str(caught.value)


def test_unreachable_database_names_the_url_without_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        Store("postgresql://someone:s3cret@127.0.0.1:1/nowhere")
    message = str(caught.value)
    assert "postgresql+psycopg2://someone:***@127.0.0.1:1/nowhere" in message
    assert "s3cret" not in message


def test_missing_folder_of_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no folder"):
        Store(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")


def test_forked_children_do_not_reuse_pooled_connections(database_url: str) -> None:
    """gunicorn --preload: a store opened before fork keeps working in the child and the parent.

    The child's pool starts empty, so not even a pre-ping goes over the parent's connection.
    """
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    with Store(database_url) as store:
        store.next_value("jobs", 1)
        assert store.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        pid = os.fork()
        if pid == 0:  # child: must open its own connection
            inherited = store.engine.pool.checkedin()  # type: ignore[attr-defined]
            code = 0 if inherited == 0 and store.next_value("jobs", 1) == 2 else 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert store.next_value("jobs", 1) == 3


def test_engine_is_closed_on_failed_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {migrate.VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)")
        connection.exec_driver_sql(f"INSERT INTO {migrate.VERSION_TABLE} VALUES ('9999')")
    engine.dispose()
    with pytest.raises(migrate.RevisionError, match="9999"):
        Store(url)


# ------------------------------------------------------------------ a store written by 0.1.0

#: A SQLite store written by pactstub 0.1.0 (schema 0001): counters jobs=125, runs=978 and six
#: records (jobs 123-125, runs 978-980; run 980 has jobId "123", a string).
RELEASE_0_1_0 = Path(__file__).parent / "data" / "store-0.1.0.sqlite3"


def _same_answers(store: Store) -> None:
    """The queries a 0.1.0 store answered, answered the same after the upgrade."""
    assert store.peek("jobs") == 125
    assert store.peek("runs") == 978
    assert [r.data["id"] for r in store.find("jobs")] == [123, 124, 125]
    assert [r.data["id"] for r in store.find("runs", {"jobId": 123})] == [978, 979]
    assert [r.data["id"] for r in store.find("runs", {"jobId": "123"})] == [980]
    assert [r.data["id"] for r in store.find("runs", {"ratio": 1})] == [978, 980]
    assert [r.data["id"] for r in store.find("runs", {"ok": True})] == [978]
    assert [r.data["id"] for r in store.find("runs", {"note": "é ünïcode"})] == [979]
    assert [r.data["id"] for r in store.find("runs", {"nested": {"a": [1, 2], "b": 2}})] == [980]
    assert [r.data["id"] for r in store.find("jobs", {"collection": "x"})] == [125]
    run = store.get("runs", 978)  # a record's id is now the id its data gives
    assert run is not None
    assert run.data["status"] == "DONE"
    assert run.created_at.year >= 2026
    assert run.created_at.tzinfo is not None
    assert store.count("runs") == 3
    assert store.next_value("jobs", 123) == 126
    assert store.save("jobs", {"userId": 1}).id == 126


def test_a_sqlite_store_of_release_0_1_0_upgrades_and_answers_the_same(tmp_path: Path) -> None:
    copy = tmp_path / "store.sqlite3"
    shutil.copyfile(RELEASE_0_1_0, copy)
    url = f"sqlite:///{copy}"
    assert migrate.current(url) == "0001"
    with Store(url) as store:
        assert migrate.current(store.engine) == migrate.head()
        _same_answers(store)


def test_a_postgres_store_at_0001_upgrades_and_answers_the_same(postgres_url: str) -> None:
    """The same records written the way 0.1.0 wrote them (JSON column, timestamptz), then upgraded."""
    migrate.upgrade(postgres_url, "0001")
    source = sa.create_engine(f"sqlite:///{RELEASE_0_1_0}", poolclass=sa.NullPool)
    with source.connect() as connection:
        counters = connection.exec_driver_sql("SELECT name, value FROM pactstub_counters").all()
        records = connection.exec_driver_sql(
            "SELECT collection, data, created_at FROM pactstub_records"
        ).all()
    source.dispose()
    engine = create_engine(DatabaseSettings(url=postgres_url))
    old_records = sa.table(
        "pactstub_records",
        sa.column("collection"),
        sa.column("data", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.table("pactstub_counters", sa.column("name"), sa.column("value")).insert(),
                [{"name": n, "value": v} for n, v in counters],
            )
            connection.execute(
                old_records.insert(),
                [
                    {
                        "collection": c,
                        "data": json.loads(d),
                        "created_at": datetime.fromisoformat(t).replace(tzinfo=UTC),
                    }
                    for c, d, t in records
                ],
            )
    finally:
        engine.dispose()
    with Store(postgres_url) as store:
        _same_answers(store)
    migrate.downgrade(postgres_url, "0001")  # and back, keeping the default session
    with create_engine(DatabaseSettings(url=postgres_url)).connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM pactstub_records").scalar() == 7
