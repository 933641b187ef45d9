"""Sessions, record ids per collection, the field index, clocks, faults and the journal.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Every counter and record moves into the ``default`` session. A record's id becomes
its id within its collection: the ``id`` field of its data when that is a positive
integer not already taken in the collection (so run 978 is record 978 of ``runs``),
otherwise the next free one. Data is kept as JSON text; times become microseconds since
the epoch. The field index is filled from every record (``pactstub.state.keys``: a
later change of how keys are written needs a revision that rebuilds the index).

Records are copied in batches, streaming, so a large store migrates in bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from pactstub.state.keys import field_key, value_key

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000
_MAX_ID = 2**53 - 1
_DEFAULT = "default"
_KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1_000_000)


def _set_aside(table: str, constraint: str) -> str:
    """Rename ``table`` (and its primary key, whose name PostgreSQL keeps schema-wide)."""
    old = f"{table}_0001"
    op.rename_table(table, old)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER TABLE {old} RENAME CONSTRAINT "{constraint}" TO "{constraint}_0001"')
    return old


def _create_new_tables() -> None:
    op.create_table(
        "pactstub_counters",
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session", "name", name=op.f("pk_pactstub_counters")),
    )
    op.create_table(
        "pactstub_collections",
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session", "name", name=op.f("pk_pactstub_collections")),
    )
    op.create_table(
        "pactstub_records",
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("collection", sa.String(255), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("stage_reads", sa.Integer(), nullable=False),
        sa.Column("stage_since_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session", "collection", "id", name=op.f("pk_pactstub_records")),
    )
    op.create_table(
        "pactstub_record_fields",
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("collection", sa.String(255), nullable=False),
        sa.Column("field", _KEY, nullable=False),
        sa.Column("key", _KEY, nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint(
            "session", "collection", "field", "key", "id", name=op.f("pk_pactstub_record_fields")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "pactstub_clocks",
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("offset_us", sa.BigInteger(), nullable=False),
        sa.Column("frozen_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("session", name=op.f("pk_pactstub_clocks")),
    )
    op.create_table(
        "pactstub_faults",
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("session", "target", name=op.f("pk_pactstub_faults")),
    )
    op.create_table(
        "pactstub_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("session", sa.String(255), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(32), nullable=True),
        sa.Column("interaction", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pactstub_journal")),
        # sequence numbers never go back, even after the journal is cleared (clients poll ?after=N)
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_pactstub_journal_session"), "pactstub_journal", ["session"], unique=False)


def _old_records(bind: sa.Connection, table: str) -> Iterator[tuple[int, str, Any, datetime]]:
    old = sa.table(
        table,
        sa.column("id", sa.BigInteger()),
        sa.column("collection", sa.String()),
        sa.column("data", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    query = sa.select(old.c.id, old.c.collection, sa.cast(old.c.data, sa.Text()), old.c.created_at)
    last = 0
    while True:  # keyset pages: bounded memory, and no cursor held across the inserts
        rows = bind.execute(query.where(old.c.id > last).order_by(old.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for row_id, collection, text, created in rows:
            yield int(row_id), collection, json.loads(text), created
        last = int(rows[-1][0])


def _explicit_id(data: Any) -> int | None:
    given = data.get("id") if isinstance(data, dict) else None
    if isinstance(given, int) and not isinstance(given, bool) and 1 <= given <= _MAX_ID:
        return given
    return None


def _copy_records(bind: sa.Connection, old: str) -> None:
    """Give each record its id in its collection, copy it, and index its fields."""
    wanted: dict[str, set[int]] = {}
    for _, collection, data, _ in _old_records(bind, old):
        given = _explicit_id(data)
        if given is not None:
            wanted.setdefault(collection, set()).add(given)
    used: dict[str, set[int]] = {}
    last: dict[str, int] = {name: max(ids) for name, ids in wanted.items()}
    records = sa.table("pactstub_records", *(sa.column(c) for c in (
        "session", "collection", "id", "data", "created_us", "updated_us", "stage_reads", "stage_since_us")))  # fmt: skip
    fields = sa.table("pactstub_record_fields", *(sa.column(c) for c in ("session", "collection", "field", "key", "id")))
    record_rows: list[dict[str, Any]] = []
    field_rows: list[dict[str, Any]] = []
    for _, collection, data, created in _old_records(bind, old):
        taken = used.setdefault(collection, set())
        record_id = _explicit_id(data)
        if record_id is None or record_id in taken:
            record_id = last.get(collection, 0) + 1
            last[collection] = record_id
        taken.add(record_id)
        at = _micros(created)
        record_rows.append({"session": _DEFAULT, "collection": collection, "id": record_id,
                            "data": json.dumps(data), "created_us": at, "updated_us": at,
                            "stage_reads": 0, "stage_since_us": at})  # fmt: skip
        field_rows.extend(
            {"session": _DEFAULT, "collection": collection, "field": field_key(name), "key": value_key(value), "id": record_id}
            for name, value in (data.items() if isinstance(data, dict) else ())
        )
        if len(record_rows) >= _BATCH:
            bind.execute(records.insert(), record_rows)
            bind.execute(fields.insert(), field_rows)
            record_rows, field_rows = [], []
    if record_rows:
        bind.execute(records.insert(), record_rows)
    if field_rows:
        bind.execute(fields.insert(), field_rows)
    collections = sa.table("pactstub_collections", *(sa.column(c) for c in ("session", "name", "last_id", "size")))
    rows = [{"session": _DEFAULT, "name": name, "last_id": last.get(name, 0), "size": len(ids)} for name, ids in used.items()]
    if rows:
        bind.execute(collections.insert(), rows)


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index(op.f("ix_pactstub_records_collection"), table_name="pactstub_records")
    old_counters = _set_aside("pactstub_counters", "pk_pactstub_counters")
    old_records = _set_aside("pactstub_records", "pk_pactstub_records")
    _create_new_tables()
    op.execute(
        f"INSERT INTO pactstub_counters (session, name, value) SELECT '{_DEFAULT}', name, value FROM {old_counters}"
    )
    _copy_records(bind, old_records)
    op.drop_table(old_counters)
    op.drop_table(old_records)
    if bind.dialect.name == "postgresql":  # plan lookups with the backfilled tables' statistics
        op.execute("ANALYZE pactstub_records, pactstub_record_fields, pactstub_collections")


def downgrade() -> None:
    """Back to one global set: the default session's counters and records (ids renumbered)."""
    bind = op.get_bind()
    for table in ("pactstub_journal", "pactstub_faults", "pactstub_clocks", "pactstub_record_fields", "pactstub_collections"):
        if table == "pactstub_journal":
            op.drop_index(op.f("ix_pactstub_journal_session"), table_name=table)
        op.drop_table(table)
    new_counters = _set_aside("pactstub_counters", "pk_pactstub_counters")
    new_records = _set_aside("pactstub_records", "pk_pactstub_records")
    op.create_table(
        "pactstub_counters",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pactstub_counters")),
    )
    op.create_table(
        "pactstub_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("collection", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pactstub_records")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_pactstub_records_collection"), "pactstub_records", ["collection"], unique=False)
    op.execute(
        f"INSERT INTO pactstub_counters (name, value) SELECT name, value FROM {new_counters} WHERE session = '{_DEFAULT}'"
    )
    source = sa.table(new_records, *(sa.column(c) for c in ("session", "collection", "id", "data", "created_us")))
    target = sa.table("pactstub_records", sa.column("collection"), sa.column("data", sa.JSON()), sa.column("created_at", sa.DateTime(timezone=True)))
    query = sa.select(source.c.collection, source.c.data, source.c.created_us).where(source.c.session == _DEFAULT)
    rows = bind.execute(query.order_by(source.c.created_us, source.c.collection, source.c.id)).all()
    for start in range(0, len(rows), _BATCH):
        bind.execute(
            target.insert(),
            [{"collection": c, "data": json.loads(d), "created_at": datetime.fromtimestamp(us / 1e6, UTC)}
             for c, d, us in rows[start : start + _BATCH]],  # fmt: skip
        )
    op.drop_table(new_counters)
    op.drop_table(new_records)
