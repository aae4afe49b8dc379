"""letter language of a case

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cases opened before letters had a language were all written in Chinese.
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "letter_lang",
                sqlmodel.sql.sqltypes.AutoString(),
                server_default="zh",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("letter_lang")
