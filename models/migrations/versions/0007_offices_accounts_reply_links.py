"""offices, accounts, reply links; the office and clerk of a case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("office_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["office_code"], ["office.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_username", "account", ["username"], unique=True)
    op.create_table(
        "replylink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id"),
    )
    op.create_index("ix_replylink_code", "replylink", ["code"], unique=True)
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_code", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("taken_by", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("intake_key", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.create_unique_constraint("uq_case_intake_key", ["intake_key"])
        batch_op.create_index("ix_case_office_code", ["office_code"])


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_office_code")
        batch_op.drop_constraint("uq_case_intake_key", type_="unique")
        batch_op.drop_column("intake_key")
        batch_op.drop_column("taken_by")
        batch_op.drop_column("office_code")
    op.drop_index("ix_replylink_code", table_name="replylink")
    op.drop_table("replylink")
    op.drop_index("ix_account_username", table_name="account")
    op.drop_table("account")
    op.drop_table("office")
