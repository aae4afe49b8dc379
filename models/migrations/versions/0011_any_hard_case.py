"""any hard case: versions of case types (a case keeps its own), a case's handler, title and
problem, each material's own chain of agencies and the clerk's words, waived materials,
the agency directory (desk, hours, notes, roles filled per case, agencies of one case
only, how quickly each answers), documents per material

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import EncryptedText, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "casetypeversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug", "version"),
    )
    op.create_index("ix_casetypeversion_slug", "casetypeversion", ["slug"])
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("material_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("filename", EncryptedText(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_via", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_case_id", "document", ["case_id"])
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("playbook_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("title", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("problem", EncryptedText()))
    with op.batch_alter_table("material", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("asks", EncryptedText()))
        batch_op.add_column(sa.Column("waived_reason", sqlmodel.sql.sqltypes.AutoString()))
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("office_hours", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("notes", sqlmodel.sql.sqltypes.AutoString()))
        batch_op.add_column(sa.Column("case_id", sa.Integer()))
        batch_op.add_column(
            sa.Column("role", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("answers_within_days", sa.Integer()))
        batch_op.create_index("ix_agency_case_id", ["case_id"])
        batch_op.create_foreign_key("fk_agency_case_id", "case", ["case_id"], ["id"])
    # The cases already open had their route in their case type's file: it becomes theirs.
    op.execute('UPDATE "case" SET handled_by = taken_by')
    _chains_from_playbooks()
    _roles_from_playbooks()


def _roles_from_playbooks() -> None:
    """An agency a case type now calls a role (原单位人事部门) loses the one shared mailbox
    it had: each case names its own."""
    from casework.playbook import all_playbooks

    agency = sa.table(
        "agency",
        sa.column("slug", sa.String),
        sa.column("role", sa.Boolean),
        sa.column("email", sa.String),
        sa.column("phone", sa.String),
        sa.column("address", sa.String),
    )
    roles = {a.slug for p in all_playbooks().values() for a in p.agencies if a.role}
    if roles:
        op.get_bind().execute(
            agency.update()
            .where(agency.c.slug.in_(sorted(roles)))
            .values(role=True, email=None, phone=None, address=None)
        )


def _chains_from_playbooks() -> None:
    from casework.playbook import all_playbooks

    playbooks = all_playbooks()
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("playbook", sa.String))
    material = sa.table(
        "material",
        sa.column("id", sa.Integer),
        sa.column("case_id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("chain", sa.JSON),
    )
    connection = op.get_bind()
    kinds = dict(connection.execute(sa.select(case.c.id, case.c.playbook)).all())
    for row in connection.execute(sa.select(material)).all():
        playbook = playbooks.get(kinds.get(row.case_id, ""))
        spec = playbook.material(row.slug) if playbook else None
        if spec is not None and spec.agencies:
            connection.execute(
                material.update().where(material.c.id == row.id).values(chain=spec.agencies)
            )


def downgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_constraint("fk_agency_case_id", type_="foreignkey")
        batch_op.drop_index("ix_agency_case_id")
        for column in ("answers_within_days", "role", "case_id", "notes", "office_hours"):
            batch_op.drop_column(column)
        batch_op.drop_column("department")
    with op.batch_alter_table("material", schema=None) as batch_op:
        batch_op.drop_column("waived_reason")
        batch_op.drop_column("asks")
        batch_op.drop_column("chain")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("problem")
        batch_op.drop_column("title")
        batch_op.drop_column("handled_by")
        batch_op.drop_column("playbook_version")
    op.drop_index("ix_document_case_id", table_name="document")
    op.drop_table("document")
    op.drop_index("ix_casetypeversion_slug", table_name="casetypeversion")
    op.drop_table("casetypeversion")
