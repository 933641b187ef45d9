"""Counters and records.

Revision ID: 0001
Revises:
Create Date: 2024-11-27

Hand-written to match ``pactstub.state.models`` exactly (a test compares them):
counters are one row each, records a JSON document per row whose id orders them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pactstub_counters",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pactstub_counters")),
    )
    op.create_table(
        "pactstub_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("collection", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pactstub_records")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_pactstub_records_collection"), "pactstub_records", ["collection"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pactstub_records_collection"), table_name="pactstub_records")
    op.drop_table("pactstub_records")
    op.drop_table("pactstub_counters")
