"""The store's tables, declared once for the statements and for Alembic autogenerate.

The schema itself is created only by the Alembic scripts in ``migrations/``; these
classes must match them (``tests/state/test_store_migrations.py`` compares the two),
so a change here always comes with a new revision.

Table names carry a ``pactstub_`` prefix because the store may share a PostgreSQL
database with the application under test. Every row belongs to a *session* (the
``default`` one unless a request names another), so parallel test suites on one
server never see each other's counters, records, clock or journal.

Times are integers, microseconds since the epoch: the same on SQLite and PostgreSQL,
cheap to compare, and free of time-zone conversions on the hot path.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "CLOCKS",
    "COLLECTIONS",
    "COUNTERS",
    "FAULTS",
    "FIELDS",
    "JOURNAL",
    "NAMING_CONVENTION",
    "RECORDS",
    "Base",
]

#: Deterministic constraint names, so migrations can drop or alter them by name
#: on every backend (SQLite batch mode needs names to recreate tables).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Session and collection names (checked before every write, see ``documents``).
NAME = String(255)
#: Index keys compare byte by byte on both databases (``C`` collation on PostgreSQL;
#: SQLite's default BINARY), so ordering by a key is the same everywhere.
KEY = String().with_variant(String(collation="C"), "postgresql")


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint by convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CounterRow(Base):
    """One named sequence of a session; ``value`` is the last value handed out.

    A single row per counter lets ``UPDATE ... SET value = value + 1 RETURNING`` be
    the whole increment: the row lock (PostgreSQL) or the write lock (SQLite) makes
    it atomic across threads, processes and servers.
    """

    __tablename__ = "pactstub_counters"

    session: Mapped[str] = mapped_column(NAME, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CollectionRow(Base):
    """A collection of a session: the last record id it gave out and how many records it holds.

    ``last_id`` numbers records that are saved without an ``id`` of their own (and
    never goes back, so an id is not given twice even after a delete); ``size`` keeps
    counting a collection from growing with the collection.
    """

    __tablename__ = "pactstub_collections"

    session: Mapped[str] = mapped_column(NAME, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)


class RecordRow(Base):
    """One JSON object of a collection, stored as the text ``json.dumps`` writes.

    Text, not a JSON column: no dialect parses it (PostgreSQL's JSON types refuse or
    mangle ``\\u0000`` and lone surrogates), and equality is answered by the field
    index, not by JSON operators. ``stage_reads``/``stage_since`` are the bookkeeping
    of a lifecycle: how often the record was read in its current state, and since when
    (on the store's clock) it is in it.
    """

    __tablename__ = "pactstub_records"

    session: Mapped[str] = mapped_column(NAME, primary_key=True)
    collection: Mapped[str] = mapped_column(NAME, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)
    created_us: Mapped[int] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
    stage_reads: Mapped[int] = mapped_column(Integer)
    stage_since_us: Mapped[int] = mapped_column(BigInteger)


class FieldRow(Base):
    """One top-level field of one record, as an index entry.

    The primary key is the whole row, so the table is the index: equality on a field is
    a range of the key ``(session, collection, field, key)`` already ordered by record id,
    and ordering by a field is a walk of ``(session, collection, field)`` in key order.
    See :mod:`pactstub.state.keys` for how a JSON value becomes its ``key``.
    """

    __tablename__ = "pactstub_record_fields"
    __table_args__ = ({"sqlite_with_rowid": False},)

    session: Mapped[str] = mapped_column(NAME, primary_key=True)
    collection: Mapped[str] = mapped_column(NAME, primary_key=True)
    field: Mapped[str] = mapped_column(KEY, primary_key=True)
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class ClockRow(Base):
    """A session's clock, when a test moved it: an offset from real time, or frozen at a moment."""

    __tablename__ = "pactstub_clocks"

    session: Mapped[str] = mapped_column(NAME, primary_key=True)
    offset_us: Mapped[int] = mapped_column(BigInteger)
    frozen_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class FaultRow(Base):
    """A fault or delay set through the admin API, shared by every worker and server."""

    __tablename__ = "pactstub_faults"

    session: Mapped[str] = mapped_column(NAME, primary_key=True)
    #: the interaction's description, or ``*`` for every interaction
    target: Mapped[str] = mapped_column(Text, primary_key=True)
    #: the fault as JSON (see :mod:`pactstub.faults`)
    config: Mapped[str] = mapped_column(Text)


class JournalRow(Base):
    """One request as the stub saw and answered it; the details are one JSON document.

    The columns are what the journal is filtered by; ``size`` is the length of
    ``entry``, so the journal can be held to a number of bytes as well as of rows.
    """

    __tablename__ = "pactstub_journal"
    #: sequence numbers never go back, even after the journal is cleared: clients poll ``?after=N``
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    session: Mapped[str] = mapped_column(NAME, index=True)
    at_us: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(Integer)
    #: why no interaction answered as the pact says (``None``: one did)
    problem: Mapped[str | None] = mapped_column(String(32), nullable=True)
    interaction: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    entry: Mapped[str] = mapped_column(Text)


#: The tables themselves, for the store's statements.
COUNTERS: Table = Base.metadata.tables[CounterRow.__tablename__]
COLLECTIONS: Table = Base.metadata.tables[CollectionRow.__tablename__]
RECORDS: Table = Base.metadata.tables[RecordRow.__tablename__]
FIELDS: Table = Base.metadata.tables[FieldRow.__tablename__]
CLOCKS: Table = Base.metadata.tables[ClockRow.__tablename__]
FAULTS: Table = Base.metadata.tables[FaultRow.__tablename__]
JOURNAL: Table = Base.metadata.tables[JournalRow.__tablename__]
