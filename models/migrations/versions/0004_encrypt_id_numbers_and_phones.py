"""encrypt id numbers and phones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:55:27.481086
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applicant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("id_number_hash", sa.String(), nullable=False, server_default="")
        )
        batch_op.alter_column("id_number", existing_type=sa.VARCHAR(), type_=sa.Text())
        batch_op.alter_column("phone", existing_type=sa.VARCHAR(), type_=sa.Text())
        batch_op.drop_index(batch_op.f("ix_applicant_id_number"))
        batch_op.create_index(batch_op.f("ix_applicant_id_number_hash"), ["id_number_hash"])
    # Encrypt what was stored in clear before this revision.
    from casework.crypto import encrypt, lookup_hash

    applicant = sa.table(
        "applicant",
        sa.column("id", sa.Integer),
        sa.column("id_number", sa.Text),
        sa.column("phone", sa.Text),
        sa.column("id_number_hash", sa.String),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(applicant)).all():
        connection.execute(
            applicant.update()
            .where(applicant.c.id == row.id)
            .values(
                id_number=encrypt(row.id_number),
                phone=encrypt(row.phone),
                id_number_hash=lookup_hash(row.id_number),
            )
        )


def downgrade() -> None:
    from casework.crypto import decrypt

    applicant = sa.table(
        "applicant",
        sa.column("id", sa.Integer),
        sa.column("id_number", sa.Text),
        sa.column("phone", sa.Text),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(applicant)).all():
        connection.execute(
            applicant.update()
            .where(applicant.c.id == row.id)
            .values(id_number=decrypt(row.id_number), phone=decrypt(row.phone))
        )
    with op.batch_alter_table("applicant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applicant_id_number_hash"))
        batch_op.create_index(batch_op.f("ix_applicant_id_number"), ["id_number"])
        batch_op.drop_column("id_number_hash")
