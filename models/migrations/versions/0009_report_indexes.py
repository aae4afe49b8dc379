"""indexes for a city's reports: cases by month opened and closed, contacts by month and agency,
and a request's follow-ups (read for every open request by the board and the sweep)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 07:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_opened_at", "case", ["opened_at"])
    op.create_index("ix_case_closed_at", "case", ["closed_at"])
    op.create_index("ix_contact_occurred_at", "contact", ["occurred_at"])
    op.create_index("ix_contact_kind_agency_slug", "contact", ["kind", "agency_slug"])
    op.create_index("ix_contact_in_reply_to", "contact", ["in_reply_to"])


def downgrade() -> None:
    op.drop_index("ix_contact_in_reply_to", table_name="contact")
    op.drop_index("ix_contact_kind_agency_slug", table_name="contact")
    op.drop_index("ix_contact_occurred_at", table_name="contact")
    op.drop_index("ix_case_closed_at", table_name="case")
    op.drop_index("ix_case_opened_at", table_name="case")
