"""the office's rules: time limits and their pauses, second notices, ratings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_limit_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("extension_days", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "clockpause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("material_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_clockpause_case_id", "clockpause", ["case_id"])
    op.create_table(
        "secondnotice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_secondnotice_case_id", "secondnotice", ["case_id"])
    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rated_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("followed_up_at", UTCDateTime(), nullable=True),
        sa.Column("follow_up_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("followed_up_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("overdue_flagged_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("rating")
    op.drop_index("ix_secondnotice_case_id", table_name="secondnotice")
    op.drop_table("secondnotice")
    op.drop_index("ix_clockpause_case_id", table_name="clockpause")
    op.drop_table("clockpause")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("extension_days")
        batch_op.drop_column("time_limit_days")
