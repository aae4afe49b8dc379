"""offices own their address, window phone, supervision phone and public address; who recorded
each contact; the material a second notice asks for; withdrawn cases as a status of their own

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "address", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column(
                "supervision_phone",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("public_url", sqlmodel.sql.sqltypes.AutoString()))
    # The one phone an office had was printed as the supervision phone: it stays that, and is
    # the window's phone too until the office sets one of its own.
    op.execute("UPDATE office SET supervision_phone = phone")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString()))
    with op.batch_alter_table("secondnotice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("material_slug", sqlmodel.sql.sqltypes.AutoString()))
    with op.batch_alter_table("applicant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("name_hash", sa.String(), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_applicant_phone_hash"), ["phone_hash"])
        batch_op.create_index(batch_op.f("ix_applicant_name_hash"), ["name_hash"])
    _hash_phones_and_names()
    op.execute(
        "UPDATE \"case\" SET status = 'withdrawn' WHERE id IN "
        "(SELECT case_id FROM caseevent WHERE kind = 'case-withdrawn')"
    )


def _hash_phones_and_names() -> None:
    """The lookup hashes of the applicants already in the database (none once purged)."""
    from casework.crypto import decrypt
    from casework.search import name_key, phone_key

    applicant = sa.table(
        "applicant",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("phone", sa.Text),
        sa.column("id_number_hash", sa.String),
        sa.column("phone_hash", sa.String),
        sa.column("name_hash", sa.String),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(applicant)).all():
        if not row.id_number_hash:  # purged: nothing personal left to find
            continue
        connection.execute(
            applicant.update()
            .where(applicant.c.id == row.id)
            .values(phone_hash=phone_key(decrypt(row.phone)), name_hash=name_key(row.name))
        )


def downgrade() -> None:
    op.execute("UPDATE \"case\" SET status = 'closed' WHERE status = 'withdrawn'")
    with op.batch_alter_table("secondnotice", schema=None) as batch_op:
        batch_op.drop_column("material_slug")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("recorded_by")
    with op.batch_alter_table("applicant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applicant_name_hash"))
        batch_op.drop_index(batch_op.f("ix_applicant_phone_hash"))
        batch_op.drop_column("name_hash")
        batch_op.drop_column("phone_hash")
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.drop_column("public_url")
        batch_op.drop_column("supervision_phone")
        batch_op.drop_column("address")
