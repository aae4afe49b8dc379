"""safe on an office network: server-side sessions that end, attempts counted in the case
database (shared by every workbench process)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.columns import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websession",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("csrf", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_why", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_websession_username", "websession", ["username"])
    op.create_table(
        "rateevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rateevent_bucket", "rateevent", ["bucket"])
    op.create_index("ix_rateevent_key", "rateevent", ["key"])
    op.create_index("ix_rateevent_at", "rateevent", ["at"])


def downgrade() -> None:
    for index in ("ix_rateevent_at", "ix_rateevent_key", "ix_rateevent_bucket"):
        op.drop_index(index, table_name="rateevent")
    op.drop_table("rateevent")
    op.drop_index("ix_websession_username", table_name="websession")
    op.drop_table("websession")
