"""The two tables of the store, declared once for the ORM and for Alembic autogenerate.

The schema itself is created only by the Alembic scripts in ``migrations/``; these
classes must match them (``tests/state/test_migrations.py`` compares the two), so a
change here always comes with a new revision.

Table names carry a ``pactstub_`` prefix because the store may share a PostgreSQL
database with the application under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["COUNTERS", "NAMING_CONVENTION", "RECORDS", "Base", "CounterRow", "RecordRow", "UTCDateTime"]

#: Deterministic constraint names, so migrations can drop or alter them by name
#: on every backend (SQLite batch mode needs names to recreate tables).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint by convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    PostgreSQL keeps ``timestamptz`` but hands it back in the session time zone,
    SQLite keeps naive text; both come back here as UTC-aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the store keeps UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CounterRow(Base):
    """One named sequence; ``value`` is the last value handed out.

    A single row per counter lets ``UPDATE ... SET value = value + 1 RETURNING`` be
    the whole increment: the row lock (PostgreSQL) or the write lock (SQLite) makes
    it atomic across threads, processes and servers.
    """

    __tablename__ = "pactstub_counters"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class RecordRow(Base):
    """One JSON document of a collection; ``id`` gives the insertion order."""

    __tablename__ = "pactstub_records"
    # AUTOINCREMENT on SQLite: ids are never reused after a reset, like a PostgreSQL
    # sequence, so "ordered by id" stays "ordered by insertion".
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    collection: Mapped[str] = mapped_column(String(255), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: The tables themselves, for the store's Core statements.
COUNTERS: Table = Base.metadata.tables[CounterRow.__tablename__]
RECORDS: Table = Base.metadata.tables[RecordRow.__tablename__]
